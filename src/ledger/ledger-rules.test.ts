// Goal: the pure ledger state machine gives the right result code and balances for each rule
// (idempotency, flags, two-phase, expiry, linked chains, hash chain). Method: apply small batches
// to in-memory states and compare with hand-computed expectations.
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, applyBatch, newBatchState, type AccountState, type BatchState, type RuleInput } from './ledger-rules.ts';
import { ownerBalances, transferHash } from './ledger-replay-rules.ts';
import type { LedgerAccount, TransferInput } from './ledger-types.ts';

let nums = 0;
function acct(id: string, flags: Partial<AccountState> = {}, asset = 'USDT'): AccountState {
  return { id, num: ++nums, asset, debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false, debits_pending_minor: 0n, debits_posted_minor: 0n, credits_pending_minor: 0n, credits_posted_minor: 0n, last_seq: 0, ...flags };
}

function state(now_ms = 1000): BatchState {
  const s = newBatchState(now_ms, { seq: 0, hash: GENESIS_HASH });
  for (const a of [acct('world'), acct('alice', { debits_must_not_exceed_credits: true }), acct('bob', { debits_must_not_exceed_credits: true }), acct('cap', { credits_must_not_exceed_debits: true }), acct('eth', {}, 'ETH')]) s.accounts.set(a.id, a);
  return s;
}

