// Goal: a user with hundreds of deposits held because the account was frozen has them all
// released once, in bulk, when the account is unfrozen: a fixed number of ledger calls and
// statements (not one transaction's worth per deposit), held -> available exactly once, each
// payment credited with its timeline row and outbox event in chain order, invoices told once per
// deposit; a replay, or a pass that fails half way and is retried, changes nothing more.
// Method: on each dialect, real accounts, ledger and payments (payment harness, manual clock);
// the real scanner reads a chain kept in memory (hundreds of transfers in one block, no anvil);
// the release consumer runs by hand through a Db and a Ledger that count transactions, Kysely
// statements and ledger calls.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KyselyPlugin, Transaction } from 'kysely';
import { keccak256, numberToHex } from 'viem';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { DIALECTS } from '../../../test/helpers/db.ts';
import type { Hex, TokenTransfer } from '../../chain/chain.ts';
import { createDepositKeys } from '../../chain/chain.ts';
import { ensureDepositAddress } from '../custody/deposit-addresses.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { startHarness, TEST_CHAINS, TEST_USDT, type Harness } from '../../../test/helpers/payment-testkit.ts';
import { DEPOSIT_RELEASE_CONSUMER, createDepositRelease, unfreezeTransferId } from './deposit-release.ts';
import { createDepositScanner, type DepositScanner } from './deposit-scanner.ts';
import { memoryChain, TEST_DEPOSIT_MNEMONIC } from '../../../test/helpers/deposit-testkit.ts';

const USDT = (n: number) => BigInt(n) * 1_000_000n;
const PAYER = '0x00000000000000000000000000000000000000bb' as Hex;
const META = { ip: null, user_agent: null, request_id: null };
const MANY = 250;


/**
 * Counts what the release does: per transaction opened, the Kysely statements sent inside it
 * (the ledger's own batch statements aside) and the ledger calls made in it.
 */
function counting(db: Db, ledger: Ledger) {
  const txs: Array<{ statements: number; ledger_calls: number }> = [];
  const current = () => txs[txs.length - 1]!;
  const plugin: KyselyPlugin = { transformQuery: (a) => (current().statements++, a.node), transformResult: async (a) => a.result };
  const countedDb: Db = { ...db, transaction: (fn) => (txs.push({ statements: 0, ledger_calls: 0 }), db.transaction((trx) => fn(trx.withPlugin(plugin)))) };
  const countedLedger: Ledger = { ...ledger, createTransfersIn: (trx, batch) => (current().ledger_calls++, ledger.createTransfersIn(trx, batch)) };
  return { txs, db: countedDb, ledger: countedLedger, reset: () => void txs.splice(0) };
}

