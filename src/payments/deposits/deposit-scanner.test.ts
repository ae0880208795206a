// Goal: deposits on a real chain are detected, counted to their tier's depth, released exactly
// once, survive rescans and reorgs, and a release undone by a deep reorg is reversed and raised.
// Method: a real anvil started here (automine, plus anvil_mine for depth), TestUSDT and native
// ETH payments from funded accounts, the real ledger on each dialect, the scanner ticked by hand;
// reorgs made with evm_snapshot/evm_revert, anvil_reorg and anvil_rollback. Money is checked
// through ledger balances and the ledger transfers themselves.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { anvilAccount, sendNative, sendTokenTransfer } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { getPayment } from '../payments.ts';
import { createDepositScanner, type DepositScanner } from './deposit-scanner.ts';
import { depositId, depositTransferIds } from './deposit-rules.ts';
import { selectIncidents } from './deposit-store.ts';
import { depositIngest } from './deposit-ingest.ts';
import { ledgerEnv, mine, revert, snapshot, startChainEnv, type ChainEnv, type LedgerEnv } from '../../../test/helpers/deposit-testkit.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);

describe.each(DIALECTS)('deposit scanner on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let t: TestDb;
  let env: LedgerEnv;
  let scanner: DepositScanner;
  const frozen = new Set<string>();

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    // Fund the payer with USDT (account #0 owns the token).
    const { sendMint } = await import('../../chain/test-usdt.ts');
    const h = await sendMint(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(1_000_000));
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  });
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    t = await openTestDb(dialect);
    env = await ledgerEnv(t.db, chainEnv);
    frozen.clear();
    scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, blocks_per_tick_max: 50, receiveMode: async (u) => (frozen.has(u) ? 'hold' : 'credit') });
  });
  afterEach(async () => {
    await t.cleanup();
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
  const balance = async (user: string, asset: string) => (await env.ledger.balancesOf('user', user, [asset]))[0]!;
  const deposit = (tx: Hex, log = 0) => t.db.kysely.selectFrom('deposits').selectAll().where('id', '=', depositId(31337, tx, log)).executeTakeFirstOrThrow();
  async function transfersOf(tx: Hex, log = 0, generation = 0) {
    const ids = depositTransferIds(31337, tx, log, generation);
    return env.ledger.getTransfers([ids.pending, ids.post, ids.void, ids.reverse]);
  }

  it('a deposit recorded ahead of the scan (diagnosis) from a block a reorg replaced is dropped, never released', async () => {
    const a = await env.address('usr_ahead');
    await scanner.tick(); // caught up; the scanner does not tick again until after the reorg
    const snap = await snapshot(chainEnv.client);
    const tx = await payUsdt(a, USDT(40));
    const ingest = depositIngest({ readers: new Map([[31337, chainEnv.reader]]), scanners: [scanner] });
    expect(await ingest(31337, tx)).toEqual({ result: 'ingested', deposits: 1 });
    expect((await balance('usr_ahead', 'USDT')).pending_in_minor).toBe(USDT(40));
    await revert(chainEnv.client, snap);
    await mine(chainEnv.client, 15); // other blocks take its place, deeper than any tier
    for (let i = 0; i < 6; i++) await scanner.tick();
    expect((await deposit(tx)).status).toBe('dropped');
    expect(await balance('usr_ahead', 'USDT')).toMatchObject({ available_minor: 0n, pending_in_minor: 0n, held_minor: 0n });
  });

  it('detects ERC-20 and native deposits, counts each to its tier, releases each once', async () => {
    const a = await env.address('usr_a');
    const b = await env.address('usr_b');
    const c = await env.address('usr_c');
    frozen.add('usr_c');
    const small = await payUsdt(a, USDT(500)); // tier: 3 blocks
    const mid = await payUsdt(b, USDT(2000)); // 6 blocks
    const big = await payUsdt(a, USDT(7000)); // 12 blocks
    const eth = await payEth(a, parseEther('0.5')); // 3 blocks
    const dust = await payEth(b, parseEther('0.0001')); // below the 0.001 minimum: held
    const toFrozen = await payUsdt(c, USDT(10)); // frozen account: held
    const nativeLog = -1;

    const first = await scanner.tick();
    expect(first.detected).toBe(6);
    // The 500 was already 6 blocks deep (five payments followed it): released in the same tick.
    expect(await balance('usr_a', 'USDT')).toMatchObject({ available_minor: USDT(500), pending_in_minor: USDT(7000) });

    const required = new Map<string, number>([[small, 3], [mid, 6], [big, 12], [eth, 3], [dust, 3], [toFrozen, 3]]);
    const logOf = (h: Hex) => (h === eth || h === dust ? nativeLog : 0);
    for (let round = 0; round < 14; round++) {
      const head = await chainEnv.reader.head();
      for (const [h, blocks] of required) {
        const d = await deposit(h as Hex, logOf(h as Hex));
        expect(d.confirmations_required).toBe(blocks);
        const current = head - Number(d.block_number) + 1;
        expect(d.status === 'confirming').toBe(current < blocks);
      }
      await mine(chainEnv.client, 1);
      await scanner.tick();
    }
    for (let i = 0; i < 3; i++) await scanner.tick(); // repeated scans change nothing

    const usdtA = await balance('usr_a', 'USDT');
    expect(usdtA).toMatchObject({ available_minor: USDT(7500), pending_in_minor: 0n });
    expect((await balance('usr_a', 'ETH')).available_minor).toBe(parseEther('0.5'));
    expect((await balance('usr_b', 'USDT')).available_minor).toBe(USDT(2000));
    expect(await balance('usr_b', 'ETH')).toMatchObject({ available_minor: 0n, held_minor: parseEther('0.0001') });
    expect(await balance('usr_c', 'USDT')).toMatchObject({ available_minor: 0n, held_minor: USDT(10) });

    const dustPayment = await getPayment(t.db.kysely, (await deposit(dust, nativeLog)).payment_id);
    expect(dustPayment!.payment).toMatchObject({ status: 'held', hold: { reason: 'below_minimum' } });
    const frozenPayment = await getPayment(t.db.kysely, (await deposit(toFrozen)).payment_id);
    expect(frozenPayment!.payment).toMatchObject({ status: 'held', hold: { reason: 'account_frozen' } });
    const bigPayment = await getPayment(t.db.kysely, (await deposit(big)).payment_id);
    expect(bigPayment!.payment).toMatchObject({ status: 'credited', confirmations: { required: 12 }, chain: { tx_hash: big, log_index: 0, token: chainEnv.usdt, to: a } });
    expect(bigPayment!.timeline.map((e) => e.status)).toEqual(['confirming', 'credited']);
    const ethPayment = await getPayment(t.db.kysely, (await deposit(eth, nativeLog)).payment_id);
    expect(ethPayment!.payment.chain).toMatchObject({ log_index: null, token: null });

    // A rescan from the very start (cursor moved back by hand) credits nothing twice.
    await t.db.kysely.updateTable('chain_cursors').set({ next_block: 0 }).execute();
    for (let i = 0; i < 3; i++) await scanner.tick();
    expect(await balance('usr_a', 'USDT')).toMatchObject({ available_minor: USDT(7500), pending_in_minor: 0n });
    for (const h of [small, mid, big, toFrozen]) expect((await transfersOf(h)).map((x) => x.type).sort()).toEqual(['pending', 'post_pending']);
    const credited = await t.db.kysely.selectFrom('outbox_events').select('type').where('type', '=', 'payment.credited').execute();
    expect(credited).toHaveLength(4);
  });

  it('voids a deposit dropped by a reorg before release (evm_snapshot + evm_revert)', async () => {
    const a = await env.address('usr_a');
    await scanner.tick();
    const snap = await snapshot(chainEnv.client);
    const tx = await payUsdt(a, USDT(100));
    expect((await scanner.tick()).detected).toBe(1);
    expect((await balance('usr_a', 'USDT')).pending_in_minor).toBe(USDT(100));
    await revert(chainEnv.client, snap);
    await mine(chainEnv.client, 2); // the new fork is longer, without the payment
    const r = await scanner.tick();
    expect(r.reorg_depth).toBeGreaterThan(0);
    expect(r.dropped).toBe(1);
    expect(await deposit(tx)).toMatchObject({ status: 'dropped' });
    expect(await balance('usr_a', 'USDT')).toMatchObject({ available_minor: 0n, pending_in_minor: 0n });
    expect((await transfersOf(tx)).map((x) => x.type).sort()).toEqual(['pending', 'void_pending']);
    const p = await getPayment(t.db.kysely, (await deposit(tx)).payment_id);
    expect(p!.timeline.map((e) => e.status)).toEqual(['confirming', 'dropped']);
  });

  it('voids deposits removed by anvil_reorg and anvil_rollback', async () => {
    const a = await env.address('usr_a');
    await mine(chainEnv.client, 3);
    await scanner.tick();
    const one = await payUsdt(a, USDT(11));
    await scanner.tick();
    await chainEnv.client.request({ method: 'anvil_reorg' as never, params: [1, []] as never });
    expect((await scanner.tick()).dropped).toBe(1);
    const two = await payUsdt(a, USDT(12));
    await scanner.tick();
    await chainEnv.client.request({ method: 'anvil_rollback' as never, params: [1] as never });
    expect((await scanner.tick()).dropped).toBe(1);
    for (const h of [one, two]) expect(await deposit(h)).toMatchObject({ status: 'dropped' });
    expect(await balance('usr_a', 'USDT')).toMatchObject({ available_minor: 0n, pending_in_minor: 0n });
  });

  it('keeps counting a deposit re-mined in another block after a reorg, and releases it once', async () => {
    const a = await env.address('usr_a');
    await scanner.tick();
    const snap = await snapshot(chainEnv.client);
    // Sign locally so that the very same transaction can be sent again on the new fork.
    const { createWalletClient, http, encodeFunctionData, parseAbi } = await import('viem');
    const wallet = createWalletClient({ account: payer, transport: http(rpc()) });
    const nonce = await chainEnv.client.getTransactionCount({ address: payer.address });
    const request = await wallet.prepareTransactionRequest({ chain: null, to: chainEnv.usdt, nonce, gas: 100_000n, data: encodeFunctionData({ abi: parseAbi(['function transfer(address,uint256)']), functionName: 'transfer', args: [a, USDT(300)] }) });
    const raw = await wallet.signTransaction({ ...request, chain: null } as never);
    const tx = await chainEnv.client.sendRawTransaction({ serializedTransaction: raw });
    await chainEnv.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    await scanner.tick();
    const before = await deposit(tx);
    await revert(chainEnv.client, snap);
    await mine(chainEnv.client, 1);
    await chainEnv.client.sendRawTransaction({ serializedTransaction: raw });
    await chainEnv.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    const r = await scanner.tick();
    expect(r.reorg_depth).toBeGreaterThan(0);
    expect(r.dropped).toBe(0);
    const after = await deposit(tx);
    expect(after).toMatchObject({ status: 'confirming', orphaned: 0 });
    expect(Number(after.block_number)).toBe(Number(before.block_number) + 1);
    expect(after.block_hash).not.toBe(before.block_hash);
    await mine(chainEnv.client, 3);
    await scanner.tick();
    await scanner.tick();
    expect(await deposit(tx)).toMatchObject({ status: 'credited' });
    expect(await balance('usr_a', 'USDT')).toMatchObject({ available_minor: USDT(300), pending_in_minor: 0n });
    expect((await transfersOf(tx)).map((x) => x.type).sort()).toEqual(['pending', 'post_pending']);
  });

  it('reverses a release undone by a deep reorg, with a linked correcting transfer and an incident', async () => {
    const a = await env.address('usr_a');
    await scanner.tick();
    const snap = await snapshot(chainEnv.client);
    const tx = await payUsdt(a, USDT(40));
    await scanner.tick();
    await mine(chainEnv.client, 3);
    await scanner.tick();
    expect(await deposit(tx)).toMatchObject({ status: 'credited' });
    expect((await balance('usr_a', 'USDT')).available_minor).toBe(USDT(40));
    await revert(chainEnv.client, snap);
    await mine(chainEnv.client, 6);
    const r = await scanner.tick();
    expect(r.reversed).toBe(1);
    expect(await deposit(tx)).toMatchObject({ status: 'reversed' });
    expect((await balance('usr_a', 'USDT')).available_minor).toBe(0n);
    const ids = depositTransferIds(31337, tx, 0, 0);
    const [correction] = await env.ledger.getTransfers([ids.reverse]);
    expect(correction).toMatchObject({ amount_minor: USDT(40), reference: ids.post, reason: 'deposit_reversed' });
    const incidents = await selectIncidents(t.db.kysely, 31337);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ kind: 'deposit_reversed', subject_id: depositId(31337, tx, 0) });
    const events = await t.db.kysely.selectFrom('outbox_events').select('type').execute();
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['payment.reversed', 'chain.incident.deposit_reversed']));
    // Scanning again changes nothing.
    await scanner.tick();
    expect((await balance('usr_a', 'USDT')).available_minor).toBe(0n);
    expect(await selectIncidents(t.db.kysely, 31337)).toHaveLength(1);
  });

  it('starts no later than the earliest deposit address was issued', async () => {
    await mine(chainEnv.client, 2);
    const issuedAt = await chainEnv.reader.head();
    const a = await env.address('usr_late');
    // A payment lands before the scanner has ever run; later blocks follow.
    const tx = await payUsdt(a, USDT(5));
    await mine(chainEnv.client, 5);
    const r = await scanner.tick();
    expect(r.scanned_from).toBe(issuedAt);
    expect(await deposit(tx)).toMatchObject({ status: 'credited' });
  });
});
