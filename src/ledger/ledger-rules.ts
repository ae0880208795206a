// The ledger's pure core: applies a batch of transfers to in-memory account states, TigerBeetle's
// way. No I/O here: the store loads the touched accounts and transfers, these functions decide,
// and the store writes the outcome. Every expected failure is a result code (data); a broken
// invariant is an assertion.
//
// Semantics, per account: debits/credits × pending/posted.
// - single: posted += amount on both sides;
// - pending: pending += amount (reserved), optionally expiring at created_at_ms + timeout_ms;
// - post_pending: pending -= the pending amount, posted += the posted amount (≤ pending amount; the
//   remainder is released);
// - void_pending: pending -= the pending amount.
// A pending transfer is resolved exactly once: its resolution is the one transfer whose
// pending_id names it (a unique index in the database backs this up).
// Linked transfers form a chain (each `linked` joins the next): all succeed or none does; the
// failing one reports its own code and the others `linked_event_failed`; a chain still open at
// the end of a caller's batch fails with `linked_event_chain_open`. Retrying a committed transfer
// answers `exists`, which does not break a chain, so a whole chain can be retried as it was.
import { assert } from '../shared/assert.ts';
import type { AccountFlags, Transfer, TransferInput, TransferResult, TransferResultCode } from './ledger-types.ts';
import { transferHash } from './ledger-replay-rules.ts';

/** Transfer flag bits as stored in ledger_transfers.flags. */
export const TF = { linked: 1, pending: 2, post: 4, void: 8, post_full: 16, expiry: 32 } as const;

export const GENESIS_HASH = '0'.repeat(64);

export interface AccountState extends AccountFlags {
  id: string;
  /** The account's small integer key (transfer rows name accounts by it). */
  num: number;
  asset: string;
  debits_pending_minor: bigint;
  debits_posted_minor: bigint;
  credits_pending_minor: bigint;
  credits_posted_minor: bigint;
  /** The seq of the account's latest transfer (0: none): the head of its history list. */
  last_seq: number;
}

/**
 * A transfer as the store writes it: with its history links, the seq of each account's previous
 * transfer (0: none). Internal to the ledger; readers get a Transfer.
 */
