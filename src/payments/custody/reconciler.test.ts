// Goal: the reconciler proves a clean state clean, and catches (a) a deposit credited in our
// records and ledger that the chain never saw, (b) coins on one of our deposit addresses that no
// record explains — naming the address and the amount — each as ONE open incident that later runs
// refresh rather than duplicate, and that resolves once the difference is gone; `settle reconcile`
// exits 0 when clean and 1 otherwise. Custody: the hot wallet's ledger balance equals the chain
// (withdrawals in flight counted from their receipts, their gas booked), deposit_wallets equals
// what our addresses hold, custody covers what is owed; an unrecorded operator top-up and a
// credit without coins are caught, and `record-funding` books only what the chain shows, once.
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
import { anvilAccount, sendMint, sendNative, sendTokenTransfer } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { createMetrics } from '../../ops/metrics.ts';
import { systemClock } from '../../shared/clock.ts';
import { createDepositScanner, type DepositScanner } from '../deposits/deposit-scanner.ts';
import { depositId, depositTransferIds } from '../deposits/deposit-rules.ts';
import { ledgerEnv, mine, revert, snapshot, startChainEnv, type ChainEnv, type LedgerEnv } from '../../../test/helpers/deposit-testkit.ts';
import { createReconciler, type Reconciler } from './reconciler.ts';
import { JobRunner } from '../../jobs/jobs.ts';
import { ManualClock } from '../../shared/clock.ts';
import { Sender } from '../../chain/chain.ts';
import { createSweeper, registerSweepJobs } from './sweep.ts';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { bookDevFloat } from './dev-float.ts';
import { devHotWalletKey } from '../../chain/chain.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { recordFunding } from './funding.ts';
import { fundingRoutes } from './funding-routes.ts';
import { buildApp } from '../../app.ts';
import { fundHotWallet, headerAuthenticate, testConfig } from '../../../test/helpers/payment-testkit.ts';
import { createWithdrawals, registerWithdrawalJobs } from '../withdrawals/withdrawals.ts';

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
  // A fresh hot wallet per run: it holds only what the tests send it, and every coin is booked.
  const hotKey = generatePrivateKey();
  const hotAddress = privateKeyToAddress(hotKey).toLowerCase() as Hex;

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
    scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, blocks_per_tick_max: 50, receiveMode: async () => 'credit', platformAddresses: () => [hotAddress] });
    reconciler = createReconciler({ db: t.db, ledger: env.ledger, chains: [chainEnv.chain], clock: systemClock, metrics, client: () => chainEnv.client, hotWallet: () => hotAddress });
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
    // The ledger's deposit_wallets now says more than our addresses hold: the custody check sees it too.
    expect(r.discrepancies).toEqual([
      expect.objectContaining({ kind: 'address_balance_short', chain_id: 31337, asset: 'USDT', subject: a, expected_minor: USDT(750), actual_minor: USDT(500) }),
      expect.objectContaining({ kind: 'deposit_wallets_mismatch', chain_id: 31337, asset: 'USDT', expected_minor: USDT(7750), actual_minor: USDT(7500) }),
    ]);
    expect(r.opened).toBe(2);
    const again = await reconciler.run();
    expect(again.opened).toBe(0);
    const open = await openIncidents();
    expect(open).toHaveLength(2);
    expect(open.find((o) => o.kind !== 'deposit_wallets_mismatch')).toMatchObject({ kind: 'address_balance_short', subject: a, expected_minor: USDT(750), actual_minor: USDT(500), acknowledged_at_ms: null });
    expect(await gauge()).toEqual(expect.arrayContaining([expect.stringMatching(/asset="USDT".* 2$/)]));

    // A deposit row that disagrees with its ledger transfer is its own incident.
    await t.db.kysely.updateTable('deposits').set({ amount_minor: USDT(501) }).where('id', '=', real.id).execute();
    const r3 = await reconciler.run();
    expect(r3.discrepancies.map((d) => d.kind).sort()).toEqual(['address_balance_short', 'deposit_ledger_mismatch', 'deposit_ledger_mismatch', 'deposit_wallets_mismatch']);
    expect(r3.discrepancies.find((d) => d.subject === real.id)?.message).toMatch(/amount 501000000 but the ledger credited 500000000/);
  });

  it('coins on a deposit address that the scanner has not recorded raise an incident naming address and amount; it resolves once scanned', async () => {
    const { b } = await cleanState();
    await payUsdt(b, USDT(42));
    const r = await reconciler.run();
    expect(r.discrepancies).toHaveLength(2);
    expect(r.discrepancies[0]).toMatchObject({ kind: 'unrecorded_coins', subject: b, asset: 'USDT', expected_minor: USDT(7000), actual_minor: USDT(7042) });
    expect(r.discrepancies[0]!.message).toContain(`${b} holds 42000000 USDT`);
    expect(r.discrepancies[1]).toMatchObject({ kind: 'deposit_wallets_mismatch', asset: 'USDT', expected_minor: USDT(7500), actual_minor: USDT(7542) });
    expect(await openIncidents()).toHaveLength(2);

    await scanner.tick();
    const after = await reconciler.run();
    expect(after.ok).toBe(true);
    expect(after.resolved).toBe(2);
    expect(await openIncidents()).toEqual([]);
  });

  it('after sweeps (ERC-20 with a gas top-up, and native) the addresses still reconcile', async () => {
    await cleanState();
    await mine(chainEnv.client, 12);
    await scanner.tick(); // everything credited
    const clock = new ManualClock(Date.now());
    // The hot wallet pays the gas top-ups from operator capital, booked when it arrived.
    await fundHotWallet({ db: t.db, ledger: env.ledger, clock, chain: chainEnv.chain, client: chainEnv.client }, hotAddress, 'ETH', parseEther('1'));
    const hot = new Sender({ chain_id: 31337, client: chainEnv.client, private_key: hotKey, db: t.db, clock });
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
    await scanner.tick(); // the hot wallet's gas top-ups to our addresses are not deposits
    const r = await reconciler.run();
    expect(r.discrepancies).toEqual([]);
    const usdt = r.summaries.find((s) => s.asset === 'USDT')!;
    expect(usdt).toMatchObject({ on_chain_minor: 0n, expected_on_chain_minor: 0n, addresses_in_flight: 0 });
    // Custody: the swept USDT sits in the hot wallet, in the ledger and on chain alike.
    expect(usdt.custody.hot_wallet).toMatchObject({ status: 'checked', ledger_minor: USDT(7500), on_chain_minor: USDT(7500), in_flight_minor: 0n });
    expect(usdt.custody.deposit_wallets).toMatchObject({ status: 'checked', ledger_minor: 0n, on_chain_minor: 0n });
    expect(usdt.custody).toMatchObject({ assets_minor: USDT(7500), liabilities_minor: USDT(7500) });
    const eth = r.summaries.find((s) => s.asset === 'ETH')!;
    expect(eth.custody.hot_wallet.status).toBe('checked');
    expect(eth.custody.hot_wallet.ledger_minor).toBe(eth.custody.hot_wallet.on_chain_minor);
    const gas = (await env.ledger.getAccounts([ledgerAccountId('platform', 'platform', 'ETH', 'gas')]))[0]!;
    expect(gas.debits_posted_minor).toBeGreaterThan(0n);
    // Capital (1 ETH) covers what users are owed plus the gas spent on their behalf.
    expect(eth.custody.assets_minor - eth.custody.liabilities_minor).toBe(parseEther('1') - gas.debits_posted_minor);
  }, 60_000);

  it('hot wallet: a withdrawal in flight is counted from its receipt, its gas is booked, an unrecorded top-up is caught and recording it (once) resolves it; a credit without coins is a shortfall', async () => {
    const { a } = await cleanState();
    await mine(chainEnv.client, 12);
    await scanner.tick(); // everything credited
    const clock = new ManualClock(Date.now());
    const fundEnv = { db: t.db, ledger: env.ledger, clock, chain: chainEnv.chain, client: chainEnv.client };
    await fundHotWallet(fundEnv, hotAddress, 'ETH', parseEther('1'));
    const usdtFunding = await fundHotWallet(fundEnv, hotAddress, 'USDT', USDT(1000));
    const custody = (r: Awaited<ReturnType<Reconciler['run']>>, asset: string) => r.summaries.find((s) => s.asset === asset)!.custody;
    const r0 = await reconciler.run();
    expect(r0.discrepancies).toEqual([]);
    expect(custody(r0, 'USDT').hot_wallet).toMatchObject({ status: 'checked', ledger_minor: USDT(1000), on_chain_minor: USDT(1000) });

    // usr_a withdraws 100 USDT: broadcast and mined (automine), not yet at depth, so not booked.
    const hot = new Sender({ chain_id: 31337, client: chainEnv.client, private_key: hotKey, db: t.db, clock });
    const withdrawals = createWithdrawals({ db: t.db, clock, config: { chains: [chainEnv.chain] }, ledger: env.ledger, sender: () => hot });
    const jobs = new JobRunner(t.db, { clock });
    registerWithdrawalJobs(jobs, withdrawals);
    const w = await withdrawals.request({ user_id: 'usr_a', user_status: 'active', idempotency_key: 'w1', asset: 'USDT', to_address: payer.address, amount_minor: USDT(100) });
    await jobs.tick();
    expect((await withdrawals.get(w.payment.id))!.status).toBe('broadcast');
    const r1 = await reconciler.run();
    expect(r1.discrepancies).toEqual([]);
    expect(custody(r1, 'USDT').hot_wallet).toMatchObject({ ledger_minor: USDT(1000), in_flight_minor: -USDT(100), in_flight_txs: 1, on_chain_minor: USDT(900) });
    expect(custody(r1, 'ETH').hot_wallet.in_flight_minor).toBeLessThan(0n); // its gas, paid already

    for (let i = 0; i < 6 && (await withdrawals.get(w.payment.id))!.status !== 'completed'; i++) {
      clock.advance(1_500);
      await mine(chainEnv.client, 1);
      await jobs.tick();
    }
    expect((await withdrawals.get(w.payment.id))!.status).toBe('completed');
    const r2 = await reconciler.run();
    expect(r2.discrepancies).toEqual([]);
    expect(custody(r2, 'USDT').hot_wallet).toMatchObject({ ledger_minor: USDT(900), in_flight_minor: 0n, on_chain_minor: USDT(900) });
    const receipt = await chainEnv.client.getTransactionReceipt({ hash: (await withdrawals.get(w.payment.id))!.tx_hash as Hex });
    const gas = (await env.ledger.getAccounts([ledgerAccountId('platform', 'platform', 'ETH', 'gas')]))[0]!;
    expect(gas.debits_posted_minor).toBe(receipt.gasUsed * receipt.effectiveGasPrice);

    // The operator sends 5 USDT to the hot wallet and forgets to record it: named, with the amount.
    const topup = await sendMint(rpc(), 31337, chainEnv.usdt, anvilAccount(0), hotAddress, USDT(5));
    await chainEnv.client.waitForTransactionReceipt({ hash: topup, pollingInterval: 50 });
    const r3 = await reconciler.run();
    expect(r3.discrepancies).toEqual([expect.objectContaining({ kind: 'hot_wallet_mismatch', asset: 'USDT', subject: hotAddress, expected_minor: USDT(900), actual_minor: USDT(905) })]);
    expect(r3.discrepancies[0]!.message).toMatch(/5000000 unbooked/);
    const actor = { user_id: 'usr_staff', via: 'cli' as const };
    const record = (tx_hash: string) => recordFunding({ db: t.db, ledger: env.ledger, clock }, { chain: chainEnv.chain, client: chainEnv.client, hot: hotAddress, tx_hash, actor });
    expect(await record(topup)).toMatchObject({ ok: false, code: 'not_deep_enough' });
    await mine(chainEnv.client, 3);
    expect(await record(topup)).toMatchObject({ ok: true, result: 'ok', items: [{ asset: 'USDT', amount_minor: USDT(5), result: 'ok' }] });
    expect(await record(topup)).toMatchObject({ ok: true, result: 'exists' });
    expect(await record(usdtFunding)).toMatchObject({ ok: true, result: 'exists' });
    // Refused: a user's deposit (not to the hot wallet), our own withdrawal, a hash the chain lacks, a malformed one.
    const deposit = (await t.db.kysely.selectFrom('deposits').select('tx_hash').where('to_address', '=', a).executeTakeFirstOrThrow()).tx_hash;
    expect(await record(deposit)).toMatchObject({ ok: false, code: 'nothing_to_hot_wallet' });
    expect(await record((await withdrawals.get(w.payment.id))!.tx_hash!)).toMatchObject({ ok: false, code: 'own_transaction' });
    expect(await record(`0x${'cd'.repeat(32)}`)).toMatchObject({ ok: false, code: 'not_found' });
    expect(await record('0x12')).toMatchObject({ ok: false, code: 'invalid_tx_hash' });
    const audit = await t.db.kysely.selectFrom('audit_log').select(['action', 'actor_id', 'subject_id']).where('action', '=', 'hot_wallet_funding_recorded').execute();
    expect(audit.filter((x) => x.actor_id === 'usr_staff')).toEqual([{ action: 'hot_wallet_funding_recorded', actor_id: 'usr_staff', subject_id: `31337:${topup}` }]);
    const r4 = await reconciler.run();
    expect(r4.discrepancies).toEqual([]);
    expect(r4.resolved).toBe(1);

    // Staff credit a user 2,000 USDT with no coins behind it: custody (hot wallet 905 + deposit
    // addresses 7,500) no longer covers what is owed (users 7,400 + 2,000): short by 995.
    await env.ledger.ensureAccounts([{ id: ledgerAccountId('platform', 'platform', 'USDT', 'corrections'), asset: 'USDT', owner_type: 'platform', owner_id: 'platform', kind: 'corrections', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } }]);
    const [credit] = await env.ledger.createTransfers([{ id: 'staff-credit', debit_account_id: ledgerAccountId('platform', 'platform', 'USDT', 'corrections'), credit_account_id: ledgerAccountId('user', 'usr_b', 'USDT', 'user_available'), amount_minor: USDT(2000), asset: 'USDT', reason: 'staff_credit', reference: null }]);
    expect(credit!.result).toBe('ok');
    const r5 = await reconciler.run();
    expect(r5.discrepancies).toEqual([expect.objectContaining({ kind: 'custody_shortfall', asset: 'USDT', subject: 'solvency', actual_minor: USDT(905 + 7500), expected_minor: USDT(7400 + 2000) })]);
    expect(r5.discrepancies[0]!.message).toMatch(/short by 995000000/);
    expect((await openIncidents()).map((o) => o.kind)).toEqual(['custody_shortfall']);
    await jobs.stop(1000);
  }, 90_000);

  it('POST /admin/chains/{id}/fundings: an admin books what the chain shows, once; others are refused', async () => {
    const { a } = await cleanState();
    const clock = new ManualClock(Date.now());
    const app = await buildApp({
      config: testConfig(), db: t.db, clock, metrics: createMetrics(false), authenticate: headerAuthenticate,
      routes: [{ name: 'funding', plugin: fundingRoutes({ db: t.db, ledger: env.ledger, clock, chains: [chainEnv.chain], hotWallet: () => hotAddress, client: () => chainEnv.client }) }],
    });
    try {
      const topup = await payEth(hotAddress, parseEther('1.5'));
      await mine(chainEnv.client, 12);
      const post = (who: string, body: object, chain = 31337) => app.inject({ method: 'POST', url: `/api/v1/admin/chains/${chain}/fundings`, headers: { 'x-test-user': who }, payload: body });
      expect((await post('usr_agent:agent', { tx_hash: topup })).statusCode).toBe(403);
      const first = await post('usr_admin:admin', { tx_hash: topup });
      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({ result: 'ok', chain_id: 31337, tx_hash: topup, items: [{ asset: 'ETH', amount: '1.5', log_index: null, transfer_id: `funding:31337:${topup}:native`, result: 'ok' }] });
      const again = await post('usr_admin:admin', { tx_hash: topup });
      expect([again.statusCode, again.json().result]).toEqual([200, 'exists']);
      expect((await post('usr_admin:admin', { tx_hash: topup }, 5)).statusCode).toBe(404);
      expect((await post('usr_admin:admin', { tx_hash: '0x12' })).statusCode).toBe(400);
      const deposit = (await t.db.kysely.selectFrom('deposits').select('tx_hash').where('to_address', '=', a).executeTakeFirstOrThrow()).tx_hash;
      const refused = await post('usr_admin:admin', { tx_hash: deposit });
      expect([refused.statusCode, refused.json().code]).toEqual([422, 'nothing_to_hot_wallet']);
      const audit = await t.db.kysely.selectFrom('audit_log').select(['actor_id', 'subject_id']).where('action', '=', 'hot_wallet_funding_recorded').execute();
      expect(audit).toEqual([{ actor_id: 'usr_admin', subject_id: `31337:${topup}` }]);
      const r = await reconciler.run();
      expect(r.discrepancies).toEqual([]);
      expect(r.summaries.find((s) => s.asset === 'ETH')!.custody.hot_wallet).toMatchObject({ status: 'checked', ledger_minor: parseEther('1.5'), on_chain_minor: parseEther('1.5') });
    } finally {
      await app.close();
    }
  }, 60_000);

  it('settle reconcile exits 0 when clean and 1 with the difference named', async () => {
    const { b } = await cleanState();
    // The CLI checks the dev hot wallet on chain 31337 (anvil account #9): its genesis ETH is
    // operator capital, booked the way the dev chain books it at start.
    const devHot = privateKeyToAddress(devHotWalletKey()).toLowerCase() as Hex;
    expect((await bookDevFloat({ ledger: env.ledger, client: chainEnv.client, chain: chainEnv.chain, hot: devHot })).map((i) => i.asset)).toEqual(['ETH']);
    expect(await bookDevFloat({ ledger: env.ledger, client: chainEnv.client, chain: chainEnv.chain, hot: devHot })).toEqual([]);
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
      expect(ok.stdout).toMatch(/ok {3}chain 31337 ETH custody: hot wallet ledger 10000 = chain 10000; deposit wallets ledger 0\.5 = chain 0\.5; custody 10000\.5 ≥ owed 0\.5/);

      // The operator tops the dev hot wallet up with 2 ETH and an admin records it from the CLI.
      const topup = await payEth(devHot, parseEther('2'));
      await mine(chainEnv.client, 12);
      const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/settle.mjs', ...args], { env: { ...process.env, ...t.env, SETTLE_CONFIG: configPath, SETTLE_DATA_DIR: dir }, encoding: 'utf8', timeout: 60_000 });
      expect(cli('admin', 'create', '--email', 'ops@example.test', '--password', 'a long operator passphrase 7', '--role', 'admin').status).toBe(0);
      const refused = cli('chain', 'record-funding', '31337', topup, '--by', 'nobody@example.test');
      expect([refused.status, refused.stderr]).toEqual([2, expect.stringContaining('nobody@example.test is not an admin')]);
      const recorded = cli('chain', 'record-funding', '31337', topup, '--by', 'ops@example.test');
      expect(recorded.stderr).toBe('');
      expect(recorded.stdout).toContain(`booked 2 ETH (funding:31337:${topup}:native)`);
      const again = cli('chain', 'record-funding', '31337', topup, '--by', 'ops@example.test');
      expect([again.status, again.stdout]).toEqual([0, expect.stringContaining('already recorded')]);

      await payUsdt(b, USDT(3));
      const bad = run();
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/FAIL chain 31337 USDT: .*2 difference/);
      expect(bad.stdout).toMatch(/FAIL chain 31337 USDT custody: .*deposit wallets ledger 7500 ≠ chain 7503/);
      expect(bad.stderr).toContain(`FAIL unrecorded_coins: ${b} holds 3000000 USDT`);
      expect(bad.stdout).toMatch(/ok {3}chain 31337 ETH custody: hot wallet ledger 10002 = chain 10002;/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
