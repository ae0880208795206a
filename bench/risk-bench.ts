// Risk benchmark: decisions per second with 50 active rules — the pure decision over compiled
// rules, and the engine as payments call it (the current version and list versions read from the
// database, then the cached programs) — and the latency that risk adds to POST /withdrawals
// (p50 / p99), with no rules and with 50 active rules, in the same run on the whole platform
// (SQLite, durable settings, real session with its step-up window, real ledger). The two rule
// sets alternate in blocks, so that drift on a shared machine falls on both alike; the first
// request after each switch (the new version compiled) is counted apart. Beside them, a bare
// Fastify route measured the same way says what this machine's HTTP round trip costs.
//
//   npm run bench:risk
//   SETTLE_BENCH_SECONDS=3 (per decision workload)  SETTLE_BENCH_ROUNDS=10  SETTLE_BENCH_BLOCK=40 (requests per block)
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildPlatformApp, createPlatform, stopBackground } from '../src/platform.ts';
import { testConfig } from '../test/helpers/payment-testkit.ts';
import { assetsFromChains } from '../src/payments/payment-rules.ts';
import { ledgerAccountId } from '../src/ledger/ledger-types.ts';
import { compileRuleSet, completeFacts, decide, type RiskLists, type RiskRule } from '../src/risk/risk-rules.ts';

const SECONDS = Number(process.env.SETTLE_BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.SETTLE_BENCH_ROUNDS ?? 10);
const BLOCK = Number(process.env.SETTLE_BENCH_BLOCK ?? 40);
const TO = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

/** 50 active withdrawal rules of the kinds operators write; none fires on the bench's withdrawals, so every one is evaluated and the withdrawal goes ahead. */
function fiftyRules(): RiskRule[] {
  const shapes = [
    (i: number) => `amount_usd >= ${100000 + i}.0`,
    (i: number) => `count_1h > ${500 + i} && asset == "USDT"`,
    (i: number) => `sum_usd_24h > ${250000 + i}.0 || (kyc_level < 0 && new_device)`,
    (i: number) => `in_list("blocked_addresses", to_address) && account_age_s < ${i}`,
    (i: number) => `country in ["KP", "IR", "SY"] && amount_usd > ${i}.0`,
    (i: number) => `to_address_new && credentials_changed_age_s >= 0 && credentials_changed_age_s < ${i}`,
    (i: number) => `asset.startsWith("X${i}") || count_24h > ${5000 + i}`,
    (i: number) => `account_age_s >= 0 && account_age_s < ${i} && amount_usd * 2.0 > ${10000 + i}.0`,
    (i: number) => `[1, 2, 3].exists(x, x == count_1h - ${1000 + i})`,
    (i: number) => `in_list("watch_users", user_id) && sum_usd_1h > ${i}.0`,
  ];
  return Array.from({ length: 50 }, (_, i) => ({ id: `bench_${i}`, description: '', event: 'withdrawal', when: shapes[i % shapes.length]!(i), action: i % 3 === 0 ? 'block' : 'review', mode: 'active' }));
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! : 0;
}

function line(name: string, latencies: number[]): string {
  const s = [...latencies].sort((a, b) => a - b);
  return `${name.padEnd(34)} p50 ${pct(s, 50).toFixed(2).padStart(7)} ms  p99 ${pct(s, 99).toFixed(2).padStart(7)} ms  (n ${s.length})`;
}