export interface StoredTransfer extends Transfer {
  debit_prev: number;
  credit_prev: number;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/** What the ledger itself adds to a void: the expiry job may void a pending transfer past its expiry. */
export type RuleInput = TransferInput & { readonly expiry?: true };

/** Everything a batch needs, loaded by the store; mutated in place by applyBatch. */
export interface BatchState {
  now_ms: number;
  /** Touched accounts (locked by the store). */
  accounts: Map<string, AccountState>;
  /** Transfers already stored whose ids the batch names (as id or pending id), plus those created now. */
  transfers: Map<string, Transfer>;
  /** pending transfer id -> how it was resolved (stored, or resolved in this batch). */
  resolutions: Map<string, 'posted' | 'voided'>;
  head: ChainHead;
  /** Transfers created by this batch, in seq order. */
  created: StoredTransfer[];
  /** Accounts whose balances changed (ids). */
  dirty: Set<string>;
}

/** newBatchState(now_ms, head) — the store fills accounts, transfers and resolutions. */
export function newBatchState(now_ms: number, head: ChainHead): BatchState {
  return { now_ms, accounts: new Map(), transfers: new Map(), resolutions: new Map(), head: { ...head }, created: [], dirty: new Set() };
}

/**
 * The ids a batch needs loaded: its own ids (stored only when retried) and the pending transfers
 * it posts or voids (`targets`, loaded with how they were resolved).
 */
export function transferIdsToLoad(batch: readonly RuleInput[]): { own: string[]; targets: string[] } {
  const own = new Set<string>();
  const targets = new Set<string>();
  for (const t of batch) {
    if (t.id) own.add(t.id);
    const pid = t.post_pending_id ?? t.void_pending_id;
    if (pid) targets.add(pid);
  }
  return { own: [...own], targets: [...targets] };
}

/** The accounts a batch touches, given the stored transfers it names (for posts and voids). */
export function accountIdsToLock(batch: readonly RuleInput[], stored: ReadonlyMap<string, Transfer>): string[] {
  const ids = new Set<string>();
  for (const t of batch) {
    if (t.post_pending_id === undefined && t.void_pending_id === undefined) {
      ids.add(t.debit_account_id);
      ids.add(t.credit_account_id);
    } else {
      const p = stored.get((t.post_pending_id ?? t.void_pending_id)!);
      if (p) {
        ids.add(p.debit_account_id);
        ids.add(p.credit_account_id);
      }
    }
  }
  // Sorted: every writer locks rows in the same order, so PostgreSQL never sees a lock cycle.
  return [...ids].sort();
}

type Undo = Array<() => void>;

/**
 * Applies one caller's batch to the state; one result per input, in order.
 * applyBatch(state, [{ id: 't1', debit_account_id: 'a', credit_account_id: 'b', amount_minor: 5n, asset: 'USDT', reason: 'x', reference: null }])
 *   -> [{ id: 't1', result: 'ok' }]
 */
export function applyBatch(state: BatchState, batch: readonly RuleInput[]): TransferResult[] {
  const n = batch.length;
  const results: TransferResult[] = new Array<TransferResult>(n);
  let i = 0;
  while (i < n) {
    let end = i;
    while (end < n - 1 && batch[end]!.linked) end++;
    if (end === n - 1 && batch[end]!.linked) {
      for (let k = i; k <= end; k++) results[k] = { id: batch[k]!.id, result: k === end ? 'linked_event_chain_open' : 'linked_event_failed' };
    } else if (end === i) {
      results[i] = { id: batch[i]!.id, result: applyOne(state, batch[i]!, null) };
    } else {
      applyChain(state, batch, i, end, results);
    }
    i = end + 1;
  }
  return results;
}

function applyChain(state: BatchState, batch: readonly RuleInput[], from: number, to: number, results: TransferResult[]): void {
  const undo: Undo = [];
  const codes: TransferResultCode[] = [];
  let failed = -1;
  for (let k = from; k <= to; k++) {
    const code = applyOne(state, batch[k]!, undo);
    codes.push(code);
    if (code !== 'ok' && code !== 'exists') {
      failed = k;
      break;
    }
  }
  if (failed >= 0) for (let u = undo.length - 1; u >= 0; u--) undo[u]!();
  for (let k = from; k <= to; k++) {
    const result = failed < 0 ? codes[k - from]! : k === failed ? codes[k - from]! : 'linked_event_failed';
    results[k] = { id: batch[k]!.id, result };
  }
}

function applyOne(state: BatchState, input: RuleInput, undo: Undo | null): TransferResultCode {
  if (!input.id) return 'id_must_not_be_empty';
  const existing = state.transfers.get(input.id);
  if (existing) return compareExisting(existing, input);
  if (input.post_pending_id !== undefined || input.void_pending_id !== undefined) return applyResolve(state, input, undo);
  return applyCreate(state, input, undo);
}

/** The flag bits an input would be stored with (without the internal expiry bit). */
export function inputFlags(input: TransferInput): number {
  let flags = input.linked ? TF.linked : 0;
  if (input.post_pending_id !== undefined) flags |= TF.post | (input.amount_minor === undefined ? TF.post_full : 0);
  else if (input.void_pending_id !== undefined) flags |= TF.void;
  else if (input.pending) flags |= TF.pending;
  return flags;
}

function compareExisting(e: Transfer, input: RuleInput): TransferResultCode {
  if ((e.flags & ~TF.expiry) !== inputFlags(input)) return 'exists_with_different_flags';
  if (input.post_pending_id !== undefined || input.void_pending_id !== undefined) {
    if (e.pending_id !== (input.post_pending_id ?? input.void_pending_id)) return 'exists_with_different_pending_id';
    if (input.post_pending_id !== undefined && input.amount_minor !== undefined && input.amount_minor !== e.amount_minor) return 'exists_with_different_amount';
  } else {
    if (e.debit_account_id !== input.debit_account_id) return 'exists_with_different_debit_account_id';
    if (e.credit_account_id !== input.credit_account_id) return 'exists_with_different_credit_account_id';
    if (e.asset !== input.asset) return 'exists_with_different_asset';
    if (e.amount_minor !== input.amount_minor) return 'exists_with_different_amount';
    if (e.timeout_ms !== (input.timeout_ms ?? 0)) return 'exists_with_different_timeout';
  }
  if (e.reason !== input.reason) return 'exists_with_different_reason';
  if (e.reference !== input.reference) return 'exists_with_different_reference';
  return 'exists';
}

function amountCode(amount: bigint): TransferResultCode | null {
  if (amount === 0n) return 'amount_must_not_be_zero';
  if (amount < 0n) return 'amount_must_be_positive';
  return null;
}

function applyCreate(state: BatchState, input: Extract<RuleInput, { debit_account_id: string }>, undo: Undo | null): TransferResultCode {
  if (input.debit_account_id === input.credit_account_id) return 'accounts_must_be_different';
  const bad = amountCode(input.amount_minor);
  if (bad) return bad;
  const timeout = input.timeout_ms ?? 0;
  if (!Number.isSafeInteger(timeout) || timeout < 0) return 'timeout_must_be_valid';
  if (timeout > 0 && !input.pending) return 'timeout_reserved_for_pending_transfer';
  const dr = state.accounts.get(input.debit_account_id);
  if (!dr) return 'debit_account_not_found';
  const cr = state.accounts.get(input.credit_account_id);
  if (!cr) return 'credit_account_not_found';
  if (dr.asset !== cr.asset) return 'accounts_must_have_the_same_asset';
  if (input.asset !== dr.asset) return 'transfer_asset_must_match_accounts';
  const amount = input.amount_minor;
  if (dr.debits_must_not_exceed_credits && dr.debits_pending_minor + dr.debits_posted_minor + amount > dr.credits_posted_minor) return 'exceeds_credits';
  if (cr.credits_must_not_exceed_debits && cr.credits_pending_minor + cr.credits_posted_minor + amount > cr.debits_posted_minor) return 'exceeds_debits';
  if (undo) snapshot(state, undo, dr, cr);
  if (input.pending) {
    dr.debits_pending_minor += amount;
    cr.credits_pending_minor += amount;
  } else {
    dr.debits_posted_minor += amount;
    cr.credits_posted_minor += amount;
  }
  record(state, undo, dr, cr, {
    id: input.id,
    debit_account_id: dr.id,
    credit_account_id: cr.id,
    asset: dr.asset,
    amount_minor: amount,
    type: input.pending ? 'pending' : 'single',
    pending_id: null,
    timeout_ms: timeout,
    expires_at_ms: timeout > 0 ? state.now_ms + timeout : null,
    flags: inputFlags(input),
    reason: input.reason,
    reference: input.reference,
  });
  return 'ok';
}

function applyResolve(state: BatchState, input: RuleInput, undo: Undo | null): TransferResultCode {
  const posting = input.post_pending_id !== undefined;
  const pid = (input.post_pending_id ?? input.void_pending_id)!;
  const p = pid ? state.transfers.get(pid) : undefined;
  if (!p) return 'pending_transfer_not_found';
  if (!(p.flags & TF.pending)) return 'pending_transfer_not_pending';
  const resolution = state.resolutions.get(pid);
  if (resolution === 'posted') return 'pending_transfer_already_posted';
  if (resolution === 'voided') return 'pending_transfer_already_voided';
  if (!input.expiry && p.expires_at_ms !== null && state.now_ms >= p.expires_at_ms) return 'pending_transfer_expired';
  let amount = p.amount_minor;
  if (posting && input.amount_minor !== undefined) {
    const bad = amountCode(input.amount_minor);
    if (bad) return bad;
    if (input.amount_minor > p.amount_minor) return 'exceeds_pending_transfer_amount';
    amount = input.amount_minor;
  }
  const dr = state.accounts.get(p.debit_account_id);
  const cr = state.accounts.get(p.credit_account_id);
  assert(dr && cr, `accounts of pending transfer ${pid} must be loaded`);
  if (undo) snapshot(state, undo, dr, cr);
  dr.debits_pending_minor -= p.amount_minor;
  cr.credits_pending_minor -= p.amount_minor;
  if (posting) {
    dr.debits_posted_minor += amount;
    cr.credits_posted_minor += amount;
  }
  state.resolutions.set(pid, posting ? 'posted' : 'voided');
  if (undo) undo.push(() => state.resolutions.delete(pid));
  record(state, undo, dr, cr, {
    id: input.id,
    debit_account_id: p.debit_account_id,
    credit_account_id: p.credit_account_id,
    asset: p.asset,
    amount_minor: amount,
    type: posting ? 'post_pending' : 'void_pending',
    pending_id: pid,
    timeout_ms: 0,
    expires_at_ms: null,
    flags: inputFlags(input) | (input.expiry ? TF.expiry : 0),
    reason: input.reason,
    reference: input.reference,
  });
  return 'ok';
}

function snapshot(state: BatchState, undo: Undo, ...accounts: AccountState[]): void {
  for (const a of accounts) {
    const saved = { ...a };
    const wasDirty = state.dirty.has(a.id);
    undo.push(() => {
      Object.assign(a, saved);
      if (!wasDirty) state.dirty.delete(a.id);
    });
  }
}

type NewTransfer = Omit<Transfer, 'seq' | 'created_at_ms' | 'prev_hash' | 'hash'>;

/** Appends a transfer to the chain and to both accounts' history lists (the caller snapshotted dr and cr). */
function record(state: BatchState, undo: Undo | null, dr: AccountState, cr: AccountState, t: NewTransfer): void {
  const prev = state.head;
  const seq = prev.seq + 1;
  // Written out field by field (not spread) so that every transfer object has one hidden class:
  // this function runs once per transfer on the hot path.
  const full: StoredTransfer = {
    id: t.id,
    seq,
    debit_account_id: t.debit_account_id,
    credit_account_id: t.credit_account_id,
    asset: t.asset,
    amount_minor: t.amount_minor,
    type: t.type,
    pending_id: t.pending_id,
    timeout_ms: t.timeout_ms,
    expires_at_ms: t.expires_at_ms,
    flags: t.flags,
    reason: t.reason,
    reference: t.reference,
    created_at_ms: state.now_ms,
    prev_hash: prev.hash,
    hash: '',
    debit_prev: dr.last_seq,
    credit_prev: cr.last_seq,
  };
  full.hash = transferHash(full);
  dr.last_seq = seq;
  cr.last_seq = seq;
  state.transfers.set(full.id, full);
  state.created.push(full);
  state.head = { seq, hash: full.hash };
  state.dirty.add(t.debit_account_id);
  state.dirty.add(t.credit_account_id);
  if (undo) {
    undo.push(() => {
      state.transfers.delete(full.id);
      state.created.pop();
      state.head = prev;
    });
  }
}
