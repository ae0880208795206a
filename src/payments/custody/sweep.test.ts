// Goal: the sweeper moves deposit-address coins (ERC-20 with a gas top-up, and native) into the
// hot wallet and books each movement in the ledger exactly once, even when planned twice and
// when the process "restarts" mid-sweep; and with more addresses than one plan reads, its saved
// rotation reaches every funded user and invoice address within two laps. Method: real anvil + TestUSDT, real ledger and job
// runner on a real database; HD deposit keys from a fresh mnemonic; the restart is a new
// Sweeper + JobRunner over a new connection continuing the same durable jobs. No deposit scanner
// runs here: `scannedToHead()` records its cursor at the head (every coin here is settled), since
// the sweeper reads balances at the scanner's block. Sweeps held back by confirming deposits and
// reorgs are in sweep-settled.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEther, toHex, type PublicClient } from 'viem';
import { english, generateMnemonic } from 'viem/accounts';
import { openDb } from '../../db/database.ts';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { JobRunner } from '../../jobs/jobs.ts';
import { createLedger, type Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { ManualClock } from '../../shared/clock.ts';
import { startAnvil, type AnvilHandle } from '../../chain/chain.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { Sender } from '../../chain/chain.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../chain/chain.ts';
import { anvilAccount, deployTestUsdt, sendMint, sendNative } from '../../chain/chain.ts';
import { balanceOfToken } from '../../../test/helpers/anvil.ts';
import type { Hex } from '../../chain/chain.ts';
import { deterministicId } from '../../shared/ids.ts';
import { createSweeper, registerSweepJobs, type Sweeper } from './sweep.ts';

const CHAIN = 31337;

describe.each(DIALECTS)('sweeper on %s', (dialect) => {
  let anvil: AnvilHandle;
  let client: PublicClient;
  let t: TestDb;
  let token: Hex;
  let ledger: Ledger;
  const clock = new ManualClock(Date.now());
  const mnemonic = generateMnemonic(english);
  const keys = createDepositKeys(mnemonic);
  const invoiceKeys = createDepositKeys(mnemonic, INVOICE_PATH_PREFIX);
  const dep0 = keys.address(0);
  const dep1 = keys.address(1);

  beforeAll(async () => {
    anvil = await startAnvil();
    client = createEvmClient({ chain_id: CHAIN, rpc_url: anvil.rpc_url });
    t = await openTestDb(dialect);
    token = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    await client.waitForTransactionReceipt({ hash: await sendMint(anvil.rpc_url, CHAIN, token, anvilAccount(0), dep0, 250_000_000n) });
    await client.waitForTransactionReceipt({ hash: await sendNative(anvil.rpc_url, CHAIN, anvilAccount(2), dep1, parseEther('1')) });
    for (const [i, address] of [dep0, dep1].entries()) {
      await t.db.kysely.insertInto('deposit_addresses').values({ chain_id: CHAIN, user_id: `usr_${i}`, address, hd_index: i, issued_at_block: 0, created_at_ms: clock.now_ms() }).execute();
    }
    ledger = createLedger(t.db, clock);
    await ledger.ensureAssets([
      { code: 'USDT', decimals: 6, chain_id: CHAIN, contract_address: token },
      { code: 'ETH', decimals: 18, chain_id: CHAIN, contract_address: null },
    ]);
  }, 60_000);

  afterAll(async () => {
    await ledger?.drain();
    await t?.cleanup();
    await anvil?.stop();
  });

  /** As if the deposit scanner had scanned up to the head and found every coin settled. */
  async function scannedToHead(): Promise<void> {
    const head = await client.getBlock({ blockTag: 'latest' });
    const now = clock.now_ms();
    await t.db.kysely.insertInto('chain_blocks').values({ chain_id: CHAIN, number: Number(head.number), hash: head.hash, parent_hash: head.parentHash, timestamp_s: Number(head.timestamp), seen_at_ms: now }).onConflict((oc) => oc.columns(['chain_id', 'number']).doUpdateSet({ hash: head.hash, parent_hash: head.parentHash })).execute();
    const next_block = Number(head.number) + 1;
    await t.db.kysely.insertInto('chain_cursors').values({ chain_id: CHAIN, next_block, head: Number(head.number), head_seen_at_ms: now, block_time_ms: null, updated_at_ms: now }).onConflict((oc) => oc.column('chain_id').doUpdateSet({ next_block, head: Number(head.number) })).execute();
  }

  function sweeperOn(db: TestDb['db'], withInvoices = false, opts: { limit?: number; reader?: PublicClient } = {}): { sweeper: Sweeper; jobs: JobRunner; hot: Sender } {
    const hot = new Sender({ chain_id: CHAIN, client, private_key: toHex(anvilAccount(1).getHdKey().privateKey!), db, clock });
    const l = db === t.db ? ledger : createLedger(db, clock);
    const sweeper = createSweeper({
      db, clock, ledger: l, chain_id: CHAIN, client: opts.reader ?? client, hot, keys, native: { code: 'ETH', sweep_min_minor: parseEther('0.01') }, tokens: [{ code: 'USDT', contract: token, sweep_min_minor: 1_000_000n }], invoice_keys: withInvoices ? invoiceKeys : null,
      ...(opts.limit ? { addresses_per_plan_max: opts.limit } : {}),
    });
    const jobs = new JobRunner(db, { clock });
    registerSweepJobs(jobs, sweeper);
    return { sweeper, jobs, hot };
  }

  it('sweeps ERC-20 (with gas top-up) and native once, even if planned twice and restarted', async () => {
    const a = sweeperOn(t.db);
    const hotEthBefore = await client.getBalance({ address: a.hot.address });
    // Before the scanner has scanned anything, nothing is known to be settled: nothing is planned.
    expect(await a.sweeper.planSweeps()).toEqual([]);
    await scannedToHead();
    const first = await a.sweeper.planSweeps();
    const second = await a.sweeper.planSweeps();
    expect(first.map((s) => s.asset).sort()).toEqual(['ETH', 'USDT']);
    expect(second).toEqual([]);

    await a.jobs.tick(); // USDT: gas top-up sent; ETH: moves to sweeping
    // "Restart": a new process picks the durable jobs up over its own connection (PG) or handle.
    const db2 = dialect === 'postgres' ? openDb(t.target) : t.db;
    try {
      const b = sweeperOn(db2);
      for (let i = 0; i < 12; i++) {
        clock.advance(1_500);
        await b.jobs.tick();
        await client.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never });
      }
      const rows = await t.db.kysely.selectFrom('sweeps').selectAll().orderBy('asset').execute();
      expect(rows.map((r) => [r.asset, r.status])).toEqual([
        ['ETH', 'confirmed'],
        ['USDT', 'confirmed'],
      ]);
      expect(await balanceOfToken(client, token, dep0)).toBe(0n);
      expect(await balanceOfToken(client, token, a.hot.address)).toBe(250_000_000n);
      const ethSwept = rows[0]!.amount_minor;
      expect(ethSwept > parseEther('0.99')).toBe(true);

      // Ledger: each movement booked once.
      const acct = (asset: string, kind: 'hot_wallet' | 'deposit_wallets' | 'gas') => ledgerAccountId('platform', 'platform', asset, kind);
      const [hotUsdt, depUsdt, gasEth, hotEth] = await ledger.getAccounts([acct('USDT', 'hot_wallet'), acct('USDT', 'deposit_wallets'), acct('ETH', 'gas'), acct('ETH', 'hot_wallet')]).then((list) =>
        [acct('USDT', 'hot_wallet'), acct('USDT', 'deposit_wallets'), acct('ETH', 'gas'), acct('ETH', 'hot_wallet')].map((id) => list.find((x) => x.id === id)!),
      );
      expect(hotUsdt!.debits_posted_minor).toBe(250_000_000n);
      expect(depUsdt!.credits_posted_minor).toBe(250_000_000n);
      const gasBooked = gasEth!.debits_posted_minor;
      expect(gasBooked).toBe(rows.reduce((sum, r) => sum + (r.gas_fee_minor ?? 0n), 0n));
      expect(gasBooked > 0n).toBe(true);
      // The hot wallet's chain balance moved by exactly what the ledger says it did.
      const hotEthAfter = await client.getBalance({ address: a.hot.address });
      expect(hotEthAfter - hotEthBefore).toBe(hotEth!.debits_posted_minor - hotEth!.credits_posted_minor);

      // Running everything again books nothing more and plans nothing new.
      await scannedToHead();
      const third = await b.sweeper.planSweeps();
      expect(third.map((s) => [s.asset, s.deposit_address, String(s.amount_minor)])).toEqual([]);
      clock.advance(10_000);
      await b.jobs.tick();
      const [again] = await ledger.getAccounts([acct('USDT', 'hot_wallet')]);
      expect(again!.debits_posted_minor).toBe(250_000_000n);
    } finally {
      if (db2 !== t.db) await db2.close();
    }
  }, 90_000);

  it('sweeps an invoice address too: its key comes from the invoice path, even at an index a user also has', async () => {
    // Invoice #0's address (m/44'/60'/1'/0/0) is not user #0's (m/44'/60'/0'/0/0): the sweeper
    // must sign with the invoice key, found by deriving the address again.
    const inv = invoiceKeys.address(0);
    expect(inv).not.toBe(dep0);
    await client.waitForTransactionReceipt({ hash: await sendMint(anvil.rpc_url, CHAIN, token, anvilAccount(0), inv, 30_000_000n) });
    const now = clock.now_ms();
    await t.db.kysely.insertInto('invoices').values({
      id: 'inv_1', user_id: 'usr_merchant', chain_id: CHAIN, asset: 'USDT', amount_due_minor: 30_000_000n, amount_paid_minor: 30_000_000n, status: 'settled', exception: null,
      address: inv, hd_index: 0, issued_at_block: 0, order_id: null, metadata: null, mark_reason: null, marked_by: null, expires_at_ms: now, status_since_ms: now, created_at_ms: now, updated_at_ms: now,
    }).execute();
    await scannedToHead();
    // Without the invoice keys, invoice addresses are left alone (as before).
    expect(await sweeperOn(t.db).sweeper.planSweeps()).toEqual([]);
    const a = sweeperOn(t.db, true);
    const hotBefore = await balanceOfToken(client, token, a.hot.address);
    const planned = await a.sweeper.planSweeps();
    expect(planned.map((p) => [p.asset, p.deposit_address, p.amount_minor])).toEqual([['USDT', inv, 30_000_000n]]);
    for (let i = 0; i < 12 && (await a.sweeper.get(planned[0]!.id))!.status !== 'confirmed'; i++) {
      clock.advance(1_500);
      await a.jobs.tick();
      await client.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never });
    }
    expect((await a.sweeper.get(planned[0]!.id))!.status).toBe('confirmed');
    expect(await balanceOfToken(client, token, inv)).toBe(0n);
    expect((await balanceOfToken(client, token, a.hot.address)) - hotBefore).toBe(30_000_000n);
    const [hot] = await ledger.getAccounts([ledgerAccountId('platform', 'platform', 'USDT', 'hot_wallet')]);
    expect(hot!.debits_posted_minor).toBe(250_000_000n + 30_000_000n);
  }, 60_000);

  it('reaches every funded user and invoice address within two laps of a 3-address rotation, across restarts, sweeping each once', async () => {
    const LIMIT = 3;
    const now = clock.now_ms();
    // 7 more users and 5 more invoices: with the 2 users and 1 invoice above, 15 addresses, 5 plans a lap.
    const users = [10, 11, 12, 13, 14, 15, 16].map((i) => ({ i, address: keys.address(i) }));
    const invs = [10, 11, 12, 13, 14].map((i) => ({ i, address: invoiceKeys.address(i) }));
    for (const u of users) await t.db.kysely.insertInto('deposit_addresses').values({ chain_id: CHAIN, user_id: `usr_${u.i}`, address: u.address, hd_index: u.i, issued_at_block: 0, created_at_ms: now }).execute();
    for (const v of invs) {
      await t.db.kysely.insertInto('invoices').values({
        id: `inv_r${v.i}`, user_id: 'usr_merchant', chain_id: CHAIN, asset: 'USDT', amount_due_minor: 1n, amount_paid_minor: 1n, status: 'settled', exception: null,
        address: v.address, hd_index: v.i, issued_at_block: 0, order_id: null, metadata: null, mark_reason: null, marked_by: null, expires_at_ms: now, status_since_ms: now, created_at_ms: now, updated_at_ms: now,
      }).execute();
    }
    // Funded: users 10 (USDT), 12 (ETH), 13 (USDT and ETH), 16 (USDT); invoices 10 (USDT), 12 (ETH), 14 (USDT). The rest hold nothing.
    const at = (list: Array<{ i: number; address: Hex }>, i: number) => list.find((x) => x.i === i)!.address;
    const usdt: Array<[Hex, bigint]> = [[at(users, 10), 5_000_000n], [at(users, 13), 7_000_000n], [at(users, 16), 2_000_000n], [at(invs, 10), 3_000_000n], [at(invs, 14), 4_000_000n]];
    const eth: Array<[Hex, bigint]> = [[at(users, 12), parseEther('0.5')], [at(users, 13), parseEther('0.3')], [at(invs, 12), parseEther('0.2')]];
    for (const [a, v] of usdt) await client.waitForTransactionReceipt({ hash: await sendMint(anvil.rpc_url, CHAIN, token, anvilAccount(0), a, v) });
    for (const [a, v] of eth) await client.waitForTransactionReceipt({ hash: await sendNative(anvil.rpc_url, CHAIN, anvilAccount(2), a, v) });
    // Invoice 14 once had a sweep that failed before its address sent anything (a failed gas
    // top-up): the address's nonce did not move, and the next sweep must still be planned.
    const failedId = deterministicId('swp', String(CHAIN), at(invs, 14), 'USDT', '0');
    await t.db.kysely.insertInto('sweeps').values({ id: failedId, chain_id: CHAIN, asset: 'USDT', deposit_address: at(invs, 14), derivation_index: 14, amount_minor: 4_000_000n, status: 'failed', gas_tx_id: null, sweep_tx_id: null, gas_fee_minor: 0n, failure_reason: 'gas top-up failed: test', created_at_ms: now, updated_at_ms: now }).execute();

    const acct = (asset: string, kind: 'hot_wallet' | 'deposit_wallets' | 'gas') => ledgerAccountId('platform', 'platform', asset, kind);
    const ids = [acct('USDT', 'hot_wallet'), acct('USDT', 'deposit_wallets'), acct('ETH', 'hot_wallet'), acct('ETH', 'gas')];
    const ledgerNow = async () => {
      const list = await ledger.getAccounts(ids);
      return ids.map((id) => { const x = list.find((y) => y.id === id)!; return { dr: x.debits_posted_minor, cr: x.credits_posted_minor }; });
    };
    const hotAddress = sweeperOn(t.db).hot.address;
    const before = { ledger: await ledgerNow(), usdt: await balanceOfToken(client, token, hotAddress), eth: await client.getBalance({ address: hotAddress }), sweeps: (await t.db.kysely.selectFrom('sweeps').select('id').execute()).map((r) => r.id) };

    // Which addresses each plan reads: every plan is a new sweeper (a restart), reading through a
    // counting client that, during the first lap, fails every read of invoice 10's address.
    let read = new Set<string>();
    let failing: Hex | null = at(invs, 10);
    const check = (address: Hex) => {
      read.add(address);
      if (address === failing) throw new Error('rpc: connection reset');
    };
    const reader = new Proxy(client, {
      get(target, key, receiver) {
        if (key === 'getBalance') return async (args: { address: Hex }) => (check(args.address), target.getBalance(args));
        if (key === 'readContract') return async (args: { args: [Hex] }) => (check(args.args[0]), target.readContract(args as never));
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const plannedAt = new Map<string, number>();
    const seen = new Set(before.sweeps);
    const errors: string[] = [];
    const LAP = Math.ceil(15 / LIMIT);
    for (let plan = 0; plan < 2 * LAP; plan++) {
      read = new Set();
      if (plan === LAP) failing = null;
      const s = sweeperOn(t.db, true, { limit: LIMIT, reader });
      await scannedToHead();
      await s.sweeper.planSweeps().catch((e: Error) => errors.push(e.message));
      // What this plan recorded (a plan that failed on one address still plans the others).
      for (const row of await t.db.kysely.selectFrom('sweeps').selectAll().execute()) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        expect(plannedAt.has(`${row.deposit_address}:${row.asset}`), `${row.deposit_address} ${row.asset} planned twice`).toBe(false);
        plannedAt.set(`${row.deposit_address}:${row.asset}`, plan);
      }
      expect(read.size).toBeLessThanOrEqual(LIMIT);
      // Drive the jobs until nothing is open (a token sweep needs a top-up, then the transfer).
      for (let i = 0; i < 20; i++) {
        const open = await t.db.kysely.selectFrom('sweeps').select('id').where('status', 'in', ['planned', 'gas', 'sweeping']).execute();
        if (open.length === 0) break;
        clock.advance(1_500);
        await s.jobs.tick();
        await client.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never });
      }
    }
    // The failing address stopped one plan, not the rotation; it was swept in the second lap.
    expect(errors).toEqual(['rpc: connection reset']);
    expect(plannedAt.get(`${at(invs, 10)}:USDT`)).toBeGreaterThanOrEqual(LAP);
    // Every funded (address, asset) was planned within two laps, and emptied.
    expect([...plannedAt.keys()].sort()).toEqual([...usdt.map(([a]) => `${a}:USDT`), ...eth.map(([a]) => `${a}:ETH`)].sort());
    for (const [a] of usdt) expect(await balanceOfToken(client, token, a)).toBe(0n);
    for (const [a] of eth) expect((await client.getBalance({ address: a })) < parseEther('0.001')).toBe(true);
    // One confirmed sweep per (address, asset); the earlier failed one stays as it was.
    const rows = await t.db.kysely.selectFrom('sweeps').selectAll().where('id', 'not in', before.sweeps).execute();
    expect(rows.map((r) => [r.deposit_address, r.asset, r.status]).sort()).toEqual([...plannedAt.keys()].map((k) => [...k.split(':'), 'confirmed']).sort());
    expect((await sweeperOn(t.db).sweeper.get(failedId))!.status).toBe('failed');
    // The ledger moved exactly what the chain did: USDT and ETH into the hot wallet, gas booked once.
    const after = await ledgerNow();
    const delta = (k: number) => ({ dr: after[k]!.dr - before.ledger[k]!.dr, cr: after[k]!.cr - before.ledger[k]!.cr });
    const usdtSwept = usdt.reduce((s, [, v]) => s + v, 0n);
    expect(delta(0)).toEqual({ dr: usdtSwept, cr: 0n });
    expect(delta(1)).toEqual({ dr: 0n, cr: usdtSwept });
    expect((await balanceOfToken(client, token, hotAddress)) - before.usdt).toBe(usdtSwept);
    expect((await client.getBalance({ address: hotAddress })) - before.eth).toBe(delta(2).dr - delta(2).cr);
    expect(delta(3).dr).toBe(rows.reduce((s, r) => s + (r.gas_fee_minor ?? 0n), 0n));

    // Another lap plans nothing: nothing is left to sweep.
    await scannedToHead();
    for (let plan = 0; plan < LAP; plan++) expect(await sweeperOn(t.db, true, { limit: LIMIT }).sweeper.planSweeps()).toEqual([]);
  }, 120_000);
});