describe.each(DIALECTS)('deposit release in bulk on %s', (dialect) => {
  let h: Harness;
  let scanner: DepositScanner;
  const logsAt = new Map<number, TokenTransfer[]>();
  let mem: ReturnType<typeof memoryChain>;
  const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);
  const receiveMode = async (user_id: string, trx: Transaction<Database>) => (await h.accounts.standing(user_id, trx)).receive;

  beforeEach(async () => {
    h = await startHarness(dialect);
    logsAt.clear();
    mem = memoryChain(logsAt);
    const chain = { ...TEST_CHAINS[0]!, rpc_url: 'memory:' };
    delete chain.native;
    scanner = createDepositScanner({ db: h.t.db, ledger: h.ledger, reader: mem.reader, chain, clock: h.clock, blocks_per_tick_max: 50, receiveMode });
  });
  afterEach(async () => h.close());

  /** `count` transfers to the user's address in the next block (amounts 1, 2, 3 … USDT), brought to depth and scanned. */
  async function payMany(user_id: string, count: number, salt: number): Promise<bigint> {
    const to = (await ensureDepositAddress(h.t.db, keys, { chain_id: 31337, user_id, issued_at_block: mem.head() }, h.clock)).address.address;
    const block = mem.head() + 1;
    const logs: TokenTransfer[] = [];
    let total = 0n;
    for (let j = 0; j < count; j++) {
      const amount = USDT(1 + (j % 900));
      total += amount;
      logs.push({ token: TEST_USDT as Hex, from: PAYER, to, amount_minor: amount, tx_hash: keccak256(numberToHex(salt * 1_000_000 + j, { size: 32 })), log_index: j, block_number: block, block_hash: '0x' as Hex });
    }
    logsAt.set(block, logs);
    mem.mine(3); // USDT under 1000: 3 confirmations, the inclusion block counting as 1
    for (let i = 0; i < 20; i++) if ((await scanner.tick()).caught_up) break;
    return total;
  }
  const balance = async (user: string) => (await h.ledger.balancesOf('user', user, ['USDT']))[0]!;
  const depositsOf = (user_id: string) => h.t.db.kysely.selectFrom('deposits').selectAll().where('user_id', '=', user_id).orderBy('block_number').orderBy('log_index').execute();
  const creditedEvents = () => h.t.db.kysely.selectFrom('outbox_events').select('aggregate_id').where('type', '=', 'payment.credited').orderBy('seq').execute();
  /** Runs the consumer until it has read every event (so that counting starts from a clean slate). */
  async function drain(release: { tick(): Promise<number> }) {
    for (let i = 0; i < 100; i++) if ((await release.tick()) === 0) return;
    throw new Error('the release consumer did not drain');
  }

  it(`releases ${MANY} held deposits after one unfreeze: ${Math.ceil(MANY / 100)} ledger calls, exactly once, replay-safe`, async () => {
    const admin = await h.user('root@example.test', ['admin']);
    const alice = await h.user('alice@example.test');
    const bob = await h.user('bob@example.test');
    await h.accounts.freeze(alice.id, 'user_request', { type: 'system', id: null }, null);
    await h.accounts.freeze(bob.id, 'user_request', { type: 'system', id: null }, null);
    const total = await payMany(alice.id, MANY, 1);
    const bobTotal = await payMany(bob.id, 3, 2);
    const held = await depositsOf(alice.id);
    expect(held).toHaveLength(MANY);
    for (const d of held) expect(d).toMatchObject({ status: 'held', hold_reason: 'account_frozen', credit_kind: 'user_held' });
    expect(await balance(alice.id)).toMatchObject({ available_minor: 0n, held_minor: total });

    const told: string[] = [];
    const c = counting(h.t.db, h.ledger);
    // Pages of 100 held deposits: a user with more than one page gets them all with one unfreeze.
    const release = createDepositRelease({ db: c.db, ledger: c.ledger, clock: h.clock, receiveMode, onDepositChange: async (_trx, ids) => void told.push(...ids), held_page_max: 100 });
    await drain(release); // the scanner's payment events: nothing to release
    expect(await balance(alice.id)).toMatchObject({ available_minor: 0n, held_minor: total });
    const creditedBefore = (await creditedEvents()).length;

    await h.accounts.staffUnfreeze(admin.principal, alice.id, 'verified on the phone', META);
    c.reset();
    await drain(release);
    // The consumer opens a transaction per outbox event it reads (the unfreeze, then the payment
    // events the release itself wrote); one event costs only its cursor (read + save) but the
    // unfreeze's, whose release costs one ledger call and a few statements per 100 deposits.
    const working = c.txs.filter((t) => t.statements > 2 || t.ledger_calls > 0);
    expect(working).toHaveLength(1);
    expect(working[0]!.ledger_calls).toBe(Math.ceil(MANY / 100));
    expect(working[0]!.statements).toBeLessThanOrEqual(40);
    console.log(`${dialect}: ${MANY} deposits released in 1 transaction of ${working[0]!.statements} Kysely statements and ${working[0]!.ledger_calls} ledger calls (${c.txs.length} transactions in all: other events only move the cursor)`);

    const released = await depositsOf(alice.id);
    for (const d of released) expect(d).toMatchObject({ status: 'credited', hold_reason: null, credit_kind: 'user_held' });
    expect(await balance(alice.id)).toMatchObject({ available_minor: total, held_minor: 0n });
    const moves = await h.ledger.getTransfers(released.map((d) => unfreezeTransferId({ ...d, chain_id: Number(d.chain_id), log_index: Number(d.log_index), generation: Number(d.generation) })));
    expect(moves).toHaveLength(MANY);
    expect(moves.reduce((s, t) => s + t.amount_minor, 0n)).toBe(total);
    // Each payment credited once, its timeline ending credited, its events in chain order.
    const events = (await creditedEvents()).slice(creditedBefore).map((e) => e.aggregate_id);
    expect(events).toEqual(released.map((d) => d.payment_id));
    const payments = await h.t.db.kysely.selectFrom('payments').select(['id', 'status', 'hold_reason']).where('user_id', '=', alice.id).execute();
    expect(payments).toHaveLength(MANY);
    for (const p of payments) expect(p).toMatchObject({ status: 'credited', hold_reason: null });
    const timeline = await h.t.db.kysely.selectFrom('payment_events').select(['payment_id', 'status']).where('payment_id', 'in', payments.map((p) => p.id)).orderBy('n').execute();
    for (const p of payments) expect(timeline.filter((e) => e.payment_id === p.id).map((e) => e.status)).toEqual(['confirming', 'held', 'credited']);
    expect([...told].sort()).toEqual(released.map((d) => d.id).sort());
    // Bob is still frozen: his deposits stay held.
    expect(await balance(bob.id)).toMatchObject({ available_minor: 0n, held_minor: bobTotal });
    for (const d of await depositsOf(bob.id)) expect(d.status).toBe('held');

    // Replays: the event read again (cursor lost, as after a crash before it was saved) and a
    // direct pass find nothing left: no ledger call, no new payment event, the same balances.
    await h.t.db.kysely.deleteFrom('outbox_cursors').where('consumer', '=', DEPOSIT_RELEASE_CONSUMER).execute();
    c.reset();
    await drain(release);
    expect(await h.t.db.transaction((trx) => release.releaseUser(trx, alice.id))).toBe(0);
    expect(c.txs.reduce((n, t) => n + t.ledger_calls, 0)).toBe(0);
    expect((await creditedEvents()).length).toBe(creditedBefore + MANY);
    expect(await balance(alice.id)).toMatchObject({ available_minor: total, held_minor: 0n });
    expect(told).toHaveLength(MANY);
  }, 60_000);

  it('a release that fails half way leaves everything held; the retry releases each deposit once', async () => {
    const admin = await h.user('root@example.test', ['admin']);
    const carol = await h.user('carol@example.test');
    await h.accounts.freeze(carol.id, 'user_request', { type: 'system', id: null }, null);
    const total = await payMany(carol.id, 150, 3);
    let calls = 0;
    const told: string[] = [];
    const release = createDepositRelease({
      db: h.t.db,
      ledger: h.ledger,
      clock: h.clock,
      receiveMode,
      onDepositChange: async (_trx, ids) => {
        // The second chunk's hook fails once, after the first chunk's writes: as a crash would.
        if (++calls === 2) throw new Error('invoices down');
        told.push(...ids);
      },
    });
    await drain(release);
    await h.accounts.staffUnfreeze(admin.principal, carol.id, 'ok', META);
    await expect(drain(release)).rejects.toThrow('invoices down');
    expect(await balance(carol.id)).toMatchObject({ available_minor: 0n, held_minor: total });
    for (const d of await depositsOf(carol.id)) expect(d).toMatchObject({ status: 'held', hold_reason: 'account_frozen' });
    told.length = 0; // the failed pass's first chunk was rolled back with it
    await drain(release);
    expect(await balance(carol.id)).toMatchObject({ available_minor: total, held_minor: 0n });
    const ds = await depositsOf(carol.id);
    for (const d of ds) expect(d).toMatchObject({ status: 'credited', hold_reason: null });
    expect([...told].sort()).toEqual(ds.map((d) => d.id).sort());
    const credited = await h.t.db.kysely.selectFrom('payment_events').select('payment_id').where('status', '=', 'credited').where('payment_id', 'in', ds.map((d) => d.payment_id)).execute();
    expect(credited).toHaveLength(150);
  }, 60_000);
});
