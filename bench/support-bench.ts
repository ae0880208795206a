// Support benchmark: inbound mails per second through the platform's SMTP server into cases, and
// the time from SMTP accept (the 250, given only after the sealed mail and its job commit) to the
// case message stored (the processing job's commit), p50 / p99. The whole platform runs in this
// process on SQLite (durable settings) with its job runner and workers started as in production;
// acknowledgements go out to an in-process SMTP server. Clients send over real SMTP with
// nodemailer, SETTLE_BENCH_CONCURRENCY connections at once, each mail from its own sender (each
// opens a case and gets an acknowledgement), every fifth one a reply threaded by In-Reply-To.
//
//   npm run bench:support
//   SETTLE_BENCH_MAILS=300  SETTLE_BENCH_CONCURRENCY=8
//
// (The case page's "agent reply -> customer's open page" figure belongs to the web bench once the
// case page exists; it is not measured here.)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig } from '../src/config.ts';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createPlatform, startBackground, stopBackground } from '../src/platform.ts';
import { startDevMailbox } from '../src/notify/notify.ts';

const MAILS = Number(process.env.SETTLE_BENCH_MAILS ?? 300);
const CONCURRENCY = Number(process.env.SETTLE_BENCH_CONCURRENCY ?? 8);
const DESK = 'help@bench.test';
const WAIT_MS_MAX = 300_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-support-bench-'));
  const outbox = await startDevMailbox(null);
  const config = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_INBOUND_SMTP_PORT: '0', SETTLE_SUPPORT_EMAIL: DESK, SETTLE_SMTP_URL: outbox.url, SETTLE_LOG_LEVEL: 'warn' }, dir);
  const db = openDb({ kind: 'sqlite', path: join(dir, 'settle.db') });
  await migrateToLatest(db);
  const platform = await createPlatform(config, db, { job_poll_ms: 50 });
  startBackground(platform);
  const port = platform.supportChannels!.inbound!.port;

  const started = Date.now();
  let next = 0;
  const client = async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
    for (let i = next++; i < MAILS; i = next++) {
      // Every fifth mail answers the sender's mail four before it (In-Reply-To): it joins that case.
      const reply = i % 5 === 4;
      await transport.sendMail({
        from: `customer${reply ? i - 4 : i}@bench.test`, to: DESK, subject: `Deposit ${reply ? i - 4 : i} missing`,
        text: `Hello, my deposit ${i} has not arrived.\n\nOn Mon, Support wrote:\n> earlier`, messageId: `<bench-${i}@bench.test>`,
        ...(reply ? { inReplyTo: `<bench-${i - 4}@bench.test>` } : {}),
      });
    }
    transport.close();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => client()));
  const accepted_ms = Date.now() - started;

  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const left = await db.kysely.selectFrom('support_inbound_mails').select(({ fn }) => fn.countAll<number>().as('n')).where('status', '=', 'received').executeTakeFirstOrThrow();
    if (Number(left.n) === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rows = await db.kysely.selectFrom('support_inbound_mails').select(['status', 'received_at_ms', 'processed_at_ms']).execute();
  const done_ms = Math.max(...rows.map((r) => Number(r.processed_at_ms ?? 0))) - started;
  const latencies = rows.filter((r) => r.processed_at_ms !== null).map((r) => Number(r.processed_at_ms) - Number(r.received_at_ms)).sort((a, b) => a - b);
  const cases = await db.kysely.selectFrom('support_cases').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();

  console.log(`support bench: ${MAILS} mails, ${CONCURRENCY} SMTP connections, SQLite, job poll 50 ms, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`  SMTP accepted (stored + job) : ${(MAILS / (accepted_ms / 1000)).toFixed(1)} mails/s (${accepted_ms} ms for all)`);
  console.log(`  into cases (processed)       : ${(rows.filter((r) => r.status === 'processed').length / (done_ms / 1000)).toFixed(1)} mails/s (${done_ms} ms from first send to last case message)`);
  console.log(`  accept -> case stored        : p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`);
  console.log(`  cases ${Number(cases.n)}, processed ${rows.filter((r) => r.status === 'processed').length}, ignored ${rows.filter((r) => r.status === 'ignored').length}, waiting ${rows.filter((r) => r.status === 'received').length}`);

  await stopBackground(platform);
  await db.close();
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
