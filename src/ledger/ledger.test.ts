// Goal: the ledger's database side on each dialect — expiry through the durable job and at the
// exact expiry instant, append-only transfers, `verify` catching tampering, history paging,
// wallet balances, the asset registry, group commit giving each caller its own results, and a
// transaction rolled back taking its transfers with it. Method: a real migrated database per
// dialect, a ManualClock, the real JobRunner; tampering is done with raw SQL after dropping the
// immutability trigger (as an attacker with database access could).
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { JobRunner } from '../jobs/jobs.ts';
import { ManualClock } from '../shared/clock.ts';
import { LedgerBusyError, createLedger, registerLedgerJobs, type Ledger } from './ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from './ledger-types.ts';
import { verifyLedger } from './ledger-verify.ts';

const none = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };
const user = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };
const WORLD = ledgerAccountId('platform', 'world', 'USDT', 'external');
const ALICE = ledgerAccountId('user', 'alice', 'USDT', 'user_available');
const ALICE_HELD = ledgerAccountId('user', 'alice', 'USDT', 'user_held');
const BOB = ledgerAccountId('user', 'bob', 'USDT', 'user_available');
const SPECS: AccountSpec[] = [
  { id: WORLD, asset: 'USDT', owner_type: 'platform', owner_id: 'world', kind: 'external', flags: none },
  { id: ALICE, asset: 'USDT', owner_type: 'user', owner_id: 'alice', kind: 'user_available', flags: user },
  { id: ALICE_HELD, asset: 'USDT', owner_type: 'user', owner_id: 'alice', kind: 'user_held', flags: user },
  { id: BOB, asset: 'USDT', owner_type: 'user', owner_id: 'bob', kind: 'user_available', flags: user },
];

