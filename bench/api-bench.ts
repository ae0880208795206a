// API benchmark: requests/s and p50/p99 latency over real HTTP (keep-alive, N concurrent
// clients) for GET /payments/{id} and POST /transfers on the whole platform (SQLite, durable
// settings, real sessions, real ledger), next to a bare Fastify route in the same process and
// run, so that the figures say what the platform adds on this machine.
//
//   npm run bench:api
//   SETTLE_BENCH_SECONDS=5 (per workload, default 5)  SETTLE_BENCH_CONCURRENCY=16 (default)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildPlatformApp, createPlatform, stopBackground } from '../src/platform.ts';
import { testConfig } from '../src/payments/payment-testkit.ts';
import { assetsFromChains } from '../src/payments/payment-rules.ts';
import { ledgerAccountId } from '../src/ledger/ledger-types.ts';

const SECONDS = Number(process.env.SETTLE_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.SETTLE_BENCH_CONCURRENCY ?? 16);
/** Comma-separated subset of workloads to run (bare,get,transfer), for profiling one at a time. */
const ONLY = new Set((process.env.SETTLE_BENCH_ONLY ?? 'bare,get,transfer').split(','));

interface Result {
  name: string;
  ok: number;
  failed: number;
  seconds: number;
  latencies_ms: number[];
  /** SQLite statements executed and durable commits (fsyncs with synchronous=FULL) during the run. */
  statements: number;
  commits: number;
}

// Counts every statement better-sqlite3 runs (Kysely's and the ledger's prepared ones alike) and
// every commit that reaches the disk: an explicit COMMIT, or a write outside any transaction
// (autocommit). Cheap: a counter and a flag test around each call.
const sqlCount = { statements: 0, commits: 0 };
/** SETTLE_BENCH_TRACE=1 prints the statements of one request of each workload before it runs. */
const TRACE = process.env.SETTLE_BENCH_TRACE === '1';
let tracing = false;
/** SETTLE_BENCH_PROFILE=<dir> writes a CPU profile of each workload's steady state (no startup). */
const PROFILE_DIR = process.env.SETTLE_BENCH_PROFILE ?? null;
const timeBySql = new Map<string, { n: number; ns: bigint }>();
function countStatements(raw: BetterSqlite3.Database): void {
  const proto = Object.getPrototypeOf(raw.prepare('select 1')) as Record<string, unknown>;
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = proto[method] as (this: BetterSqlite3.Statement, ...args: unknown[]) => unknown;
    proto[method] = function (this: BetterSqlite3.Statement, ...args: unknown[]) {
      sqlCount.statements++;
      if (tracing) console.log(`  sql: ${this.source.replace(/\s+/g, ' ').slice(0, 160)}`);
      if (/^\s*commit\b/i.test(this.source) || (!this.reader && !raw.inTransaction && !/^\s*begin\b/i.test(this.source))) sqlCount.commits++;
      if (!TRACE) return original.apply(this, args);
      const t = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const key = this.source.replace(/\s+/g, ' ').slice(0, 100);
        const e = timeBySql.get(key) ?? { n: 0, ns: 0n };
        e.n++;
        e.ns += process.hrtime.bigint() - t;
        timeBySql.set(key, e);
      }
    };
  }
}

