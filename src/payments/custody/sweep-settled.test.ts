// Goal: the sweeper moves only settled coins: an address with a deposit still confirming is not
// swept until that deposit is at its depth; coins the deposit scanner has not seen yet are not
// counted; and a reorg that removes a confirming deposit leaves the ledger and the chain in
// agreement (reconcile clean: deposit wallets, hot wallet, solvency). Method: real anvil
// (TestUSDT + ETH), the real deposit scanner ticked by hand, the real ledger, job runner and
// reconciler on each dialect; the reorg is anvil_reorg; the chain is reset to a snapshot after
// each test. (A chain-module test that uses payments: the sweeper's rule is about deposits.)
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { JobRunner } from '../../jobs/jobs.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { createDepositScanner, type DepositScanner } from '../deposits/deposit-scanner.ts';
import { ledgerEnv, mine, revert, snapshot, startChainEnv, type ChainEnv, type LedgerEnv } from '../../../test/helpers/deposit-testkit.ts';
import { fundHotWallet } from '../../../test/helpers/payment-testkit.ts';
import { createReconciler } from './reconciler.ts';
import { ManualClock, systemClock } from '../../shared/clock.ts';
import type { Hex } from '../../chain/chain.ts';
import { Sender } from '../../chain/chain.ts';
import { createSweeper, registerSweepJobs, type Sweeper } from './sweep.ts';
import { anvilAccount, sendMint, sendNative, sendTokenTransfer } from '../../chain/chain.ts';
import { balanceOfToken } from '../../../test/helpers/anvil.ts';

const CHAIN = 31337;
const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);