const tr = (id: string, dr: string, cr: string, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput =>
  ({ id, debit_account_id: dr, credit_account_id: cr, amount_minor: amount, asset: 'USDT', reason: 'test', reference: null, ...extra }) as TransferInput;

describe.each(DIALECTS)('ledger on %s', (dialect) => {
  let t: TestDb;
  let clock: ManualClock;
  let ledger: Ledger;

  beforeEach(async () => {
    t = await openTestDb(dialect);
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    ledger = createLedger(t.db, clock);
    await ledger.ensureAccounts(SPECS);
    await ledger.ensureAccounts(SPECS); // idempotent
    expect(await ledger.createTransfers([tr('fund', WORLD, ALICE, 1000n)])).toEqual([{ id: 'fund', result: 'ok' }]);
  });
  afterEach(async () => {
    await ledger.drain();
    await t.cleanup();
  });

  it('expires a pending transfer: refused at the expiry instant, then voided by the durable job', async () => {
    const jobs = new JobRunner(t.db, { clock });
    registerLedgerJobs(jobs, ledger);
    expect(await ledger.createTransfers([tr('hold', ALICE, BOB, 300n, { pending: true, timeout_ms: 60_000 })])).toEqual([{ id: 'hold', result: 'ok' }]);
    expect(await ledger.balancesOf('user', 'alice', ['USDT'])).toEqual([{ asset: 'USDT', available_minor: 700n, pending_in_minor: 0n, pending_out_minor: 300n, held_minor: 0n }]);
    clock.advance(59_999);
    expect(await jobs.tick()).toBe(0); // not due yet
    clock.advance(1);
    // Expired, the job has not run yet: it can no longer be posted.
    expect(await ledger.createTransfers([{ id: 'post', post_pending_id: 'hold', reason: 'test', reference: null }])).toEqual([{ id: 'post', result: 'pending_transfer_expired' }]);
    expect(await jobs.tick()).toBe(1);
    const [voided] = await ledger.getTransfers(['expire:hold']);
    expect(voided).toMatchObject({ type: 'void_pending', pending_id: 'hold', amount_minor: 300n, reason: 'ledger.pending_expired' });
    expect(await ledger.balancesOf('user', 'alice', ['USDT'])).toEqual([{ asset: 'USDT', available_minor: 1000n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 0n }]);
    expect(await ledger.createTransfers([{ id: 'post', post_pending_id: 'hold', reason: 'test', reference: null }])).toEqual([{ id: 'post', result: 'pending_transfer_already_voided' }]);
    expect((await verifyLedger(t.db.kysely)).ok).toBe(true);
  });

  it('leaves a pending transfer that was posted in time alone when its expiry job runs', async () => {
    const jobs = new JobRunner(t.db, { clock });
    registerLedgerJobs(jobs, ledger);
    await ledger.createTransfers([tr('hold', ALICE, BOB, 300n, { pending: true, timeout_ms: 1000 })]);
    expect(await ledger.createTransfers([{ id: 'post', post_pending_id: 'hold', amount_minor: 100n, reason: 'test', reference: null }])).toEqual([{ id: 'post', result: 'ok' }]);
    clock.advance(1000);
    expect(await jobs.tick()).toBe(1);
    expect(await ledger.getTransfers(['expire:hold'])).toEqual([]);
    expect(await ledger.balancesOf('user', 'bob', ['USDT'])).toEqual([{ asset: 'USDT', available_minor: 100n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 0n }]);
    expect(await ledger.balancesOf('user', 'alice', ['USDT'])).toEqual([{ asset: 'USDT', available_minor: 900n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 0n }]);
  });

  it('keeps transfers append-only, and verify names the first tampered row', async () => {
    await ledger.createTransfers([tr('t1', ALICE, BOB, 10n), tr('t2', ALICE, ALICE_HELD, 20n), tr('t3', BOB, ALICE, 5n)]);
    const ok = await verifyLedger(t.db.kysely);
    expect(ok).toMatchObject({ ok: true, transfers: 4, accounts: 4, problem: null });
    expect(ok.assets).toEqual([{ asset: 'USDT', debits_posted_minor: 1035n, credits_posted_minor: 1035n, debits_pending_minor: 0n, credits_pending_minor: 0n }]);
    expect(await ledger.balancesOf('user', 'alice', ['USDT'])).toEqual([{ asset: 'USDT', available_minor: 975n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 20n }]);

    await expect(sql`update ledger_transfers set amount_minor = ${'11'} where id = 't1'`.execute(t.db.kysely)).rejects.toThrow(/append-only/);
    await expect(sql`delete from ledger_transfers where id = 't1'`.execute(t.db.kysely)).rejects.toThrow(/append-only/);

    // An attacker with database access drops the trigger and edits an amount.
    await sql.raw(dialect === 'postgres' ? 'drop trigger ledger_transfers_no_update on ledger_transfers' : 'drop trigger ledger_transfers_no_update').execute(t.db.kysely);
    await sql`update ledger_transfers set amount_minor = ${'11'} where id = 't1'`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).problem).toMatch(/^transfer t1 \(seq 2\): hash does not match/);
    await sql`update ledger_transfers set amount_minor = ${'10'} where id = 't1'`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).ok).toBe(true);
    // … or relinks an account's history (the links are not hashed: verify checks them against the chain).
    await sql`update ledger_transfers set credit_prev = 0 where id = 't3'`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).problem).toBe(`transfer t3 (seq 4): its credit history link is seq 0, but account ${ALICE}'s previous transfer is seq 3`);
    await sql`update ledger_transfers set credit_prev = 3 where id = 't3'`.execute(t.db.kysely);
    await sql`update ledger_accounts set last_seq = 3 where id = ${BOB}`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).problem).toBe(`account ${BOB}: its history starts at seq 3 but its latest transfer is seq 4`);
    await sql`update ledger_accounts set last_seq = 4 where id = ${BOB}`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).ok).toBe(true);
    // … or edits a balance.
    await sql`update ledger_accounts set credits_posted_minor = ${'16'} where id = ${BOB}`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).problem).toBe(`account ${BOB}: credits_posted_minor is 16 but the transfers give 10`);
    await sql`update ledger_accounts set credits_posted_minor = ${'10'} where id = ${BOB}`.execute(t.db.kysely);
    // … or removes a transfer (and fixes balances so that they still add up).
    if (dialect === 'postgres') await sql.raw('drop trigger ledger_transfers_no_update on ledger_transfers').execute(t.db.kysely).catch(() => undefined);
    else await sql.raw('drop trigger ledger_transfers_no_delete').execute(t.db.kysely);
    await sql`delete from ledger_transfers where id = 't3'`.execute(t.db.kysely);
    expect((await verifyLedger(t.db.kysely)).problem).toMatch(/^chain head \(seq 4\) does not match the last transfer \(seq 3\)/);
  });

  it('pages an account history newest first with a cursor', async () => {
    const batch = [tr('fund_bob', WORLD, BOB, 100n), ...Array.from({ length: 7 }, (_, i) => tr(`h${i}`, i % 2 ? ALICE : BOB, i % 2 ? BOB : ALICE, BigInt(i + 1)))];
    expect((await ledger.createTransfers(batch)).every((r) => r.result === 'ok')).toBe(true);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: Awaited<ReturnType<Ledger['history']>> = await ledger.history(ALICE, { limit: 3, cursor });
      seen.push(...r.data.map((x) => x.id));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(['h6', 'h5', 'h4', 'h3', 'h2', 'h1', 'h0', 'fund']);
  });

  it('pages history across long quiet stretches, and answers stale or forged cursors', async () => {
    // History follows each account's links, whatever lies between. Moving the chain head forward
    // (which verify would refuse, but history does not care) puts transfers far apart without
    // writing hundreds of thousands of them.
    const jumpTo = (seq: number) => sql`update ledger_head set seq = ${seq} where id = 1`.execute(t.db.kysely);
    await jumpTo(65_536 - 3);
    expect((await ledger.createTransfers(Array.from({ length: 6 }, (_, i) => tr(`b${i}`, i % 2 ? BOB : ALICE, i % 2 ? ALICE : BOB, 1n)))).every((r) => r.result === 'ok')).toBe(true);
    await jumpTo(65_536 * 40 + 7);
    expect((await ledger.createTransfers([tr('late0', ALICE, BOB, 1n), tr('late1', BOB, ALICE, 1n)])).every((r) => r.result === 'ok')).toBe(true);
    const page = async (account: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 20; n++) {
        const r: Awaited<ReturnType<Ledger['history']>> = await ledger.history(account, { limit, cursor });
        seen.push(...r.data.map((x) => x.id));
        cursor = r.next_cursor;
        if (!cursor) break;
      }
      return seen;
    };
    const all = ['late1', 'late0', 'b5', 'b4', 'b3', 'b2', 'b1', 'b0'];
    expect(await page(ALICE, 3)).toEqual([...all, 'fund']);
    expect(await page(ALICE, 50)).toEqual([...all, 'fund']);
    expect(await page(BOB, 2)).toEqual(all);
    expect(await page(WORLD, 5)).toEqual(['fund']);
    expect(await page(ALICE_HELD, 5)).toEqual([]);
    // A cursor past the head starts at the newest transfer; one that is not on the account's list
    // (stale, forged, another account's) gives the account's transfers below it.
    expect((await ledger.history(ALICE, { limit: 2, cursor: String(2 ** 50) })).data.map((x) => x.id)).toEqual(['late1', 'late0']);
    const [b3] = await ledger.getTransfers(['b3']);
    expect((await ledger.history(WORLD, { limit: 5, cursor: String(b3!.seq) })).data.map((x) => x.id)).toEqual(['fund']);
    expect((await ledger.history(ALICE, { limit: 3, cursor: String(b3!.seq + 1) })).data.map((x) => x.id)).toEqual(['b3', 'b2', 'b1']);
    expect((await ledger.history(ALICE, { limit: 3, cursor: '1' })).data).toEqual([]);
    const [late] = await ledger.getTransfers(['late0']);
    expect(late).toMatchObject({ seq: 65_536 * 40 + 8, debit_account_id: ALICE, credit_account_id: BOB });
  });

  it('registers assets idempotently and refuses a conflicting definition', async () => {
    const usdt = { code: 'USDT', decimals: 6, chain_id: 31337, contract_address: '0x5fbdb2315678afecb367f032d93f642f64180aa3' };
    const eth = { code: 'ETH', decimals: 18, chain_id: 31337, contract_address: null };
    await ledger.ensureAssets([usdt, eth]);
    await ledger.ensureAssets([usdt]);
    expect(await ledger.listAssets()).toEqual([eth, usdt]);
    await expect(ledger.ensureAssets([{ ...usdt, decimals: 18 }])).rejects.toThrow(/USDT/);
  });

  it('gives each group-committed caller its own results, in its own order', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => ledger.createTransfers([tr(`g${i}`, ALICE, BOB, 60n), tr(`g${i}`, ALICE, BOB, 60n)]));
    const results = await Promise.all(calls);
    // 1000 funds 16 transfers of 60; the rest exceed alice's credits.
    expect(results.map((r) => r[0]!.result)).toEqual([...Array<string>(16).fill('ok'), ...Array<string>(4).fill('exceeds_credits')]);
    expect(results.map((r) => r[1]!.result)).toEqual([...Array<string>(16).fill('exists'), ...Array<string>(4).fill('exceeds_credits')]);
    expect(results[3]!.map((r) => r.id)).toEqual(['g3', 'g3']);
    expect(await ledger.createTransfers([])).toEqual([]);
  });

  it('bounds batches and the queue: a full queue refuses (backpressure) instead of growing', async () => {
    const small = createLedger(t.db, clock, { batch_max: 2, queue_max: 3 });
    await expect(small.createTransfers([tr('x1', ALICE, BOB, 1n), tr('x2', ALICE, BOB, 1n), tr('x3', ALICE, BOB, 1n)])).rejects.toThrow(/at most 2/);
    const first = small.createTransfers([tr('y1', ALICE, BOB, 1n), tr('y2', ALICE, BOB, 1n)]);
    await expect(small.createTransfers([tr('y3', ALICE, BOB, 1n), tr('y4', ALICE, BOB, 1n)])).rejects.toBeInstanceOf(LedgerBusyError);
    expect((await first).map((r) => r.result)).toEqual(['ok', 'ok']);
    expect((await small.createTransfers([tr('y3', ALICE, BOB, 1n), tr('y4', ALICE, BOB, 1n)])).map((r) => r.result)).toEqual(['ok', 'ok']);
    await small.drain();
  });

  it('rolls transfers back with the caller transaction that made them', async () => {
    await expect(
      t.db.transaction(async (trx) => {
        expect(await ledger.createTransfersIn(trx, [tr('rb', ALICE, BOB, 10n)])).toEqual([{ id: 'rb', result: 'ok' }]);
        throw new Error('payment step failed');
      }),
    ).rejects.toThrow('payment step failed');
    expect(await ledger.getTransfers(['rb'])).toEqual([]);
    expect((await verifyLedger(t.db.kysely)).ok).toBe(true);
    expect(await ledger.createTransfers([tr('rb', ALICE, BOB, 10n)])).toEqual([{ id: 'rb', result: 'ok' }]);
  });
});
