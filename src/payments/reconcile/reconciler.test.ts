// Goal: the reconciler proves a clean state clean, and catches (a) a deposit credited in our
// records and ledger that the chain never saw, (b) coins on one of our deposit addresses that no
// record explains — naming the address and the amount — each as ONE open incident that later runs
// refresh rather than duplicate, and that resolves once the difference is gone; `settle reconcile`
// exits 0 when clean and 1 otherwise.
// Method: a real anvil (TestUSDT + native ETH), the real deposit scanner ticked by hand, the real
// ledger on each dialect; tampering is a forged deposit row plus its ledger transfers; the
// unexplained coins are a direct transfer the scanner has not been run over. The chain is reset to
// a snapshot after each test so that every test starts from the same balances. The CLI runs as a
// child process (bin/settle.mjs) against the same database and chain.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { anvilAccount, sendMint, sendNative, sendTokenTransfer } from '../../chain/test-usdt.ts';
import type { Hex } from '../../chain/chain-types.ts';
import { createMetrics } from '../../ops/metrics.ts';
import { systemClock } from '../../shared/clock.ts';
import { createDepositScanner, type DepositScanner } from '../deposits/deposit-scanner.ts';
import { depositId, depositTransferIds } from '../deposits/deposit-rules.ts';
import { ledgerEnv, mine, revert, snapshot, startChainEnv, type ChainEnv, type LedgerEnv } from '../deposits/deposit-testkit.ts';
import { createReconciler, type Reconciler } from './reconciler.ts';
import { toHex } from 'viem';
import { JobRunner } from '../../jobs/jobs.ts';
import { ManualClock } from '../../shared/clock.ts';
import { Sender } from '../../chain/hot-wallet.ts';
import { createSweeper, registerSweepJobs } from '../../chain/sweep.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);

