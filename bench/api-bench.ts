// API benchmark: requests/s, p50/p99 latency, SQL statements and commits per request, and the
// server's CPU time per request, over real HTTP (keep-alive, N concurrent clients) for
// GET /payments/{id} and POST /transfers on the whole platform (SQLite, durable settings, real
// sessions, real ledger), next to a bare Fastify route in the same process and run, so that the
// figures say what the platform adds on this machine.
//
// The clients run in a worker thread, so that the server's thread spends its time serving only;
// "server CPU/req" is that thread's CPU time (Linux /proc) divided by requests, which stays
// meaningful when other processes share the machine (throughput and latency then do not); "sys"
// is the part spent in the kernel (SQLite's writes, fsyncs and temporary files).
// Each workload gets a warm-up (not counted) before it is measured.
//
//   npm run bench:api
//   SETTLE_BENCH_SECONDS=10 (measured, per workload)  SETTLE_BENCH_WARMUP_SECONDS=2
//   SETTLE_BENCH_CONCURRENCY=16  SETTLE_BENCH_ONLY=bare,healthz,get,transfer (a subset)
//   SETTLE_BENCH_PROFILE=<dir>   a CPU profile of each workload's measured part (no startup)
//   SETTLE_BENCH_TRACE=1         the statements of one request of each workload, and SQL time by statement
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildPlatformApp, createPlatform, stopBackground } from '../src/platform.ts';
import { testConfig } from '../test/helpers/payment-testkit.ts';
import { assetsFromChains } from '../src/payments/payment-rules.ts';
import { ledgerAccountId } from '../src/ledger/ledger-types.ts';

const SECONDS = Number(process.env.SETTLE_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.SETTLE_BENCH_WARMUP_SECONDS ?? 2);
const CONCURRENCY = Number(process.env.SETTLE_BENCH_CONCURRENCY ?? 16);
const ONLY = new Set((process.env.SETTLE_BENCH_ONLY ?? 'bare,healthz,get,transfer').split(','));

/** What the client worker sends: one request shape; `key_prefix` numbers an Idempotency-Key per request. */
interface Workload {
  port: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  expect: number;
  key_prefix: string | null;
}

interface ClientResult {
  ok: number;
  failed: number;
  seconds: number;
  latencies_ms: number[];
}