function call(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function run(name: string, port: number, make: (i: number) => { method: string; path: string; headers: Record<string, string>; body: string | null; expect: number }): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let n = 0;
  if (TRACE) {
    const r = make(-1);
    tracing = true;
    await call(agent, port, r.method, r.path, r.headers, r.body);
    tracing = false;
    timeBySql.clear();
  }
  const session = PROFILE_DIR ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const before = { ...sqlCount };
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const r = make(n++);
        const s = performance.now();
        const status = await call(agent, port, r.method, r.path, r.headers, r.body).catch(() => 0);
        latencies.push(performance.now() - s);
        if (status === r.expect) ok++;
        else failed++;
      }
    }),
  );
  agent.destroy();
  if (session && PROFILE_DIR) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(PROFILE_DIR, `${name.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  return { name, ok, failed, seconds: (performance.now() - t0) / 1000, latencies_ms: latencies, statements: sqlCount.statements - before.statements, commits: sqlCount.commits - before.commits };
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0;
}

function printSqlTimes(): void {
  const rows = [...timeBySql.entries()].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 12);
  for (const [src, e] of rows) console.log(`    ${(Number(e.ns) / 1e6).toFixed(0).padStart(6)} ms  ${String(e.n).padStart(7)} x ${(Number(e.ns) / e.n / 1e3).toFixed(1).padStart(7)} us  ${src}`);
  timeBySql.clear();
}

function print(r: Result): void {
  if (TRACE) printSqlTimes();
  const sorted = [...r.latencies_ms].sort((a, b) => a - b);
  console.log(`${r.name.padEnd(28)} ${String(Math.round(r.ok / r.seconds)).padStart(7)} req/s   p50 ${pct(sorted, 50).toFixed(2).padStart(7)} ms   p99 ${pct(sorted, 99).toFixed(2).padStart(7)} ms   ${(r.statements / Math.max(1, r.ok + r.failed)).toFixed(1).padStart(5)} stmts/req  ${(r.commits / Math.max(1, r.ok + r.failed)).toFixed(2)} commits/req   ok ${r.ok}  failed ${r.failed}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-api-bench-'));
  const db = openDb({ kind: 'sqlite', path: join(dir, 'settle.db'), synchronous: 'FULL' });
  await migrateToLatest(db);
  const config = testConfig({ SETTLE_DATA_DIR: dir });
  const platform = await createPlatform(config, db);
  const app = await buildPlatformApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;

  const bare = Fastify({ logger: false });
  bare.get('/bare', async () => ({ ok: true }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as AddressInfo).port;

  // Users, sessions and money: alice sends ETH (no KYC amount limit on non-stablecoins) to bob.
  await platform.ledger.ensureAssets(assetsFromChains(config.chains).map((a) => ({ code: a.code, decimals: a.decimals, chain_id: a.chain_id, contract_address: a.contract_address })));
  const alice = await platform.accounts.createUserWithRoles('alice@bench.test', 'correct horse battery staple 9', []);
  await platform.accounts.createUserWithRoles('bob@bench.test', 'correct horse battery staple 9', []);
  const token = (await platform.accounts.issueSessionForTests(alice.id)).token;
  const ext = ledgerAccountId('platform', 'platform', 'ETH', 'external');
  const avail = ledgerAccountId('user', alice.id, 'ETH', 'user_available');
  await platform.ledger.ensureAccounts([
    { id: ext, asset: 'ETH', owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
    { id: avail, asset: 'ETH', owner_type: 'user', owner_id: alice.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
  ]);
  await platform.ledger.createTransfers([{ id: 'bench:fund', debit_account_id: ext, credit_account_id: avail, amount_minor: 10n ** 30n, asset: 'ETH', reason: 'bench.fund', reference: null }]);
  const auth = { authorization: `Bearer ${token}` };
  const first = await app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...auth, 'idempotency-key': 'warm' }, payload: { to_email: 'bob@bench.test', asset: 'ETH', amount: '0.001' } });
  if (first.statusCode !== 201) throw new Error(`setup transfer failed: ${first.body}`);
  const paymentId = (first.json() as { id: string }).id;

  countStatements(db.sqlite!);
  console.log(`Settle API bench: ${CONCURRENCY} concurrent keep-alive clients, ${SECONDS} s per workload, SQLite synchronous=FULL, node ${process.version}`);
  if (ONLY.has('bare')) print(await run('bare Fastify GET /bare', barePort, () => ({ method: 'GET', path: '/bare', headers: {}, body: null, expect: 200 })));
  if (ONLY.has('get')) print(await run('GET /payments/{id}', port, () => ({ method: 'GET', path: `/api/v1/payments/${paymentId}`, headers: auth, body: null, expect: 200 })));
  const runId = Date.now().toString(36);
  if (ONLY.has('transfer')) print(await run('POST /transfers', port, (i) => ({ method: 'POST', path: '/api/v1/transfers', headers: { ...auth, 'idempotency-key': `bench-${runId}-${i}` }, body: JSON.stringify({ to_email: 'bob@bench.test', asset: 'ETH', amount: '0.000001' }), expect: 201 })));

  await bare.close();
  await app.close();
  await stopBackground(platform);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
