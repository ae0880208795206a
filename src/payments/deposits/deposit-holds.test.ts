// Goal: a deposit held because the account was frozen is released by itself (once) when the
// account is unfrozen; a deposit reaching depth during a maintenance window of its chain is held
// (`maintenance`, ETA = the window's end) and released, in chain order, once the window ends;
// both explanations exist in English and Chinese.
// Method: a real anvil (TestUSDT payments), real accounts, ledger and maintenance windows on each
// dialect (payment harness, manual clock), the scanner and the release consumer run by hand;
// money checked through ledger balances and the payments API.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { anvilAccount, sendMint, sendTokenTransfer } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { createDepositKeys } from '../../chain/chain.ts';
import { ensureDepositAddress } from '../custody/deposit-addresses.ts';
import { startHarness, type Harness } from '../../../test/helpers/payment-testkit.ts';
import { checkDeposit } from '../custody/reconcile-rules.ts';
import { depositId, depositPaymentId, depositTransferIds } from './deposit-rules.ts';
import { DEPOSIT_RELEASE_CONSUMER } from './deposit-release.ts';
import { createDepositRelease, unfreezeTransferId } from './deposit-release.ts';
import { createDepositScanner, type DepositScanner } from './deposit-scanner.ts';
import { mine, startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv } from '../../../test/helpers/deposit-testkit.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);
const META = { ip: null, user_agent: null, request_id: null };

