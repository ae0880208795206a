// The ledger's hash chain, replay and stored flag bits, pure: which fields a transfer's hash covers and in what
// order, the hash itself, and replaying transfers into balances — what `settle ledger verify`
// and the owner balances read. Split from ledger-rules.ts (which applies batches) so that each
// file holds one idea; no I/O here either.
import { hash } from 'node:crypto';
import type { AccountFlags, LedgerAccount, OwnerBalance, Transfer } from './ledger-types.ts';

/**
 * A transfer's fields in the order its hash covers them, which is also the order the store writes
 * them (ledger-store.ts, accounts by their num): one list, so that what is hashed and what is
 * stored cannot drift apart. Changing it breaks every existing hash chain.
 */
export const HASHED_TRANSFER_FIELDS = ['seq', 'id', 'debit_account_id', 'credit_account_id', 'asset', 'amount_minor', 'type', 'pending_id', 'timeout_ms', 'expires_at_ms', 'flags', 'reason', 'reference', 'created_at_ms'] as const;

/** The hashed fields' values, in HASHED_TRANSFER_FIELDS order, the amount as decimal text. */
export function hashedValues(t: Omit<Transfer, 'hash'>): Array<string | number | null> {
  return HASHED_TRANSFER_FIELDS.map((f) => (f === 'amount_minor' ? t.amount_minor.toString() : t[f]));
}

/** sha256(prev_hash + canonical fields): changing any stored field or the order breaks the chain. */
export function transferHash(t: Omit<Transfer, 'hash'>): string {
  const canonical = JSON.stringify(hashedValues(t));
  // crypto.hash (one shot) costs half of createHash().update().digest() for inputs this small.
  return hash('sha256', `${t.prev_hash}\n${canonical}`, 'hex');
}

export interface Balances {
  debits_pending_minor: bigint;
  debits_posted_minor: bigint;
  credits_pending_minor: bigint;
  credits_posted_minor: bigint;
}

export function zeroBalances(): Balances {
  return { debits_pending_minor: 0n, debits_posted_minor: 0n, credits_pending_minor: 0n, credits_posted_minor: 0n };
}

/**
 * Replays one stored transfer onto balances (used by `settle ledger verify`), given the amount of
 * the pending transfer it resolves. Returns null or a description of what is wrong.
 */
export function replayTransfer(dr: Balances, cr: Balances, t: Transfer, pending_amount_minor: bigint | null): string | null {
  switch (t.type) {
    case 'single':
      dr.debits_posted_minor += t.amount_minor;
      cr.credits_posted_minor += t.amount_minor;
      return null;
    case 'pending':
      dr.debits_pending_minor += t.amount_minor;
      cr.credits_pending_minor += t.amount_minor;
      return null;
    case 'post_pending':
    case 'void_pending':
      if (pending_amount_minor === null) return `transfer ${t.id} resolves ${t.pending_id ?? '(none)'}, which is not an earlier pending transfer`;
      dr.debits_pending_minor -= pending_amount_minor;
      cr.credits_pending_minor -= pending_amount_minor;
      if (t.type === 'post_pending') {
        if (t.amount_minor > pending_amount_minor) return `transfer ${t.id} posts more than its pending transfer`;
        dr.debits_posted_minor += t.amount_minor;
        cr.credits_posted_minor += t.amount_minor;
      }
      return null;
  }
}

/** Which flag, if any, an account's balances break. */
export function flagViolation(a: Balances & AccountFlags): 'exceeds_credits' | 'exceeds_debits' | null {
  if (a.debits_must_not_exceed_credits && a.debits_pending_minor + a.debits_posted_minor > a.credits_posted_minor) return 'exceeds_credits';
  if (a.credits_must_not_exceed_debits && a.credits_pending_minor + a.credits_posted_minor > a.debits_posted_minor) return 'exceeds_debits';
  return null;
}

/**
 * What a wallet shows, per asset, from an owner's accounts:
 * available = credits_posted − debits_posted − debits_pending of user_available, pending_in = its
 * credits_pending, pending_out = its debits_pending, held = the posted balance of user_held.
 * Platform accounts (hot wallet, fees, …) are read one by one with getAccounts: adding them up
 * per owner would mix assets and liabilities.
 */
export function ownerBalances(accounts: readonly LedgerAccount[], assets: readonly string[]): OwnerBalance[] {
  return assets.map((asset) => {
    const out: OwnerBalance = { asset, available_minor: 0n, pending_in_minor: 0n, pending_out_minor: 0n, held_minor: 0n };
    for (const a of accounts) {
      if (a.asset !== asset) continue;
      if (a.kind === 'user_held') {
        out.held_minor += a.credits_posted_minor - a.debits_posted_minor;
      } else if (a.kind === 'user_available') {
        out.available_minor += a.credits_posted_minor - a.debits_posted_minor - a.debits_pending_minor;
        out.pending_in_minor += a.credits_pending_minor;
        out.pending_out_minor += a.debits_pending_minor;
      }
    }
    return out;
  });
}

/** Flags as stored in ledger_accounts.flags (bit 1 debits ≤ credits, bit 2 credits ≤ debits). */
export function accountFlagBits(f: AccountFlags): number {
  return (f.debits_must_not_exceed_credits ? 1 : 0) | (f.credits_must_not_exceed_debits ? 2 : 0);
}

export function accountFlagsFromBits(bits: number): AccountFlags {
  return { debits_must_not_exceed_credits: (bits & 1) !== 0, credits_must_not_exceed_debits: (bits & 2) !== 0 };
}
