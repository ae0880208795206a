// API benchmark: requests/s and p50/p99 latency over real HTTP (keep-alive, N concurrent
// clients) for GET /payments/{id} and POST /transfers on the whole platform (SQLite, durable
// settings, real sessions, real ledger), next to a bare Fastify route in the same process and
// run, so that the figures say what the platform adds on this machine.
//
//   npm run bench:api
//   SETTLE_BENCH_SECONDS=5 (per workload, default 5)  SETTLE_BENCH_CONCURRENCY=16 (default)
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildPlatformApp, createPlatform, stopBackground } from '../src/platform.ts';
import { testConfig } from '../src/payments/payment-testkit.ts';
import { assetsFromChains } from '../src/payments/payment-rules.ts';
import { ledgerAccountId } from '../src/ledger/ledger-types.ts';

const SECONDS = Number(process.env.SETTLE_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.SETTLE_BENCH_CONCURRENCY ?? 16);

interface Result {
  name: string;
  ok: number;
  failed: number;
  seconds: number;
  latencies_ms: number[];
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
  return { name, ok, failed, seconds: (performance.now() - t0) / 1000, latencies_ms: latencies };
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0;
}

function print(r: Result): void {
  const sorted = [...r.latencies_ms].sort((a, b) => a - b);
  console.log(`${r.name.padEnd(28)} ${String(Math.round(r.ok / r.seconds)).padStart(7)} req/s   p50 ${pct(sorted, 50).toFixed(2).padStart(7)} ms   p99 ${pct(sorted, 99).toFixed(2).padStart(7)} ms   ok ${r.ok}  failed ${r.failed}`);
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

  console.log(`Settle API bench: ${CONCURRENCY} concurrent keep-alive clients, ${SECONDS} s per workload, SQLite synchronous=FULL, node ${process.version}`);
  print(await run('bare Fastify GET /bare', barePort, () => ({ method: 'GET', path: '/bare', headers: {}, body: null, expect: 200 })));
  print(await run('GET /payments/{id}', port, () => ({ method: 'GET', path: `/api/v1/payments/${paymentId}`, headers: auth, body: null, expect: 200 })));
  const runId = Date.now().toString(36);
  print(await run('POST /transfers', port, (i) => ({ method: 'POST', path: '/api/v1/transfers', headers: { ...auth, 'idempotency-key': `bench-${runId}-${i}` }, body: JSON.stringify({ to_email: 'bob@bench.test', asset: 'ETH', amount: '0.000001' }), expect: 201 })));

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