describe.each(DIALECTS)('deposit holds (freeze, maintenance) on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let h: Harness;
  let scanner: DepositScanner;
  let release: ReturnType<typeof createDepositRelease>;
  const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    const tx = await sendMint(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(1_000_000));
    await chainEnv.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
  });
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    h = await startHarness(dialect);
    const receiveMode = async (user_id: string, trx: Transaction<Database>) => (await h.accounts.standing(user_id, trx)).receive;
    const changed: string[] = [];
    scanner = createDepositScanner({
      db: h.t.db, ledger: h.ledger, reader: chainEnv.reader, chain: chainEnv.chain, clock: h.clock, blocks_per_tick_max: 50, receiveMode,
      maintenanceBlocking: (chain_id) => h.maintenance.blocking('chain', chain_id),
      onDepositChange: async (_trx, ids) => void changed.push(...ids),
    });
    release = createDepositRelease({ db: h.t.db, ledger: h.ledger, clock: h.clock, receiveMode });
  });
  afterEach(async () => h.close());

  async function address(user_id: string): Promise<Hex> {
    const head = await chainEnv.reader.head();
    return (await ensureDepositAddress(h.t.db, keys, { chain_id: 31337, user_id, issued_at_block: head }, h.clock)).address.address;
  }
  async function pay(to: Hex, amount: bigint): Promise<Hex> {
    const tx = await sendTokenTransfer(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, payer, to, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    return tx;
  }
  const balance = async (user: string) => (await h.ledger.balancesOf('user', user, ['USDT']))[0]!;
  const depositOf = (tx: Hex) => h.t.db.kysely.selectFrom('deposits').selectAll().where('id', '=', depositId(31337, tx, 0)).executeTakeFirstOrThrow();
  const view = async (headers: Record<string, string>, tx: Hex) => (await h.app.inject({ url: `/api/v1/payments/${depositPaymentId(31337, tx, 0)}`, headers })).json();
  /** Reconciliation's own check of a deposit row against its ledger transfers (null: they agree). */
  async function reconciles(tx: Hex): Promise<string | null> {
    const d = await depositOf(tx);
    const ids = depositTransferIds(31337, tx, 0, d.generation);
    const ts = await h.ledger.getTransfers([ids.pending, ids.post]);
    const pending = ts.find((t) => t?.id === ids.pending) ?? null;
    const post = ts.find((t) => t?.id === ids.post) ?? null;
    return checkDeposit(d, { pending, post });
  }
  async function tickUntilIdle() {
    for (let i = 0; i < 10; i++) if ((await scanner.tick()).caught_up) return;
  }

  it('releases a frozen account\'s held deposit once when the account is unfrozen', async () => {
    const admin = await h.user('root@example.test', ['admin']);
    const bob = await h.user('bob@example.test');
    await h.accounts.freeze(bob.id, 'user_request', { type: 'system', id: null }, null);
    const addr = await address(bob.id);
    const tx = await pay(addr, USDT(25));
    await mine(chainEnv.client, 3);
    await tickUntilIdle();
    expect(await depositOf(tx)).toMatchObject({ status: 'held', hold_reason: 'account_frozen', credit_kind: 'user_held' });
    expect(await balance(bob.id)).toMatchObject({ available_minor: 0n, held_minor: USDT(25) });
    // nothing to release while frozen
    expect(await release.tick()).toBeGreaterThan(0);
    expect((await depositOf(tx)).status).toBe('held');

    await h.accounts.staffUnfreeze(admin.principal, bob.id, 'verified on the phone', META);
    const session = await h.accounts.issueSessionForTests(bob.id);
    const headers = { authorization: `Bearer ${session.token}` };
    expect(await release.tick()).toBeGreaterThan(0);
    expect(await depositOf(tx)).toMatchObject({ status: 'credited', hold_reason: null, credit_kind: 'user_held' });
    expect(await balance(bob.id)).toMatchObject({ available_minor: USDT(25), held_minor: 0n });
    expect(await reconciles(tx)).toBeNull();
    const [moved] = await h.ledger.getTransfers([unfreezeTransferId(await depositOf(tx))]);
    expect(moved).toMatchObject({ amount_minor: USDT(25) });

    // the same event processed twice (cursor reset, as after a crash before it was saved): no second release
    await h.t.db.kysely.deleteFrom('outbox_cursors').where('consumer', '=', DEPOSIT_RELEASE_CONSUMER).execute();
    await h.t.db.transaction(async (trx) => release.releaseUser(trx, bob.id));
    await release.tick();
    await release.tick();
    expect(await balance(bob.id)).toMatchObject({ available_minor: USDT(25), held_minor: 0n });
    const p = await view(headers, tx);
    expect(p).toMatchObject({ status: 'credited', hold: null });
    expect(p.timeline.filter((e: { status: string }) => e.status === 'credited')).toHaveLength(1);
  });

  it('holds deposits reaching depth during a maintenance window and releases them in order when it ends', async () => {
    const alice = await h.user('alice@example.test');
    const addr = await address(alice.id);
    const first = await pay(addr, USDT(10));
    const second = await pay(addr, USDT(20));
    await tickUntilIdle();
    expect((await depositOf(first)).status).toBe('confirming');
    const start = h.clock.now_ms();
    const scheduled = await h.maintenance.schedule({ scope: 'chain:31337', starts_at_ms: start, ends_at_ms: start + 600_000, message: 'Node upgrade', message_zh: '节点升级' }, 'usr_admin');
    expect(scheduled.ok).toBe(true);
    await mine(chainEnv.client, 5);
    await tickUntilIdle();
    // not released: the row stays confirming (ledger transfer pending), its payment is held
    for (const tx of [first, second]) expect(await depositOf(tx)).toMatchObject({ status: 'confirming', released_at_ms: null });
    expect(await balance(alice.id)).toMatchObject({ available_minor: 0n, pending_in_minor: USDT(30) });
    const en = await view(alice.headers, first);
    expect(en).toMatchObject({ status: 'held', hold: { reason: 'maintenance' }, explanation: { code: 'held_maintenance', eta: new Date(start + 600_000).toISOString() } });
    expect(en.explanation.message).toContain('Node upgrade');
    expect(await reconciles(first)).toBeNull();
    expect(en.confirmations.current).toBeGreaterThanOrEqual(3);
    // the user's language is the account's own (set here as a profile change would)
    await h.t.db.kysely.updateTable('users').set({ locale: 'zh-CN' }).where('id', '=', alice.id).execute();
    const zh = await view(alice.headers, first);
    expect(zh.explanation).toMatchObject({ code: 'held_maintenance', eta: en.explanation.eta });
    expect(zh.explanation.message).toContain('维护');
    expect(zh.explanation.next_action).toContain('自动放行');
    await h.t.db.kysely.updateTable('users').set({ locale: 'en' }).where('id', '=', alice.id).execute();

    // still scanned and counted during the window; a late deposit joins the queue
    const third = await pay(addr, USDT(5));
    await mine(chainEnv.client, 4);
    await tickUntilIdle();
    expect((await depositOf(third)).status).toBe('confirming');
    expect((await view(alice.headers, third)).hold).toMatchObject({ reason: 'maintenance' });
    expect((await balance(alice.id)).available_minor).toBe(0n);

    h.clock.advance(600_001);
    const r = await scanner.tick();
    expect(r.released).toBe(3);
    const rows = await Promise.all([first, second, third].map(depositOf));
    for (const d of rows) expect(d).toMatchObject({ status: 'credited', hold_reason: null });
    // released in chain order: their payments' `payment.credited` events follow (block, log index)
    const credited = await h.t.db.kysely.selectFrom('outbox_events').select('aggregate_id').where('type', '=', 'payment.credited').orderBy('seq').execute();
    const chainOrder = [...rows].sort((a, b) => a.block_number! - b.block_number! || a.log_index - b.log_index).map((d) => d.payment_id);
    expect(credited.map((e) => e.aggregate_id)).toEqual(chainOrder);
    expect(chainOrder).toEqual(rows.map((d) => d.payment_id));
    expect(await balance(alice.id)).toMatchObject({ available_minor: USDT(35), pending_in_minor: 0n });
    for (const tx of [first, second, third]) expect(await reconciles(tx)).toBeNull();
    const done = await view(alice.headers, first);
    expect(done).toMatchObject({ status: 'credited', hold: null });
    expect(done.timeline.map((e: { status: string }) => e.status)).toEqual(['confirming', 'held', 'credited']);
    expect((await scanner.tick()).released).toBe(0);
  });

  it('a frozen account paid during a window: held maintenance, then held account_frozen, then credited on unfreeze', async () => {
    const admin = await h.user('root@example.test', ['admin']);
    const carol = await h.user('carol@example.test');
    await h.accounts.freeze(carol.id, 'user_request', { type: 'system', id: null }, null);
    const start = h.clock.now_ms();
    await h.maintenance.schedule({ scope: 'global', starts_at_ms: start, ends_at_ms: start + 60_000, message: 'Upgrade' }, 'usr_admin');
    const tx = await pay(await address(carol.id), USDT(7));
    await mine(chainEnv.client, 3);
    await tickUntilIdle();
    const holdOf = async () => (await h.t.db.kysely.selectFrom('payments').select(['status', 'hold_reason']).where('id', '=', depositPaymentId(31337, tx, 0)).executeTakeFirstOrThrow());
    expect(await holdOf()).toEqual({ status: 'held', hold_reason: 'maintenance' });
    h.clock.advance(60_001);
    expect((await scanner.tick()).released).toBe(1);
    expect(await holdOf()).toEqual({ status: 'held', hold_reason: 'account_frozen' });
    expect(await balance(carol.id)).toMatchObject({ available_minor: 0n, held_minor: USDT(7) });
    await h.accounts.staffUnfreeze(admin.principal, carol.id, 'ok', META);
    while ((await release.tick()) > 0);
    expect(await holdOf()).toEqual({ status: 'credited', hold_reason: null });
    expect(await balance(carol.id)).toMatchObject({ available_minor: USDT(7), held_minor: 0n });
    expect(await reconciles(tx)).toBeNull();
  });
});