describe.each(DIALECTS)('reconciler on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let snap: Hex;
  let t: TestDb;
  let env: LedgerEnv;
  let scanner: DepositScanner;
  let reconciler: Reconciler;
  const metrics = createMetrics(false);

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    const h = await sendMint(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(1_000_000));
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  });
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    snap = await snapshot(chainEnv.client);
    t = await openTestDb(dialect);
    env = await ledgerEnv(t.db, chainEnv);
    scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, blocks_per_tick_max: 50, receiveMode: async () => 'credit' });
    reconciler = createReconciler({ db: t.db, ledger: env.ledger, chains: [chainEnv.chain], clock: systemClock, metrics, client: () => chainEnv.client });
  });
  afterEach(async () => {
    await t.cleanup();
    await revert(chainEnv.client, snap);
  });

  const rpc = () => chainEnv.anvil.rpc_url;
  async function payUsdt(to: Hex, amount: bigint): Promise<Hex> {
    const h = await sendTokenTransfer(rpc(), 31337, chainEnv.usdt, payer, to, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
    return h;
  }
  async function payEth(to: Hex, amount: bigint): Promise<Hex> {
    const h = await sendNative(rpc(), 31337, payer, to, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
    return h;
  }
  /** Two users with USDT and ETH deposits: one credited at depth, one still confirming. */
  async function cleanState(): Promise<{ a: Hex; b: Hex; tx: Hex }> {
    const a = await env.address('usr_a');
    const b = await env.address('usr_b');
    const tx = await payUsdt(a, USDT(500));
    await payEth(a, parseEther('0.5'));
    await mine(chainEnv.client, 4);
    await payUsdt(b, USDT(7000)); // 12 blocks: still confirming
    await scanner.tick();
    await scanner.tick();
    return { a, b, tx };
  }
  const openIncidents = () => t.db.kysely.selectFrom('reconcile_incidents').selectAll().where('resolved_at_ms', 'is', null).execute();
  const gauge = async () => (await metrics.registry.getSingleMetricAsString('settle_reconcile_discrepancies')).split('\n').filter((l) => l.startsWith('settle_reconcile_discrepancies{') && l.includes('kind="any"'));

  it('a clean state reconciles clean: seen = credited + held + pending, addresses hold what records say', async () => {
    await cleanState();
    const r = await reconciler.run();
    expect(r.discrepancies).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.ledger.ok).toBe(true);
    const usdt = r.summaries.find((s) => s.asset === 'USDT')!;
    expect(usdt).toMatchObject({ seen_minor: USDT(7500), credited_minor: USDT(500), held_minor: 0n, pending_minor: USDT(7000), on_chain_minor: USDT(7500), expected_on_chain_minor: USDT(7500), addresses_checked: 2, discrepancies: 0 });
    const eth = r.summaries.find((s) => s.asset === 'ETH')!;
    expect(eth).toMatchObject({ seen_minor: parseEther('0.5'), credited_minor: parseEther('0.5'), on_chain_minor: parseEther('0.5') });
    expect(await openIncidents()).toEqual([]);
    expect(await gauge()).toEqual(expect.arrayContaining([expect.stringMatching(/asset="USDT".* 0$/)]));

    // As a worker, the full ledger replay is paced (every 10 min); the other checks run each time.
    const clock = new ManualClock(Date.now());
    const paced = createReconciler({ db: t.db, ledger: env.ledger, chains: [chainEnv.chain], clock, client: () => chainEnv.client, ledger_verify_every_ms: 600_000 });
    expect((await paced.run()).ledger).toMatchObject({ ok: true, skipped: false });
    expect((await paced.run()).ledger).toMatchObject({ ok: true, skipped: true });
    clock.advance(600_000);
    expect((await paced.run()).ledger).toMatchObject({ ok: true, skipped: false });
  });

  it('a deposit credited in records and ledger but absent on chain raises one incident, refreshed not duplicated', async () => {
    const { a, tx } = await cleanState();
    // Forge a credited deposit: a copy of a real one under a transaction hash the chain never had,
    // with its pending and posted ledger transfers, as a tampered database would hold.
    const real = await t.db.kysely.selectFrom('deposits').selectAll().where('id', '=', depositId(31337, tx, 0)).executeTakeFirstOrThrow();
    const fakeTx = `0x${'ab'.repeat(32)}` as Hex;
    const ids = depositTransferIds(31337, fakeTx, 0, 0);
    await t.db.kysely.insertInto('deposits').values({ ...real, id: depositId(31337, fakeTx, 0), tx_hash: fakeTx, payment_id: 'pay_forged', amount_minor: USDT(250), pending_transfer_id: ids.pending }).execute();
    const ext = 'la:platform:platform:USDT:deposit_wallets';
    const user = 'la:user:usr_a:USDT:user_available';
    expect((await env.ledger.createTransfers([{ id: ids.pending, debit_account_id: ext, credit_account_id: user, amount_minor: USDT(250), asset: 'USDT', pending: true, reason: 'deposit', reference: null }]))[0]!.result).toBe('ok');
    expect((await env.ledger.createTransfers([{ id: ids.post, post_pending_id: ids.pending, reason: 'deposit_released', reference: null }]))[0]!.result).toBe('ok');

    const r = await reconciler.run();
    expect(r.ok).toBe(false);
    expect(r.ledger.ok).toBe(true); // the ledger balances: only the outside check can see this
    expect(r.discrepancies).toEqual([
      expect.objectContaining({ kind: 'address_balance_short', chain_id: 31337, asset: 'USDT', subject: a, expected_minor: USDT(750), actual_minor: USDT(500) }),
    ]);
    expect(r.opened).toBe(1);
    const again = await reconciler.run();
    expect(again.opened).toBe(0);
    const open = await openIncidents();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ kind: 'address_balance_short', subject: a, expected_minor: USDT(750), actual_minor: USDT(500), acknowledged_at_ms: null });
    expect(await gauge()).toEqual(expect.arrayContaining([expect.stringMatching(/asset="USDT".* 1$/)]));

    // A deposit row that disagrees with its ledger transfer is its own incident.
    await t.db.kysely.updateTable('deposits').set({ amount_minor: USDT(501) }).where('id', '=', real.id).execute();
    const r3 = await reconciler.run();
    expect(r3.discrepancies.map((d) => d.kind).sort()).toEqual(['address_balance_short', 'deposit_ledger_mismatch', 'deposit_ledger_mismatch']);
    expect(r3.discrepancies.find((d) => d.subject === real.id)?.message).toMatch(/amount 501000000 but the ledger credited 500000000/);
  });

  it('coins on a deposit address that the scanner has not recorded raise an incident naming address and amount; it resolves once scanned', async () => {
    const { b } = await cleanState();
    await payUsdt(b, USDT(42));
    const r = await reconciler.run();
    expect(r.discrepancies).toHaveLength(1);
    expect(r.discrepancies[0]).toMatchObject({ kind: 'unrecorded_coins', subject: b, asset: 'USDT', expected_minor: USDT(7000), actual_minor: USDT(7042) });
    expect(r.discrepancies[0]!.message).toContain(`${b} holds 42000000 USDT`);
    expect(await openIncidents()).toHaveLength(1);

    await scanner.tick();
    const after = await reconciler.run();
    expect(after.ok).toBe(true);
    expect(after.resolved).toBe(1);
    expect(await openIncidents()).toEqual([]);
  });

  it('after sweeps (ERC-20 with a gas top-up, and native) the addresses still reconcile', async () => {
    await cleanState();
    await mine(chainEnv.client, 12);
    await scanner.tick(); // everything credited
    const clock = new ManualClock(Date.now());
    const hot = new Sender({ chain_id: 31337, client: chainEnv.client, private_key: toHex(anvilAccount(3).getHdKey().privateKey!), db: t.db, clock });
    const sweeper = createSweeper({ db: t.db, clock, ledger: env.ledger, chain_id: 31337, client: chainEnv.client, hot, keys: env.keys, native: { code: 'ETH', sweep_min_minor: parseEther('0.01') }, tokens: [{ code: 'USDT', contract: chainEnv.usdt, sweep_min_minor: 1_000_000n }] });
    const jobs = new JobRunner(t.db, { clock });
    registerSweepJobs(jobs, sweeper);
    expect((await sweeper.planSweeps()).length).toBeGreaterThan(0);
    for (let i = 0; i < 15; i++) {
      clock.advance(1_500);
      await jobs.tick();
      await mine(chainEnv.client, 1);
    }
    const sweeps = await t.db.kysely.selectFrom('sweeps').select(['asset', 'status']).execute();
    expect(sweeps.every((s) => s.status === 'confirmed')).toBe(true);
    await scanner.tick(); // sees the hot wallet's gas top-ups to our addresses
    const r = await reconciler.run();
    expect(r.discrepancies).toEqual([]);
    expect(r.summaries.find((s) => s.asset === 'USDT')).toMatchObject({ on_chain_minor: 0n, expected_on_chain_minor: 0n, addresses_in_flight: 0 });
  }, 60_000);

  it('settle reconcile exits 0 when clean and 1 with the difference named', async () => {
    const { b } = await cleanState();
    const dir = mkdtempSync(join(tmpdir(), 'settle-rec-'));
    try {
      const configPath = join(dir, 'settle.config.json');
      writeFileSync(configPath, JSON.stringify({ chains: [chainEnv.chain] }));
      const run = () => spawnSync(process.execPath, ['bin/settle.mjs', 'reconcile'], { env: { ...process.env, ...t.env, SETTLE_CONFIG: configPath, SETTLE_DATA_DIR: dir }, encoding: 'utf8', timeout: 60_000 });
      const ok = run();
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(ok.stdout).toMatch(/ok {3}chain 31337 USDT: seen 7500 = credited 500 \+ held 0 \+ pending 7000/);
      expect(ok.stdout).toContain('reconciled: no differences');

      await payUsdt(b, USDT(3));
      const bad = run();
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/FAIL chain 31337 USDT: .*1 difference/);
      expect(bad.stderr).toContain(`FAIL unrecorded_coins: ${b} holds 3000000 USDT`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
