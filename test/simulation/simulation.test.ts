// Goal: under a random mix of operations by many users — on-chain deposits (USDT and ETH, some
// below the minimum), internal transfers (POST /transfers, some retried with their
// Idempotency-Key), withdrawals through the real hot wallet to outside addresses (including the
// wait for hot-wallet liquidity), merchant invoices paid exact / partial / over / late, freezes
// and unfreezes, a chain-scoped maintenance window switched on and off, a reorg that removes
// deposits still confirming, sweeps of deposit and invoice addresses into the hot wallet (planned
// at random moments, a few addresses per plan, sometimes left half-way across a restart), and
// restarts of the whole platform — no coin is lost, doubled or
// invented: at the end `settle ledger verify` and `settle reconcile` (the CLI, as a child
// process) are clean, every user's balances equal an in-memory model (deposits − transfers out
// + in − withdrawals − fees), every coin sent on chain to our addresses is credited or held,
// every withdrawal and gas top-up is on chain exactly once (recipients' balances, the hot
// wallet's nonce), each invoice ends in the status its payments call for, and two laps of the
// sweeper's rotation leave no address holding anything worth sweeping.
// Method: a seeded PRNG (the seed is printed; SETTLE_SIM_SEED=<n> replays the operation mix)
// drives createPlatform over a real database and a real anvil: requests through app.inject with
// real sessions and API keys; background work is driven by explicit ticks (scanner, outbox
// consumers, job runner) on a ManualClock whose advances are mirrored into the chain's time
// (evm_increaseTime) so that invoice expiry and block timestamps agree. A restart stops the
// platform (sometimes after letting its workers run on their own for a moment), closes the
// database and builds a new platform over the same database file and the same anvil.
// The model decides no timing: a deposit belongs to its user from the moment the chain accepts
// it (at the end every account is unfrozen and every deposit is deep, so it must be available),
// except dust below the minimum, which stays held. Withdrawals are paid from the hot wallet's
// recorded float (operator top-ups through recordFunding, as `settle chain record-funding`);
// the reorg runs only while no withdrawal is on its way (hot-wallet transactions are not
// reorganised here; no job runs between the reorg's snapshot and its revert, so no sweep
// transaction is either). Sweeps are planned by the test's own sweepers (the platform's worker
// runs every 60 s), built like the platform's but reading 3 addresses per plan, so that a run
// walks the rotation many times; their jobs run on the platform's job runner. Not covered here:
// invoice refunds.
// SETTLE_SIM_STEPS=<n> makes a run longer or shorter (default 200).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, keccak256, numberToHex, parseEther, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DIALECTS, openTestDb } from '../helpers/db.ts';
import { anvilAccount, sendMint, sendNative, sendTokenTransfer } from '../../src/chain/chain.ts';
import { balanceOfToken } from '../helpers/anvil.ts';
import type { Hex } from '../../src/chain/chain.ts';
import { devHotWalletKey } from '../../src/chain/chain.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { formatAmount, parseAmount } from '../../src/shared/money.ts';
import { loadConfig } from '../../src/config.ts';
import { openDb, type Db } from '../../src/db/database.ts';
import { buildPlatformApp, createPlatform, startBackground, stopBackground, type Platform } from '../../src/platform.ts';
import type { App } from '../../src/app.ts';
import type { Principal } from '../../src/shared/principal.ts';
import { mine, revert, snapshot, startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv } from '../helpers/deposit-testkit.ts';
import { createReconciler } from '../../src/payments/custody/reconciler.ts';
import { recordFunding } from '../../src/payments/custody/funding.ts';
import { bookDevFloat } from '../../src/payments/custody/dev-float.ts';
import type { WithdrawalsTable } from '../../src/db/schema-payments.ts';
import type { Database } from '../../src/db/schema.ts';
import type { Kysely } from 'kysely';
import { createSweepers, type Sweeper } from '../../src/payments/custody/sweep.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../src/chain/chain.ts';

/** The withdrawals table's type lives in its store (see there). */
const wdb = (db: Db) => db.kysely as unknown as Kysely<Database & { withdrawals: WithdrawalsTable }>;

const SEED = Number(process.env.SETTLE_SIM_SEED ?? Math.floor(Math.random() * 2 ** 31));
const USERS = 8;
const STEPS = Number(process.env.SETTLE_SIM_STEPS ?? 200);
const CHAIN = 31337;
const PW = 'correct horse battery staple 9';
const ROOT = join(import.meta.dirname, '..', '..');
const META = { ip: null, user_agent: null, request_id: null };
const payer = anvilAccount(2);
const hotAddress = privateKeyToAccount(devHotWalletKey()).address.toLowerCase() as Hex;
/** Receiving addresses the test's sweepers read per plan: small, so that the rotation laps often. */
const SWEEP_LIMIT = 3;
const OPEN_SWEEP = ['planned', 'gas', 'sweeping'];