/** Runs fn as often as it can for `seconds`; returns calls per second. */
async function perSecond(seconds: number, fn: (i: number) => unknown): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) await fn(n++);
  }
  return n / ((performance.now() - t0) / 1000);
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function call(port: number, method: string, path: string, headers: Record<string, string>, body: string | null): Promise<number> {
  const h = { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: h }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function timed(fn: () => Promise<number>, expect: number): Promise<number> {
  const s = performance.now();
  const status = await fn();
  if (status !== expect) throw new Error(`expected ${expect}, got ${status}`);
  return performance.now() - s;
}

async function main(): Promise<void> {
  const rules = fiftyRules();
  const compiled = compileRuleSet(1, rules);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const lists: RiskLists = new Map([['blocked_addresses', new Set(Array.from({ length: 1000 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`))], ['watch_users', new Set(['usr_x'])]]);
  const facts = Array.from({ length: 256 }, (_, i) => completeFacts({ amount_usd: i * 7.5, asset: i % 2 ? 'USDT' : 'ETH', count_1h: i % 9, count_24h: i % 40, sum_usd_1h: i * 3, sum_usd_24h: i * 50, kyc_level: i % 3, account_age_s: i * 1000, to_address: TO.toLowerCase(), to_address_new: i % 4 === 0, user_id: `usr_${i}` }));
  console.log(`Settle risk bench: node ${process.version}, 50 active rules (none firing: all evaluated), SQLite synchronous=FULL`);
  const pure = await perSecond(SECONDS, (i) => decide(compiled.set, 'withdrawal', facts[i % facts.length]!, lists));
  console.log(`decide() over compiled rules        ${Math.round(pure).toString().padStart(8)} decisions/s  (${(1e6 / pure).toFixed(1)} us each)`);

  const dir = mkdtempSync(join(tmpdir(), 'settle-risk-bench-'));
  const db = openDb({ kind: 'sqlite', path: join(dir, 'settle.db'), synchronous: 'FULL' });
  await migrateToLatest(db);
  const config = testConfig({ SETTLE_DATA_DIR: dir });
  const platform = await createPlatform(config, db);
  const app = await buildPlatformApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const bare = Fastify({ logger: false });
  bare.post('/bare', async () => ({ ok: true }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const barePort = (bare.server.address() as AddressInfo).port;

  const { risk } = platform;
  await risk.putRules(rules, 'bench', null);
  const engine = await perSecond(SECONDS, (i) => risk.evaluate('withdrawal', facts[i % facts.length]!));
  console.log(`risk.evaluate() (version reads + cache) ${Math.round(engine).toString().padStart(5)} decisions/s  (${(1e6 / engine).toFixed(1)} us each)`);

  // A user with ETH (no KYC amount limit without a price), a session in its step-up window.
  await platform.ledger.ensureAssets(assetsFromChains(config.chains).map((a) => ({ code: a.code, decimals: a.decimals, chain_id: a.chain_id, contract_address: a.contract_address })));
  const pw = 'correct horse battery staple 9';
  const alice = await platform.accounts.createUserWithRoles('alice@bench.test', pw, []);
  const token = (await platform.accounts.issueSessionForTests(alice.id)).token;
  const ext = ledgerAccountId('platform', 'platform', 'ETH', 'external');
  const avail = ledgerAccountId('user', alice.id, 'ETH', 'user_available');
  await platform.ledger.ensureAccounts([
    { id: ext, asset: 'ETH', owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
    { id: avail, asset: 'ETH', owner_type: 'user', owner_id: alice.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
  ]);
  await platform.ledger.createTransfers([{ id: 'bench:fund', debit_account_id: ext, credit_account_id: avail, amount_minor: 10n ** 30n, asset: 'ETH', reason: 'bench.fund', reference: null }]);
  const auth = { authorization: `Bearer ${token}` };
  const stepped = await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: auth, payload: { password: pw } });
  if (stepped.statusCode !== 204) throw new Error(`step-up failed: ${stepped.body}`);

  const body = JSON.stringify({ asset: 'ETH', to_address: TO, amount: '0.000001' });
  let n = 0;
  const withdraw = () => call(port, 'POST', '/api/v1/withdrawals', { ...auth, 'idempotency-key': `bench-${n++}` }, body);
  for (let i = 0; i < 20; i++) await timed(withdraw, 201); // warm-up
  const none: number[] = [];
  const fifty: number[] = [];
  const firstAfterSwitch: number[] = [];
  const bareLat: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [set, out] of [[[] as RiskRule[], none], [rules, fifty]] as const) {
      await risk.putRules(set, 'bench', null);
      firstAfterSwitch.push(await timed(withdraw, 201));
      for (let i = 0; i < BLOCK; i++) out.push(await timed(withdraw, 201));
    }
    for (let i = 0; i < BLOCK; i++) bareLat.push(await timed(() => call(barePort, 'POST', '/bare', {}, '{}'), 200));
  }
  console.log(line('bare Fastify POST /bare', bareLat));
  console.log(line('POST /withdrawals, no rules', none));
  console.log(line('POST /withdrawals, 50 active rules', fifty));
  const s0 = [...none].sort((a, b) => a - b);
  const s1 = [...fifty].sort((a, b) => a - b);
  console.log(`added by 50 rules                  p50 ${(pct(s1, 50) - pct(s0, 50)).toFixed(2).padStart(7)} ms  p99 ${(pct(s1, 99) - pct(s0, 99)).toFixed(2).padStart(7)} ms`);
  console.log(line('first request after a rules change', firstAfterSwitch));
  const decisions = await db.kysely.selectFrom('risk_decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  console.log(`decisions stored: ${decisions.n} (one per withdrawal)`);

  agent.destroy();
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