describe.each(DIALECTS)('sweeping settled coins only, on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let snap: Hex;
  let t: TestDb;
  let env: LedgerEnv;
  let scanner: DepositScanner;
  let sweeper: Sweeper;
  let jobs: JobRunner;
  const clock = new ManualClock(Date.now());
  // A fresh hot wallet: it holds only what the tests send it, and every coin is booked.
  const hotKey = generatePrivateKey();
  const hotAddress = privateKeyToAddress(hotKey).toLowerCase() as Hex;

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    const h = await sendMint(chainEnv.anvil.rpc_url, CHAIN, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(100_000));
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  }, 60_000);
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    snap = await snapshot(chainEnv.client);
    t = await openTestDb(dialect);
    env = await ledgerEnv(t.db, chainEnv, clock);
    scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, clock, blocks_per_tick_max: 50, receiveMode: async () => 'credit', platformAddresses: () => [hotAddress] });
    // The hot wallet pays the gas top-ups from operator capital, booked when it arrived (12 blocks deep).
    await fundHotWallet({ db: t.db, ledger: env.ledger, clock, chain: chainEnv.chain, client: chainEnv.client }, hotAddress, 'ETH', parseEther('1'));
    const hot = new Sender({ chain_id: CHAIN, client: chainEnv.client, private_key: hotKey, db: t.db, clock });
    sweeper = createSweeper({ db: t.db, clock, ledger: env.ledger, chain_id: CHAIN, client: chainEnv.client, hot, keys: env.keys, native: { code: 'ETH', sweep_min_minor: parseEther('0.01') }, tokens: [{ code: 'USDT', contract: chainEnv.usdt, sweep_min_minor: USDT(1) }] });
    jobs = new JobRunner(t.db, { clock });
    registerSweepJobs(jobs, sweeper);
  }, 60_000);
  afterEach(async () => {
    await env.ledger.drain();
    await t.cleanup();
    await revert(chainEnv.client, snap);
  });

  async function payUsdt(to: Hex, amount: bigint): Promise<Hex> {
    const h = await sendTokenTransfer(chainEnv.anvil.rpc_url, CHAIN, chainEnv.usdt, payer, to, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
    return h;
  }
  async function payEth(to: Hex, amount: bigint): Promise<Hex> {
    const h = await sendNative(chainEnv.anvil.rpc_url, CHAIN, payer, to, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
    return h;
  }
  const planned = async () => (await sweeper.planSweeps()).map((s) => [s.deposit_address, s.asset, s.amount_minor]).sort();
  const statusOf = async (to: Hex) => (await t.db.kysely.selectFrom('deposits').select(['status', 'amount_minor']).where('to_address', '=', to).orderBy('first_seen_at_ms').execute()).map((d) => [d.status, d.amount_minor]);
  /** Drives every open sweep to its end (top-up, transfer, booking), mining as it goes. */
  async function driveSweeps(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const open = await t.db.kysely.selectFrom('sweeps').select('id').where('status', 'in', ['planned', 'gas', 'sweeping']).execute();
      if (open.length === 0) return;
      clock.advance(1_500);
      await jobs.tick();
      await mine(chainEnv.client, 1);
    }
    throw new Error('sweeps did not finish');
  }
  async function reconcileClean(): Promise<void> {
    const r = await createReconciler({ db: t.db, ledger: env.ledger, chains: [chainEnv.chain], clock: systemClock, client: () => chainEnv.client, hotWallet: () => hotAddress }).run();
    expect(r.discrepancies).toEqual([]);
    expect(r.ok).toBe(true);
    for (const s of r.summaries) {
      expect(s.custody.hot_wallet.status, `${s.asset} hot wallet`).toBe('checked');
      expect(s.custody.deposit_wallets.status, `${s.asset} deposit wallets`).toBe('checked');
      expect(s.custody.hot_wallet.ledger_minor + s.custody.hot_wallet.in_flight_minor).toBe(s.custody.hot_wallet.on_chain_minor);
      expect(s.custody.deposit_wallets.ledger_minor).toBe(s.custody.deposit_wallets.on_chain_minor);
    }
  }

  it('an address with a deposit still confirming is not swept (no asset of it); once the deposit is at depth it is', async () => {
    const a = await env.address('usr_a');
    const b = await env.address('usr_b');
    await payUsdt(a, USDT(300));
    await payUsdt(b, USDT(400));
    await mine(chainEnv.client, 3);
    await scanner.tick(); // both credited (3 blocks for up to 1000 USDT)
    await payUsdt(a, USDT(7000)); // 12 blocks: still confirming
    await payEth(a, parseEther('2')); // 12 blocks: still confirming
    await scanner.tick();
    expect(await statusOf(a)).toEqual([['credited', USDT(300)], ['confirming', USDT(7000)], ['confirming', parseEther('2')]]);

    // Only b is swept: a's credited 300 USDT waits with its confirming deposits.
    expect(await planned()).toEqual([[b, 'USDT', USDT(400)]]);
    await driveSweeps();
    await scanner.tick();
    await reconcileClean();
    expect(await planned()).toEqual([]);

    // At depth, everything at a is swept (its ETH after its USDT: it pays the USDT sweep's gas).
    await mine(chainEnv.client, 12);
    await scanner.tick();
    expect((await statusOf(a)).map(([s]) => s)).toEqual(['credited', 'credited', 'credited']);
    expect(await planned()).toEqual([[a, 'USDT', USDT(7300)]]);
    await driveSweeps();
    await scanner.tick();
    const eth = await planned();
    expect(eth.map(([addr, asset]) => [addr, asset])).toEqual([[a, 'ETH']]);
    await driveSweeps();
    await scanner.tick();
    expect(await balanceOfToken(chainEnv.client, chainEnv.usdt, a)).toBe(0n);
    expect(await balanceOfToken(chainEnv.client, chainEnv.usdt, hotAddress)).toBe(USDT(7700));
    expect((await chainEnv.client.getBalance({ address: a })) < parseEther('0.001')).toBe(true);
    await reconcileClean();
  }, 120_000);

  it('a reorg removing a confirming deposit: the address was never swept with it; after the drop the settled coins are, and reconcile is clean; coins not yet scanned are not counted', async () => {
    const a = await env.address('usr_a');
    await payUsdt(a, USDT(300));
    await mine(chainEnv.client, 3);
    await scanner.tick(); // credited
    const gone = await payUsdt(a, USDT(700)); // in the head block
    await scanner.tick();
    expect(await statusOf(a)).toEqual([['credited', USDT(300)], ['confirming', USDT(700)]]);
    expect(await planned()).toEqual([]);

    // The reorg replaces the head block (with the 700 USDT deposit) by an empty one.
    await chainEnv.client.request({ method: 'anvil_reorg' as never, params: [1, []] as never });
    expect(await chainEnv.client.getTransactionReceipt({ hash: gone }).catch(() => null)).toBeNull();
    expect((await scanner.tick()).dropped).toBe(1);
    expect(await statusOf(a)).toEqual([['credited', USDT(300)], ['dropped', USDT(700)]]);
    await reconcileClean();

    // 50 USDT arrive after the scanner's last block: the plan counts only the settled 300.
    await payUsdt(a, USDT(50));
    expect(await balanceOfToken(chainEnv.client, chainEnv.usdt, a)).toBe(USDT(350));
    expect(await planned()).toEqual([[a, 'USDT', USDT(300)]]);
    await driveSweeps();
    expect((await t.db.kysely.selectFrom('sweeps').select(['status', 'amount_minor']).execute()).map((s) => [s.status, s.amount_minor])).toEqual([['confirmed', USDT(300)]]);
    await scanner.tick(); // the 50 USDT deposit is found (and is deep by now)
    expect(await balanceOfToken(chainEnv.client, chainEnv.usdt, a)).toBe(USDT(50));
    expect(await balanceOfToken(chainEnv.client, chainEnv.usdt, hotAddress)).toBe(USDT(300));
    const [hot, dep] = await env.ledger.getAccounts([ledgerAccountId('platform', 'platform', 'USDT', 'hot_wallet'), ledgerAccountId('platform', 'platform', 'USDT', 'deposit_wallets')]).then((l) =>
      ['hot_wallet', 'deposit_wallets'].map((k) => l.find((x) => x.id === ledgerAccountId('platform', 'platform', 'USDT', k as 'hot_wallet'))!),
    );
    expect(hot!.debits_posted_minor - hot!.credits_posted_minor).toBe(USDT(300));
    expect(dep!.debits_posted_minor + dep!.debits_pending_minor - dep!.credits_posted_minor - dep!.credits_pending_minor).toBe(USDT(50));
    await reconcileClean();
  }, 120_000);
});
