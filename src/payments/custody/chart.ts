// The platform's chart of ledger accounts (decision 0006, docs/decisions/0006-custody-accounting.md):
// the one place that names the accounts the platform itself owns per asset — `hot_wallet`,
// `deposit_wallets`, `gas`, `fees`, `corrections`, `suspense` and `external` (operator capital).
// Deposits, withdrawals, transfers, sweeps, funding and reconciliation all book against these,
// so their ids and flags are defined once here and cannot drift between the flows.
import { ledgerAccountId, type AccountKind, type AccountSpec } from '../../ledger/ledger.ts';

/** The owner id of every platform ledger account. */
export const PLATFORM_OWNER = 'platform';

/** The kinds of account the platform owns (user accounts and escrow belong to their owners). */
export type PlatformAccountKind = Exclude<AccountKind, 'user_available' | 'user_held' | 'escrow'>;

/**
 * Platform accounts carry no balance limit: an asset account (`hot_wallet`) rises by debits,
 * a liability (`fees`) by credits, and `corrections` may go either way.
 */
const NO_LIMIT_FLAGS = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };

/** platformAccountId('USDT', 'hot_wallet') -> 'la:platform:platform:USDT:hot_wallet' */
export function platformAccountId(asset: string, kind: PlatformAccountKind): string {
  return ledgerAccountId('platform', PLATFORM_OWNER, asset, kind);
}

/** The platform's ledger account of a kind, ready for ensureAccounts: platformAccount('USDT', 'hot_wallet').id */
export function platformAccount(asset: string, kind: PlatformAccountKind): AccountSpec {
  return { id: platformAccountId(asset, kind), asset, owner_type: 'platform', owner_id: PLATFORM_OWNER, kind, flags: NO_LIMIT_FLAGS };
}