/** mulberry32: small, fast, good enough to drive a simulation reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

type Asset = 'USDT' | 'ETH';
const ASSETS = ['USDT', 'ETH'] as const;
const DECIMALS: Record<Asset, number> = { USDT: 6, ETH: 18 };
const MINIMUM: Record<Asset, bigint> = { USDT: 1_000_000n, ETH: parseEther('0.001') };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const minor = (asset: Asset, text: string) => {
  const p = parseAmount(text, DECIMALS[asset]);
  if (!p.ok) throw new Error(`bad amount ${text}`);
  return p.amount_minor;
};

interface Wallet {
  /** Everything the user owns that is not dust: available once unfrozen and deep. */
  owned: bigint;
  /** Deposits below the minimum: held for ever. */
  dust: bigint;
}
interface InvoiceCase {
  id: string;
  kind: 'exact' | 'partial' | 'over' | 'late';
  asset: Asset;
}

describe.each(DIALECTS)('seeded simulation on %s', (dialect) => {
  let chainEnv: ChainEnv;
  beforeAll(async () => {
    console.log(`simulation seed ${SEED} on ${dialect} (replay with SETTLE_SIM_SEED=${SEED})`);
    chainEnv = await startChainEnv({});
    const h = await sendMint(chainEnv.anvil.rpc_url, CHAIN, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, 1_000_000_000_000n);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  });
  afterAll(async () => {
    await chainEnv?.stop();
  });

  it(`ends with ledger verify and reconcile clean and every coin accounted for (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const t = await openTestDb(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'settle-sim-'));
    const configPath = join(dir, 'settle.config.json');
    writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, chains: [{ ...chainEnv.chain, poll_interval_ms: 50 }] }, null, 2));
    const envVars = { SETTLE_DATA_DIR: dir, SETTLE_CONFIG: configPath, SETTLE_DEPOSIT_MNEMONIC: TEST_DEPOSIT_MNEMONIC };
    const config = loadConfig(envVars, dir);
    const clock = new ManualClock(Date.now());
    const client = chainEnv.client;
    const rpc = chainEnv.anvil.rpc_url;
    let db: Db = openDb(t.target);
    let p!: Platform;
    let app!: App;
    let restarts = 0;
    let sweepers: Sweeper[] = [];
    let openAtRestart = 0;
    // Sweeps start a quarter into the run: until then the hot wallet holds no USDT but what the
    // operator records, so withdrawals still wait for liquidity (sweeps would fill it at once).
    const SWEEPS_FROM = Math.floor(STEPS / 4);
    let step = -1;
    const trail: string[] = [];
    const note = (s: string) => {
      trail.push(`#${step} ${s}`);
      if (trail.length > 40) trail.shift();
    };

    async function boot(): Promise<void> {
      p = await createPlatform(config, db, { clock, job_poll_ms: 20 });
      app = await buildPlatformApp(p);
      // The platform registered the sweep job (its runner drives every sweep); these plan them.
      sweepers = [
        ...createSweepers({
          chains: config.chains, hotWallets: p.hotWallets!, keys: createDepositKeys(config.deposit_mnemonic!), invoice_keys: createDepositKeys(config.deposit_mnemonic!, INVOICE_PATH_PREFIX),
          db, clock, ledger: p.ledger, client: () => client, addresses_per_plan_max: SWEEP_LIMIT,
        }).values(),
      ];
    }
    async function planSweeps(): Promise<number> {
      let n = 0;
      for (const s of sweepers) n += (await s.planSweeps()).length;
      return n;
    }
    const openSweeps = () => db.kysely.selectFrom('sweeps').select(['id', 'asset', 'deposit_address', 'status']).where('status', 'in', OPEN_SWEEP).execute();
    /** Stops the platform (its workers sometimes ran on their own first) and builds a new one. */
    async function restart(): Promise<void> {
      if (step >= SWEEPS_FROM && rnd.next() < 0.4) {
        // Sweeps planned and perhaps half-way (a top-up sent, no transfer yet) when the process stops.
        const n = await planSweeps();
        if (rnd.next() < 0.5) await p.jobs.tick();
        note(`restart with ${n} sweep(s) just planned`);
      }
      if (rnd.next() < 0.6) {
        startBackground(p);
        await sleep(rnd.int(20, 250));
      }
      await app.close();
      await stopBackground(p);
      openAtRestart += (await openSweeps()).length;
      await db.close();
      db = openDb(t.target);
      await boot();
      restarts++;
      note('restart');
    }
    async function passTime(ms: number): Promise<void> {
      clock.advance(ms);
      await client.request({ method: 'evm_increaseTime' as never, params: [numberToHex(Math.ceil(ms / 1000))] as never });
    }
    async function tickAll(rounds = 2): Promise<void> {
      for (let r = 0; r < rounds; r++) {
        for (const s of p.deposits!.scanners) await s.tick();
        await p.deposits!.release.tick();
        await p.payments!.transfers.releaseTick();
        for (let i = 0; i < 10; i++) if ((await p.jobs.tick()) === 0) break;
      }
    }

    try {
      await boot();
      // ------------------------------------------------------------------ people
      const staffUser = await p.accounts.createUserWithRoles('staff@sim.test', PW, ['admin']);
      const staff: Principal = { kind: 'session', user_id: staffUser.id, email: staffUser.email, roles: staffUser.roles, status: 'active', locale: 'en', session_id: null, api_key_id: null, scopes: null, privileged_until_ms: null };
      const users: Array<{ id: string; email: string; token: string; password: string }> = [];
      for (let i = 0; i < USERS; i++) {
        const u = await p.accounts.createUserWithRoles(`u${i}@sim.test`, PW, []);
        users.push({ id: u.id, email: u.email, token: (await p.accounts.issueSessionForTests(u.id)).token, password: PW });
      }
      const addr = new Map<string, Hex>();
      for (const u of users) {
        const r = await p.deposits!.addressFor(u.id, 'USDT');
        if (r.result !== 'ok') throw new Error(`no deposit address: ${r.result}`);
        addr.set(u.id, r.address);
      }
      // The hot wallet's genesis ETH is operator capital, booked as the dev chain books it.
      await bookDevFloat({ ledger: p.ledger, client, chain: config.chains[0]!, hot: hotAddress });
      const merchant = users[0]!;
      let merchantKey = '';
      const model = new Map<string, Record<Asset, Wallet>>(users.map((u) => [u.id, { USDT: { owned: 0n, dust: 0n }, ETH: { owned: 0n, dust: 0n } }]));
      /** Coins sent on chain (and still canonical) to our deposit and invoice addresses. */
      const sentToUs: Record<Asset, bigint> = { USDT: 0n, ETH: 0n };
      const frozen = new Set<string>();
      const recipients = Array.from({ length: 3 }, (_, i) => getAddress(`0x${keccak256(toHex(`sim-recipient-${SEED}-${i}`)).slice(26)}`));
      const withdrawn = new Map<string, Record<Asset, bigint>>(recipients.map((r) => [r.toLowerCase(), { USDT: 0n, ETH: 0n }]));
      const withdrawals: string[] = [];
      /** What each withdrawal took from the model, to give it back if a freeze cancels it before it is signed. */
      const requested = new Map<string, { user: string; asset: Asset; to: string; amount: bigint; fee: bigint }>();
      const everFrozen = new Set<string>();
      const invoices: InvoiceCase[] = [];
      const counts = { sweeps: 0, sweep_plans: 0, deposits: 0, transfers: 0, replays: 0, refused: 0, withdrawals: 0, waited: 0, topups: 0, invoices: 0, freezes: 0, unfreezes: 0, maintenance_503: 0, maintenance_held: 0 };
      let keyN = 0;
      const nextKey = () => `sim-${SEED}-${keyN++}`;

      /** A request as a user; a lost session (freeze, idle) is replaced, a step-up given once. */
      async function as(u: { id: string; token: string; password: string }, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) {
        for (let attempt = 0; ; attempt++) {
          const res = await app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${u.token}`, ...headers }, ...(payload ? { payload } : {}) });
          const code = res.statusCode === 401 ? (res.json() as { code: string }).code : null;
          if (!code || attempt > 2) return res;
          if (code === 'step_up_required') {
            const s = await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: { authorization: `Bearer ${u.token}` }, payload: { password: u.password } });
            if (s.statusCode !== 204) u.token = (await p.accounts.issueSessionForTests(u.id)).token;
          } else {
            u.token = (await p.accounts.issueSessionForTests(u.id)).token;
          }
        }
      }
      async function available(user_id: string, asset: Asset): Promise<bigint> {
        const [b] = await p.ledger.balancesOf('user', user_id, [asset]);
        return b?.available_minor ?? 0n;
      }
      async function maintenanceOn(): Promise<boolean> {
        return (await p.payments!.maintenance.blocking('chain', CHAIN)) !== null;
      }
      async function pay(to: Hex, asset: Asset, amount: bigint): Promise<void> {
        const h = asset === 'USDT' ? await sendTokenTransfer(rpc, CHAIN, chainEnv.usdt, payer, to, amount) : await sendNative(rpc, CHAIN, payer, to, amount);
        const receipt = await client.waitForTransactionReceipt({ hash: h, pollingInterval: 20 });
        expect(receipt.status).toBe('success'); // the model counts only what the chain accepted
        sentToUs[asset] += amount;
      }

      // ------------------------------------------------------------------ operations
      async function deposit(): Promise<void> {
        const u = rnd.pick(users);
        const asset: Asset = rnd.next() < 0.6 ? 'USDT' : 'ETH';
        const dust = rnd.next() < 0.12;
        const amount = asset === 'USDT' ? BigInt(dust ? rnd.int(1, 900_000) : rnd.int(1, 1200) * 1_000_000) : dust ? BigInt(rnd.int(1, 900)) * 10n ** 12n : BigInt(rnd.int(1, 1200)) * 10n ** 15n;
        await pay(addr.get(u.id)!, asset, amount);
        const w = model.get(u.id)![asset];
        if (amount < MINIMUM[asset]) w.dust += amount;
        else w.owned += amount;
        counts.deposits++;
        note(`deposit ${u.email} ${formatAmount(amount, DECIMALS[asset])} ${asset}`);
      }

      async function transfer(): Promise<void> {
        const [from, to] = [rnd.pick(users), rnd.pick(users)];
        if (from === to) return;
        const asset = rnd.pick(ASSETS);
        const have = await available(from.id, asset);
        if (have === 0n) return;
        const cap = asset === 'USDT' ? 300_000_000n : 10n ** 17n;
        const amount = 1n + BigInt(Math.floor(rnd.next() * Number((have < cap ? have : cap) - 1n)));
        const key = nextKey();
        const body = { to_email: to.email, asset, amount: formatAmount(amount, DECIMALS[asset]) };
        const res = await as(from, 'POST', '/transfers', body, { 'idempotency-key': key });
        note(`transfer ${from.email} -> ${to.email} ${body.amount} ${asset}: ${res.statusCode}`);
        if (res.statusCode !== 201) {
          const code = (res.json() as { code: string }).code;
          // A chain window never blocks internal transfers; a frozen sender is refused; limits and
          // a balance eaten by the fee are the only other refusals.
          if (frozen.has(from.id)) expect(code).toBe('account_frozen');
          else expect(['limit_exceeded', 'insufficient_funds']).toContain(code);
          counts.refused++;
          return;
        }
        expect(frozen.has(from.id)).toBe(false);
        const payment = res.json() as { id: string; amount: string; fee: string; status: string };
        model.get(from.id)![asset].owned -= amount + minor(asset, payment.fee);
        model.get(to.id)![asset].owned += amount;
        counts.transfers++;
        if (rnd.next() < 0.25) {
          // The client lost the answer and retries: the first answer again, nothing moves twice.
          const again = await as(from, 'POST', '/transfers', body, { 'idempotency-key': key });
          expect(again.statusCode).toBe(201);
          expect(again.headers['idempotent-replayed']).toBe('true');
          expect((again.json() as { id: string }).id).toBe(payment.id);
          counts.replays++;
        }
      }

      async function withdraw(): Promise<void> {
        const u = rnd.pick(users);
        const asset = rnd.pick(ASSETS);
        const have = await available(u.id, asset);
        const to: string = rnd.next() < 0.08 ? addr.get(rnd.pick(users).id)! : rnd.pick(recipients);
        const cap = asset === 'USDT' ? 40_000_000n : 5n * 10n ** 16n;
        const amount = have > 1n ? 1n + BigInt(Math.floor(rnd.next() * Number((have < cap ? have : cap) - 1n))) : 1n;
        const windowOn = await maintenanceOn();
        const res = await as(u, 'POST', '/withdrawals', { asset, to_address: to, amount: formatAmount(amount, DECIMALS[asset]) }, { 'idempotency-key': nextKey() });
        note(`withdraw ${u.email} ${formatAmount(amount, DECIMALS[asset])} ${asset} to ${to}: ${res.statusCode}`);
        if (windowOn) {
          // A chain window refuses withdrawals on that chain (a frozen account may be told that
          // first: it would not be allowed to withdraw after the window either).
          const refusal = [res.statusCode, (res.json() as { code: string }).code];
          if (frozen.has(u.id) && refusal[0] === 403) expect(refusal).toEqual([403, 'account_frozen']);
          else {
            expect(refusal).toEqual([503, 'maintenance']);
            expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          }
          counts.maintenance_503++;
          return;
        }
        if (res.statusCode !== 201) {
          const code = (res.json() as { code: string }).code;
          if ([...addr.values()].includes(to as Hex)) expect(code).toBe('invalid_address'); // one of our own deposit addresses
          else if (frozen.has(u.id)) expect(code).toBe('account_frozen');
          else expect(res.statusCode === 403 || code === 'insufficient_funds').toBe(true); // cool-down after an unfreeze, KYC limit
          counts.refused++;
          return;
        }
        expect(frozen.has(u.id)).toBe(false);
        const payment = res.json() as { id: string; fee: string };
        model.get(u.id)![asset].owned -= amount + minor(asset, payment.fee);
        withdrawn.get(to.toLowerCase())![asset] += amount;
        withdrawals.push(payment.id);
        requested.set(payment.id, { user: u.id, asset, to: to.toLowerCase(), amount, fee: minor(asset, payment.fee) });
        counts.withdrawals++;
      }

      /** Withdrawals still moving; USDT ones waiting because the hot wallet is short are counted. */
      async function openWithdrawals(): Promise<Array<{ id: string; asset: string; status: string; amount_minor: bigint }>> {
        return wdb(db).selectFrom('withdrawals').select(['id', 'asset', 'status', 'amount_minor']).where('status', 'not in', ['completed', 'failed', 'cancelled']).execute();
      }
      async function topUpIfShort(force: boolean): Promise<void> {
        const open = (await openWithdrawals()).filter((w) => w.asset === 'USDT' && w.status === 'requested');
        if (open.length === 0) return;
        const need = open.reduce((s, w) => s + BigInt(w.amount_minor), 0n);
        const have = await balanceOfToken(client, chainEnv.usdt, hotAddress);
        if (have >= need) return;
        counts.waited += open.length;
        if (!force && rnd.next() < 0.6) return; // they keep waiting (the job retries with backoff)
        // The operator funds the hot wallet and records it (`settle chain record-funding`'s code).
        const h = await sendMint(rpc, CHAIN, chainEnv.usdt, anvilAccount(0), hotAddress, need - have + BigInt(rnd.int(0, 50)) * 1_000_000n);
        await client.waitForTransactionReceipt({ hash: h, pollingInterval: 20 });
        await mine(client, 12);
        const funded = await recordFunding({ db, ledger: p.ledger, clock }, { chain: config.chains[0]!, client, hot: hotAddress, tx_hash: h, actor: { user_id: staff.user_id, via: 'cli' } });
        expect(funded.ok, JSON.stringify(funded, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(true);
        counts.topups++;
        note(`top-up hot wallet for ${open.length} waiting withdrawal(s)`);
      }

      async function invoice(): Promise<void> {
        if (frozen.has(merchant.id)) return; // a frozen merchant creates no key or invoice (refusals tested elsewhere)
        if (!merchantKey) {
          const res = await as(merchant, 'POST', '/api-keys', { name: 'shop', scopes: ['invoices:write', 'invoices:read'] });
          expect(res.statusCode).toBe(201);
          merchantKey = (res.json() as { key: string }).key;
        }
        const kind = rnd.pick(['exact', 'partial', 'over', 'late'] as const);
        const asset: Asset = rnd.next() < 0.7 ? 'USDT' : 'ETH';
        const due = asset === 'USDT' ? BigInt(rnd.int(4, 400)) * 1_000_000n : BigInt(rnd.int(4, 400)) * 10n ** 15n;
        const windowOn = await maintenanceOn();
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/invoices',
          headers: { authorization: `Bearer ${merchantKey}`, 'idempotency-key': nextKey() },
          payload: { asset, amount: formatAmount(due, DECIMALS[asset]), expires_in_s: kind === 'late' ? 60 : 1800 },
        });
        note(`invoice ${kind} ${formatAmount(due, DECIMALS[asset])} ${asset}: ${res.statusCode}`);
        if (windowOn) {
          expect([res.statusCode, (res.json() as { code: string }).code]).toEqual([503, 'maintenance']);
          counts.maintenance_503++;
          return;
        }
        expect(res.statusCode).toBe(201);
        const inv = res.json() as { id: string; address: Hex };
        if (kind === 'late') {
          await passTime(120_000);
          await tickAll(1); // the expiry job runs
        }
        const amount = kind === 'partial' ? due / 2n : kind === 'over' ? due + due / 4n : due;
        await pay(inv.address, asset, amount);
        model.get(merchant.id)![asset].owned += amount;
        invoices.push({ id: inv.id, kind, asset });
        counts.invoices++;
      }

      /** The user does what a user_request freeze asks (a new password), then staff lift it. */
      async function unfreeze(u: { id: string; token: string; password: string }): Promise<void> {
        const password = `${PW} ${keyN++}`;
        const res = await as(u, 'POST', '/me/password', { new_password: password });
        expect(res.statusCode, res.body).toBeLessThan(300);
        u.password = password;
        await p.accounts.staffUnfreeze(staff, u.id, 'simulation', META);
      }
      async function toggleFreeze(): Promise<void> {
        // At most two accounts frozen at once; a frozen one is as likely to be lifted next.
        const u = frozen.size >= 2 || (frozen.size > 0 && rnd.next() < 0.5) ? rnd.pick(users.filter((x) => frozen.has(x.id))) : rnd.pick(users.filter((x) => !frozen.has(x.id)));
        if (frozen.has(u.id)) {
          await unfreeze(u);
          frozen.delete(u.id);
          counts.unfreezes++;
        } else {
          await p.accounts.freeze(u.id, 'user_request', { type: 'system', id: null }, null);
          frozen.add(u.id);
          everFrozen.add(u.id);
          counts.freezes++;
        }
        note(`${frozen.has(u.id) ? 'freeze' : 'unfreeze'} ${u.email}`);
      }

      let windowId: string | null = null;
      async function maintenance(): Promise<void> {
        if (windowId && !(await maintenanceOn())) windowId = null; // it ended by itself
        if (windowId) {
          await p.payments!.maintenance.end(windowId, staff.user_id);
          windowId = null;
          note('maintenance window ended');
          await tickAll(); // the scanner releases what the window held, in chain order
          return;
        }
        const now = clock.now_ms();
        // It ends by itself a few minutes later (time passes between steps), or staff end it early.
        const r = await p.payments!.maintenance.schedule({ scope: `chain:${CHAIN}`, starts_at_ms: now, ends_at_ms: now + rnd.int(60, 300) * 1000, message: 'Node upgrade' }, staff.user_id);
        if (!r.ok) throw new Error(`window refused: ${r.reason}`);
        windowId = r.window.id;
        note('maintenance window on');
        // A deposit that reaches its depth during the window is held (maintenance), not credited.
        const u = rnd.pick(users);
        const amount = BigInt(rnd.int(2, 50)) * 1_000_000n;
        await pay(addr.get(u.id)!, 'USDT', amount);
        model.get(u.id)!.USDT.owned += amount;
        await mine(client, 3);
        await tickAll();
        // (The deposit row stays confirming, its ledger transfer pending; the payment says why.)
        const held = await db.kysely
          .selectFrom('deposits')
          .innerJoin('payments', 'payments.id', 'deposits.payment_id')
          .select(['deposits.status as deposit', 'payments.status as payment', 'payments.hold_reason'])
          .where('deposits.to_address', '=', addr.get(u.id)!)
          .where('deposits.amount_minor', '=', amount)
          .execute();
        expect(held.some((d) => d.deposit === 'confirming' && d.payment === 'held' && d.hold_reason === 'maintenance'), `seed ${SEED}: ${JSON.stringify(held)}`).toBe(true);
        counts.maintenance_held++;
      }

      /** Plans the sweeps the next addresses of the rotation call for, and drives them a little (or not at all). */
      async function sweep(): Promise<void> {
        const n = await planSweeps();
        counts.sweep_plans++;
        counts.sweeps += n;
        const ticks = rnd.int(0, 3);
        for (let i = 0; i < ticks; i++) {
          await passTime(rnd.int(0, 3) * 1000);
          await p.jobs.tick();
          if (rnd.next() < 0.5) await mine(client, 1);
        }
        note(`sweep plan: ${n} planned, ${ticks} job tick(s), ${(await openSweeps()).length} open`);
      }

      let reorged = false;
      /** A reorg: deposits sent and detected while confirming vanish with their blocks. */
      async function reorg(): Promise<void> {
        if ((await openWithdrawals()).length > 0) return; // hot-wallet transactions stay out of the reverted blocks
        await mine(client, 14);
        await tickAll();
        const snap = await snapshot(client);
        const before = new Map([...model].map(([u, w]) => [u, { USDT: { ...w.USDT }, ETH: { ...w.ETH } }]));
        const sentBefore = { ...sentToUs };
        await deposit();
        await deposit();
        for (const s of p.deposits!.scanners) await s.tick();
        await revert(client, snap);
        await mine(client, 3);
        for (const [u, w] of before) model.set(u, w);
        Object.assign(sentToUs, sentBefore);
        reorged = true;
        note('reorg');
        await tickAll();
      }

      // ------------------------------------------------------------------ the run
      const restartAt = new Set([Math.floor(STEPS / 3), Math.floor((2 * STEPS) / 3)]);
      for (step = 0; step < STEPS; step++) {
        if (step === Math.floor(STEPS / 2) && !reorged) await reorg();
        if (restartAt.has(step)) await restart();
        const op = rnd.next();
        if (op < 0.25) await deposit();
        else if (op < 0.42) await transfer();
        else if (op < 0.57) await withdraw();
        else if (op < 0.67) await invoice();
        else if (op < 0.72) await toggleFreeze();
        else if (op < 0.75 || (step === Math.floor(STEPS / 4) && !windowId)) await maintenance();
        else if (op < 0.77 && !reorged) await reorg();
        else if (op < 0.785) await restart();
        else if (op < 0.835 && step >= SWEEPS_FROM) await sweep();
        else {
          await passTime(rnd.int(2, 40) * 1000);
          await mine(client, rnd.int(1, 3));
          await tickAll();
          await topUpIfShort(false);
        }
      }
      step = STEPS;

      // ------------------------------------------------------------------ settle everything
      if (windowId) await maintenance();
      for (const u of users.filter((x) => frozen.has(x.id))) {
        await unfreeze(u);
        frozen.delete(u.id);
      }
      await passTime(2_000_000); // past every invoice's expiry and the outbox gap window
      for (let i = 0; i < 40; i++) {
        await topUpIfShort(true);
        counts.sweeps += await planSweeps();
        await mine(client, 13);
        await tickAll();
        const open = await openWithdrawals();
        if (open.length === 0 && !reorged) {
          // Every chance mid-run found a withdrawal on its way: reorganise now that none is.
          await reorg();
          continue;
        }
        const moving = await db.kysely.selectFrom('deposits').select('id').where((eb) => eb.or([eb('status', '=', 'confirming'), eb.and([eb('status', '=', 'held'), eb('hold_reason', '!=', 'below_minimum')])])).execute();
        if (open.length === 0 && moving.length === 0 && (await openSweeps()).length === 0) break;
        await passTime(60_000);
      }
      // Two laps of the rotation: every address worth sweeping is reached and emptied.
      const receiving = [
        ...(await db.kysely.selectFrom('deposit_addresses').select('address').where('chain_id', '=', CHAIN).execute()),
        ...(await db.kysely.selectFrom('invoices').select('address').where('chain_id', '=', CHAIN).execute()),
      ].map((r) => r.address as Hex);
      const lap = Math.ceil(receiving.length / SWEEP_LIMIT);
      for (let plan = 0; plan < 2 * lap; plan++) {
        counts.sweeps += await planSweeps();
        for (let i = 0; i < 20 && (await openSweeps()).length > 0; i++) {
          await passTime(2_000);
          await mine(client, 1);
          await tickAll(1);
        }
      }
      // A sweep planned in the last lap may still be on its way on a loaded machine: let it land
      // (the laps above give each plan a bounded number of ticks only).
      for (let i = 0; i < 200 && (await openSweeps()).length > 0; i++) {
        await passTime(2_000);
        await mine(client, 1);
        await tickAll(1);
      }
      await mine(client, 13);
      await tickAll();
      note('settled');
      const fail = (what: string) => `${what} (seed ${SEED}; replay with SETTLE_SIM_SEED=${SEED})\n${trail.join('\n')}`;
      console.log(`simulation seed ${SEED} on ${dialect}: ${JSON.stringify({ ...counts, sweeps_open_at_restart: openAtRestart, restarts, reorged })}`);

      expect(reorged, fail('no reorg ran')).toBe(true);
      expect(restarts, fail('restarts')).toBeGreaterThanOrEqual(2);
      expect((await db.kysely.selectFrom('deposits').select('id').where('status', '=', 'dropped').execute()).length, fail('the reorg removed no deposit')).toBeGreaterThanOrEqual(2);
      expect(await openWithdrawals(), fail('withdrawals still moving')).toEqual([]);
      expect(await openSweeps(), fail('sweeps still moving')).toEqual([]);
      expect(await db.kysely.selectFrom('deposits').select(['id', 'status', 'hold_reason']).where('status', 'in', ['confirming', 'pending']).execute(), fail('deposits still confirming')).toEqual([]);

      // The ledger and the reconciler, as the CLI runs them (a child process over the same files).
      const cli = (args: string[]) => spawnSync(process.execPath, ['bin/settle.mjs', ...args], { cwd: ROOT, env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SETTLE_'))), SETTLE_LOG_LEVEL: 'warn', ...envVars, ...t.env }, encoding: 'utf8', timeout: 60_000 });
      const verifyCli = cli(['ledger', 'verify']);
      expect(verifyCli.status, fail(`settle ledger verify: ${verifyCli.stdout}${verifyCli.stderr}`)).toBe(0);
      const reconcileCli = cli(['reconcile']);
      expect(reconcileCli.status, fail(`settle reconcile: ${reconcileCli.stdout}${reconcileCli.stderr}`)).toBe(0);
      expect((await verifyLedger(db.kysely)).problem, fail('ledger verify')).toBeNull();
      const report = await createReconciler({ db, ledger: p.ledger, chains: config.chains, clock, client: () => client }).run();
      expect(report.discrepancies, fail('reconcile')).toEqual([]);
      expect(report.ok).toBe(true);
      // What sweeps moved, from our own records: token amounts out, and in the native coin the
      // gas top-ups in, native sweeps out and the fee of every sweep transaction that was mined.
      const sweepRows = await db.kysely.selectFrom('sweeps').select(['id', 'asset', 'deposit_address', 'amount_minor', 'status', 'failure_reason']).execute();
      const sweepTxs = await db.kysely.selectFrom('chain_txs').select(['purpose', 'status', 'value_minor', 'gas_fee_minor', 'from_address', 'to_address']).where('purpose', 'in', ['sweep', 'sweep_gas']).execute();
      const swept: Record<Asset, bigint> = { USDT: 0n, ETH: 0n };
      for (const r of sweepRows) if (r.status === 'confirmed' && r.asset === 'USDT') swept.USDT += r.amount_minor;
      for (const tx of sweepTxs) {
        if (tx.purpose === 'sweep_gas' && tx.status === 'confirmed') swept.ETH -= tx.value_minor;
        if (tx.purpose === 'sweep' && tx.status === 'confirmed') swept.ETH += tx.value_minor;
        if (tx.purpose === 'sweep') swept.ETH += tx.gas_fee_minor ?? 0n;
      }
      expect.soft(sweepRows.filter((r) => r.status !== 'confirmed'), fail('sweeps not confirmed')).toEqual([]);
      for (const asset of ASSETS) {
        const s = report.summaries.find((x) => x.asset === asset)!;
        // Every coin sent on chain (and still canonical) to our addresses is credited or held, and
        // is there unless a sweep took it to the hot wallet.
        expect({ asset, on_chain: s.on_chain_minor, credited_and_held: s.credited_minor + s.held_minor, pending: s.pending_minor }, fail('coins on chain')).toEqual({ asset, on_chain: sentToUs[asset] - swept[asset], credited_and_held: sentToUs[asset], pending: 0n });
      }
      // Nothing worth sweeping is left on any receiving address, and another lap plans nothing.
      const fees = await client.estimateFeesPerGas();
      const ethWorth = [MINIMUM.ETH, 21_000n * fees.maxFeePerGas * 10n].reduce((a, b) => (a > b ? a : b));
      for (const a of receiving) {
        const left = { address: a, USDT: await balanceOfToken(client, chainEnv.usdt, a), ETH: await client.getBalance({ address: a }) };
        expect.soft({ address: a, USDT: left.USDT >= MINIMUM.USDT, ETH: left.ETH > ethWorth }, fail(`left on an address after two laps: ${left.USDT} USDT, ${left.ETH} wei`)).toEqual({ address: a, USDT: false, ETH: false });
      }
      let plannedAfter = 0;
      for (let plan = 0; plan < lap; plan++) plannedAfter += await planSweeps();
      expect.soft(plannedAfter, fail('sweeps planned after everything was swept')).toBe(0);

      // From here on every difference is reported (soft), not just the first.
      // Nobody is frozen now: nothing may stay held for a freeze (a deposit first seen while its
      // account was frozen, and deep only after the unfreeze, included).
      const stillFrozenHeld = await db.kysely
        .selectFrom('deposits')
        .innerJoin('payments', 'payments.id', 'deposits.payment_id')
        .select(['deposits.id', 'deposits.user_id', 'deposits.status', 'deposits.hold_reason', 'deposits.credit_kind', 'deposits.released_at_ms', 'payments.status as payment_status'])
        .where('deposits.status', '!=', 'dropped') // (a deposit a reorg removed keeps the hold it had)
        .where((eb) => eb.or([eb('deposits.hold_reason', '=', 'account_frozen'), eb('payments.hold_reason', '=', 'account_frozen')]))
        .execute();
      expect.soft(stillFrozenHeld, fail('deposits held for a freeze that was lifted')).toEqual([]);

      // A withdrawal still unsigned when its owner froze the account is cancelled, its money
      // returned (withdrawals.ts): the model gives it back, and it is not on chain.
      const blocked = await wdb(db).selectFrom('withdrawals').select(['id', 'failure_code']).where('status', '=', 'cancelled').execute();
      for (const b of blocked) {
        const r = requested.get(b.id)!;
        expect.soft(['account_frozen', 'account_restricted', 'cooldown'], fail(`cancelled withdrawal ${b.id}`)).toContain(b.failure_code);
        expect.soft(everFrozen.has(r.user), fail(`cancelled withdrawal ${b.id} of a user never frozen`)).toBe(true);
        model.get(r.user)![r.asset].owned += r.amount + r.fee;
        withdrawn.get(r.to)![r.asset] -= r.amount;
      }
      const cancelled = new Set(blocked.map((b) => b.id));
      if (blocked.length) console.log(`simulation seed ${SEED} on ${dialect}: ${blocked.length} withdrawal(s) cancelled before signing by a freeze`);

      // Every user: what the model says, to the unit.
      for (const u of users) {
        const b = await p.ledger.balancesOf('user', u.id, [...ASSETS]);
        for (const asset of ASSETS) {
          const got = b.find((x) => x.asset === asset);
          const want = model.get(u.id)![asset];
          expect.soft({ user: u.email, asset, available: got?.available_minor ?? 0n, held: got?.held_minor ?? 0n, pending_out: got?.pending_out_minor ?? 0n }, fail('balances')).toEqual({ user: u.email, asset, available: want.owned, held: want.dust, pending_out: 0n });
        }
      }

      // Every withdrawal completed and on chain exactly once.
      const rows = await wdb(db).selectFrom('withdrawals').select(['id', 'status', 'asset', 'amount_minor', 'failure_code', 'failure_reason', 'timeline']).execute();
      expect.soft(rows.map((r) => r.id).sort(), fail('withdrawal rows')).toEqual([...withdrawals].sort());
      expect.soft(rows.filter((r) => r.status !== 'completed' && !cancelled.has(r.id)), fail('withdrawals not completed')).toEqual([]);
      for (const [to, want] of withdrawn) {
        expect.soft({ to, USDT: await balanceOfToken(client, chainEnv.usdt, to as Hex), ETH: await client.getBalance({ address: to as Hex }) }, fail('recipient balances')).toEqual({ to, ...want });
      }
      // The hot wallet sent nothing but these withdrawals and the sweeps' gas top-ups: one nonce each.
      const topups = sweepTxs.filter((tx) => tx.purpose === 'sweep_gas').length;
      expect.soft(await client.getTransactionCount({ address: hotAddress, blockTag: 'latest' }), fail('hot wallet nonce')).toBe(withdrawals.length - cancelled.size + topups);

      // Every invoice ends as its payments call for.
      for (const inv of invoices) {
        const res = await app.inject({ url: `/api/v1/invoices/${inv.id}`, headers: { authorization: `Bearer ${merchantKey}` } });
        const got = res.json() as { status: string; exception: string | null };
        const want = { exact: ['settled', null], partial: ['expired', 'paid_partial'], over: ['settled', 'paid_over'], late: ['expired', 'paid_late'] }[inv.kind];
        expect.soft({ id: inv.id, kind: inv.kind, status: got.status, exception: got.exception }, fail('invoice status')).toEqual({ id: inv.id, kind: inv.kind, status: want[0], exception: want[1] });
      }
    } finally {
      await app?.close().catch(() => undefined);
      if (p) await stopBackground(p).catch(() => undefined);
      await db.close().catch(() => undefined);
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