const tr = (id: string, dr: string, cr: string, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput =>
  ({ id, debit_account_id: dr, credit_account_id: cr, amount_minor: amount, asset: 'USDT', reason: 'test', reference: null, ...extra }) as TransferInput;

const codes = (s: BatchState, batch: RuleInput[]) => applyBatch(s, batch).map((r) => r.result);

describe('ledger rules', () => {
  it('moves money single-phase and enforces debits_must_not_exceed_credits', () => {
    const s = state();
    expect(codes(s, [tr('t1', 'world', 'alice', 100n), tr('t2', 'alice', 'bob', 60n), tr('t3', 'alice', 'bob', 41n), tr('t4', 'alice', 'bob', 40n)])).toEqual(['ok', 'ok', 'exceeds_credits', 'ok']);
    expect(s.accounts.get('alice')).toMatchObject({ credits_posted_minor: 100n, debits_posted_minor: 100n });
    expect(s.accounts.get('world')!.debits_posted_minor).toBe(100n);
    expect(s.created.map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('enforces credits_must_not_exceed_debits', () => {
    const s = state();
    expect(codes(s, [tr('t1', 'world', 'cap', 1n), tr('t2', 'cap', 'world', 5n), tr('t3', 'world', 'cap', 5n), tr('t4', 'world', 'cap', 1n)])).toEqual(['exceeds_debits', 'ok', 'ok', 'exceeds_debits']);
  });

  it('validates inputs', () => {
    const s = state();
    expect(
      codes(s, [
        tr('', 'world', 'alice', 1n),
        tr('a', 'world', 'world', 1n),
        tr('b', 'world', 'alice', 0n),
        tr('c', 'world', 'alice', -1n),
        tr('d', 'nobody', 'alice', 1n),
        tr('e', 'world', 'nobody', 1n),
        tr('f', 'world', 'eth', 1n),
        tr('g', 'world', 'alice', 1n, { asset: 'ETH' }),
        tr('h', 'world', 'alice', 1n, { timeout_ms: 5 }),
        tr('i', 'world', 'alice', 1n, { pending: true, timeout_ms: -1 }),
      ]),
    ).toEqual([
      'id_must_not_be_empty',
      'accounts_must_be_different',
      'amount_must_not_be_zero',
      'amount_must_be_positive',
      'debit_account_not_found',
      'credit_account_not_found',
      'accounts_must_have_the_same_asset',
      'transfer_asset_must_match_accounts',
      'timeout_reserved_for_pending_transfer',
      'timeout_must_be_valid',
    ]);
    expect(s.created).toHaveLength(0);
  });

  it('answers exists for a retry and names the first different field otherwise', () => {
    const s = state();
    applyBatch(s, [tr('t1', 'world', 'alice', 10n, { reference: 'pay_1' })]);
    expect(
      codes(s, [
        tr('t1', 'world', 'alice', 10n, { reference: 'pay_1' }),
        tr('t1', 'world', 'bob', 10n, { reference: 'pay_1' }),
        tr('t1', 'bob', 'alice', 10n, { reference: 'pay_1' }),
        tr('t1', 'world', 'alice', 11n, { reference: 'pay_1' }),
        tr('t1', 'world', 'alice', 10n, { reference: 'pay_1', pending: true }),
        tr('t1', 'world', 'alice', 10n, { reference: 'pay_1', reason: 'other' }),
        tr('t1', 'world', 'alice', 10n, { reference: 'pay_2' }),
      ]),
    ).toEqual([
      'exists',
      'exists_with_different_credit_account_id',
      'exists_with_different_debit_account_id',
      'exists_with_different_amount',
      'exists_with_different_flags',
      'exists_with_different_reason',
      'exists_with_different_reference',
    ]);
    expect(s.accounts.get('alice')!.credits_posted_minor).toBe(10n);
  });

  it('reserves with pending, posts partially (remainder released) exactly once', () => {
    const s = state();
    applyBatch(s, [tr('fund', 'world', 'alice', 100n)]);
    expect(codes(s, [tr('p', 'alice', 'bob', 70n, { pending: true }), tr('x', 'alice', 'bob', 31n)])).toEqual(['ok', 'exceeds_credits']);
    expect(s.accounts.get('alice')).toMatchObject({ debits_pending_minor: 70n, debits_posted_minor: 0n });
    const post = (id: string, amount?: bigint): RuleInput => ({ id, post_pending_id: 'p', ...(amount === undefined ? {} : { amount_minor: amount }), reason: 'test', reference: null });
    expect(codes(s, [post('q1', 71n), post('q2', 0n), post('q3', 50n), post('q4'), { id: 'v', void_pending_id: 'p', reason: 'test', reference: null }])).toEqual([
      'exceeds_pending_transfer_amount',
      'amount_must_not_be_zero',
      'ok',
      'pending_transfer_already_posted',
      'pending_transfer_already_posted',
    ]);
    expect(s.accounts.get('alice')).toMatchObject({ debits_pending_minor: 0n, debits_posted_minor: 50n });
    expect(s.accounts.get('bob')).toMatchObject({ credits_pending_minor: 0n, credits_posted_minor: 50n });
    expect(codes(s, [post('q3', 50n), post('q3', 49n), { id: 'q5', post_pending_id: 'fund', reason: 'test', reference: null }, { id: 'q6', post_pending_id: 'nope', reason: 'test', reference: null }])).toEqual([
      'exists',
      'exists_with_different_amount',
      'pending_transfer_not_pending',
      'pending_transfer_not_found',
    ]);
  });

  it('voids, and refuses to post or void after expiry unless it is the expiry itself', () => {
    const s = state(1000);
    applyBatch(s, [tr('fund', 'world', 'alice', 100n), tr('p1', 'alice', 'bob', 10n, { pending: true }), tr('p2', 'alice', 'bob', 10n, { pending: true, timeout_ms: 500 })]);
    expect(s.created[2]!.expires_at_ms).toBe(1500);
    expect(codes(s, [{ id: 'v1', void_pending_id: 'p1', reason: 'r', reference: null }, { id: 'v1b', void_pending_id: 'p1', reason: 'r', reference: null }])).toEqual(['ok', 'pending_transfer_already_voided']);
    s.now_ms = 1500;
    expect(codes(s, [{ id: 'x', post_pending_id: 'p2', reason: 'r', reference: null }, { id: 'y', void_pending_id: 'p2', reason: 'r', reference: null }])).toEqual(['pending_transfer_expired', 'pending_transfer_expired']);
    expect(codes(s, [{ id: 'expire:p2', void_pending_id: 'p2', reason: 'ledger.pending_expired', reference: null, expiry: true }])).toEqual(['ok']);
    expect(s.accounts.get('alice')).toMatchObject({ debits_pending_minor: 0n, debits_posted_minor: 0n, credits_posted_minor: 100n });
  });

  it('links chains all-or-nothing and refuses an open chain', () => {
    const s = state();
    applyBatch(s, [tr('fund', 'world', 'alice', 100n)]);
    const before = { ...s.accounts.get('alice')! };
    const seq = s.head.seq;
    expect(codes(s, [tr('a', 'alice', 'bob', 60n, { linked: true }), tr('b', 'alice', 'bob', 60n, { linked: true }), tr('c', 'alice', 'bob', 1n), tr('d', 'alice', 'bob', 1n)])).toEqual([
      'linked_event_failed',
      'exceeds_credits',
      'linked_event_failed',
      'ok',
    ]);
    expect(s.accounts.get('alice')!.debits_posted_minor).toBe(before.debits_posted_minor + 1n);
    expect(s.head.seq).toBe(seq + 1);
    expect(s.transfers.has('a')).toBe(false);
    expect(codes(s, [tr('e', 'alice', 'bob', 1n), tr('f', 'alice', 'bob', 1n, { linked: true }), tr('g', 'alice', 'bob', 1n, { linked: true })])).toEqual(['ok', 'linked_event_failed', 'linked_event_chain_open']);
    // A committed chain can be retried as it was: every member answers exists.
    expect(codes(s, [tr('h', 'alice', 'bob', 1n, { linked: true }), tr('i', 'alice', 'bob', 1n)])).toEqual(['ok', 'ok']);
    expect(codes(s, [tr('h', 'alice', 'bob', 1n, { linked: true }), tr('i', 'alice', 'bob', 1n)])).toEqual(['exists', 'exists']);
  });

  it('rolls back a pending resolution inside a failed chain', () => {
    const s = state();
    applyBatch(s, [tr('fund', 'world', 'alice', 100n), tr('p', 'alice', 'bob', 50n, { pending: true })]);
    expect(codes(s, [{ id: 'post', post_pending_id: 'p', linked: true, reason: 'r', reference: null }, tr('big', 'alice', 'bob', 51n)])).toEqual(['linked_event_failed', 'exceeds_credits']);
    expect(s.resolutions.has('p')).toBe(false);
    expect(s.accounts.get('alice')).toMatchObject({ debits_pending_minor: 50n, debits_posted_minor: 0n });
    expect(codes(s, [{ id: 'post', post_pending_id: 'p', reason: 'r', reference: null }])).toEqual(['ok']);
  });

  it('chains hashes: each transfer commits to the previous hash and its own fields', () => {
    const s = state();
    applyBatch(s, [tr('t1', 'world', 'alice', 1n), tr('t2', 'world', 'alice', 2n)]);
    const [a, b] = s.created;
    expect(a!.prev_hash).toBe(GENESIS_HASH);
    expect(b!.prev_hash).toBe(a!.hash);
    expect(transferHash(b!)).toBe(b!.hash);
    expect(transferHash({ ...b!, amount_minor: 3n })).not.toBe(b!.hash);
  });


  it("links each account's transfers into its history list, and a failed chain leaves no link behind", () => {
    const s = state();
    applyBatch(s, [tr('t1', 'world', 'alice', 10n), tr('t2', 'alice', 'bob', 1n), tr('p', 'world', 'bob', 5n, { pending: true })]);
    applyBatch(s, [{ id: 'v', void_pending_id: 'p', reason: 'r', reference: null }]);
    const links = () => Object.fromEntries(s.created.map((t) => [t.id, [t.seq, t.debit_prev, t.credit_prev]]));
    // [seq, previous seq of the debit account, previous seq of the credit account]
    expect(links()).toEqual({ t1: [1, 0, 0], t2: [2, 1, 0], p: [3, 1, 2], v: [4, 3, 3] });
    expect([...s.accounts.values()].map((a) => [a.id, a.last_seq])).toEqual([['world', 4], ['alice', 2], ['bob', 4], ['cap', 0], ['eth', 0]]);
    // A chain that fails after its first transfer was applied restores both accounts' list heads.
    expect(codes(s, [tr('c1', 'alice', 'bob', 1n, { linked: true }), tr('c2', 'alice', 'bob', 100n)])).toEqual(['linked_event_failed', 'exceeds_credits']);
    expect([s.accounts.get('alice')!.last_seq, s.accounts.get('bob')!.last_seq]).toEqual([2, 4]);
    applyBatch(s, [tr('t5', 'bob', 'alice', 1n)]);
    expect(links().t5).toEqual([5, 4, 2]);
  });
  it('derives wallet balances: available, pending in/out, held', () => {
    const base = { owner_type: 'user' as const, owner_id: 'u', asset: 'USDT', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false }, created_at_ms: 0 };
    const accounts: LedgerAccount[] = [
      { ...base, id: 'av', kind: 'user_available', credits_posted_minor: 100n, debits_posted_minor: 30n, debits_pending_minor: 20n, credits_pending_minor: 5n },
      { ...base, id: 'hd', kind: 'user_held', credits_posted_minor: 9n, debits_posted_minor: 2n, debits_pending_minor: 0n, credits_pending_minor: 0n },
    ];
    expect(ownerBalances(accounts, ['USDT', 'ETH'])).toEqual([
      { asset: 'USDT', available_minor: 50n, pending_in_minor: 5n, pending_out_minor: 20n, held_minor: 7n },
      { asset: 'ETH', available_minor: 0n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 0n },
    ]);
  });
});