// The client side, run in a worker thread from this source (plain JavaScript, so the worker loads
// nothing of the platform): CONCURRENCY loops for `seconds`, numbering Idempotency-Keys from `first`.
const CLIENT_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { request, Agent } = require('node:http');
function call(agent, w, i) {
  const headers = { ...w.headers, ...(w.key_prefix ? { 'idempotency-key': w.key_prefix + '-' + i } : {}) };
  if (w.body) { headers['content-type'] = 'application/json'; headers['content-length'] = String(Buffer.byteLength(w.body)); }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: w.port, method: w.method, path: w.path, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode || 0));
    });
    req.on('error', reject);
    if (w.body) req.write(w.body);
    req.end();
  });
}
async function drive(m) {
  const agent = new Agent({ keepAlive: true, maxSockets: m.concurrency });
  const latencies = [];
  let ok = 0, failed = 0, n = m.first;
  const t0 = performance.now();
  const end = t0 + m.seconds * 1000;
  await Promise.all(Array.from({ length: m.concurrency }, async () => {
    do {
      const s = performance.now();
      const status = await call(agent, m.w, n++).catch(() => 0);
      if (m.record) latencies.push(performance.now() - s);
      if (status === m.w.expect) ok++; else failed++;
    } while (performance.now() < end);
  }));
  agent.destroy();
  return { ok, failed, seconds: (performance.now() - t0) / 1000, latencies_ms: latencies };
}
parentPort.on('message', (m) => { drive(m).then((r) => parentPort.postMessage(r)); });
`;

interface ClientRun {
  w: Workload;
  seconds: number;
  first: number;
  record: boolean;
  concurrency: number;
}

let client: Worker | null = null;
function inClient(m: ClientRun): Promise<ClientResult> {
  client ??= new Worker(CLIENT_SOURCE, { eval: true });
  const c = client;
  return new Promise((resolve, reject) => {
    c.once('message', resolve);
    c.once('error', reject);
    c.postMessage(m);
  });
}

// Counts every statement better-sqlite3 runs (Kysely's and the ledger's prepared ones alike) and
// every commit that reaches the disk: an explicit COMMIT, or a write outside any transaction
// (autocommit). Cheap: a counter and a flag test around each call.
const sqlCount = { statements: 0, commits: 0 };
const TRACE = process.env.SETTLE_BENCH_TRACE === '1';
let tracing = false;
const timeBySql = new Map<string, { n: number; ns: bigint }>();
const PROFILE_DIR = process.env.SETTLE_BENCH_PROFILE ?? null;

const kinds = new WeakMap<BetterSqlite3.Statement, 'commit' | 'write' | 'other'>();
function countStatements(raw: BetterSqlite3.Database): void {
  const proto = Object.getPrototypeOf(raw.prepare('select 1')) as Record<string, unknown>;
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = proto[method] as (this: BetterSqlite3.Statement, ...args: unknown[]) => unknown;
    proto[method] = function (this: BetterSqlite3.Statement, ...args: unknown[]) {
      sqlCount.statements++;
      let kind = kinds.get(this);
      if (kind === undefined) {
        kind = /^\s*commit\b/i.test(this.source) ? 'commit' : /^\s*(begin|savepoint|release|rollback)\b/i.test(this.source) || this.reader ? 'other' : 'write';
        kinds.set(this, kind);
      }
      if (kind === 'commit' || (kind === 'write' && !raw.inTransaction)) sqlCount.commits++;
      if (tracing) console.log(`  sql: ${this.source.replace(/\s+/g, ' ').slice(0, 160)}`);
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

/** CPU time of this process's main thread in ms, all and in the kernel (system); null off Linux. */
function mainThreadCpuMs(): { all: number; sys: number } | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sys = (Number(fields[12]) * 1000) / 100; // stime, in USER_HZ (100)
    return { all: (Number(fields[11]) * 1000) / 100 + sys, sys }; // + utime
  } catch {
    return null;
  }
}

interface Result extends ClientResult {
  name: string;
  statements: number;
  commits: number;
  cpu_ms: number | null;
  /** Of which in the kernel (writes, fsync, temp files). */
  sys_ms: number | null;
}

let numbered = 0;
async function run(name: string, w: Workload): Promise<Result> {
  if (TRACE) {
    tracing = true;
    await inClient({ w, seconds: 0, first: numbered++, record: false, concurrency: 1 });
    tracing = false;
  }
  await inClient({ w, seconds: WARMUP_SECONDS, first: numbered, record: false, concurrency: CONCURRENCY });
  numbered += 1_000_000;
  timeBySql.clear();
  const session = PROFILE_DIR ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const before = { ...sqlCount };
  const cpu0 = mainThreadCpuMs();
  const r = await inClient({ w, seconds: SECONDS, first: numbered, record: true, concurrency: CONCURRENCY });
  const cpu1 = mainThreadCpuMs();
  numbered += 1_000_000;
  if (session && PROFILE_DIR) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(PROFILE_DIR, `${name.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  const cpu = cpu0 === null || cpu1 === null ? null : { all: cpu1.all - cpu0.all, sys: cpu1.sys - cpu0.sys };
  return { ...r, name, statements: sqlCount.statements - before.statements, commits: sqlCount.commits - before.commits, cpu_ms: cpu?.all ?? null, sys_ms: cpu?.sys ?? null };
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
  const n = Math.max(1, r.ok + r.failed);
  const cpu = r.cpu_ms === null || r.sys_ms === null ? '   n/a' : `${(r.cpu_ms / n).toFixed(3).padStart(6)} ms (sys ${(r.sys_ms / n).toFixed(3)})`;
  console.log(
    `${r.name.padEnd(24)} ${String(Math.round(r.ok / r.seconds)).padStart(6)} req/s  p50 ${pct(sorted, 50).toFixed(2).padStart(7)} ms  p99 ${pct(sorted, 99).toFixed(2).padStart(7)} ms  ` +
      `server CPU/req ${cpu}  ${(r.statements / n).toFixed(1).padStart(5)} stmts/req  ${(r.commits / n).toFixed(2)} commits/req  ok ${r.ok} failed ${r.failed}`,
  );
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
  console.log(`Settle API bench: ${CONCURRENCY} concurrent keep-alive clients (worker thread), ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured per workload, SQLite synchronous=FULL, node ${process.version}`);
  if (ONLY.has('bare')) print(await run('bare Fastify GET /bare', { port: barePort, method: 'GET', path: '/bare', headers: {}, body: null, expect: 200, key_prefix: null }));
  // The platform's own hooks and headers without a database or a caller: what the app adds to bare Fastify.
  if (ONLY.has('healthz')) print(await run('platform GET /healthz', { port, method: 'GET', path: '/healthz', headers: {}, body: null, expect: 200, key_prefix: null }));
  if (ONLY.has('get')) print(await run('GET /payments/{id}', { port, method: 'GET', path: `/api/v1/payments/${paymentId}`, headers: auth, body: null, expect: 200, key_prefix: null }));
  const runId = Date.now().toString(36);
  if (ONLY.has('transfer')) print(await run('POST /transfers', { port, method: 'POST', path: '/api/v1/transfers', headers: auth, body: JSON.stringify({ to_email: 'bob@bench.test', asset: 'ETH', amount: '0.000001' }), expect: 201, key_prefix: `bench-${runId}` }));
  await client?.terminate();

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
