// The ledger's public contract (TigerBeetle's model). Other modules import only this file and
// ledger.ts. Amounts are bigint smallest units; ids are client-chosen strings and are the
// idempotency keys of transfers.

export type AccountKind =
  | 'user_available' // what the owner can spend
  | 'user_held' // credited but held (frozen account, below minimum, maintenance, review …)
  | 'escrow' // P2P trades, invoices in progress
  | 'hot_wallet' // platform: coins the platform controls on chain (asset side)
  | 'deposit_wallets' // platform: coins sitting on users' deposit addresses before a sweep
  | 'suspense' // platform: unattributed or under investigation
  | 'fees' // platform: fee income
  | 'gas' // platform: gas spent (expense)
  | 'external' // operator capital: what the operator put into custody (funding, dev float); decision 0006
  | 'corrections'; // platform: reversals after deep reorgs, staff adjustments

export interface AccountFlags {
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
}

export interface AccountSpec {
  /** Deterministic: ledgerAccountId(owner_type, owner_id, asset, kind). */
  id: string;
  asset: string;
  owner_type: 'user' | 'platform';
  owner_id: string;
  kind: AccountKind;
  flags: AccountFlags;
}

export interface AccountBalances {
  debits_pending_minor: bigint;
  debits_posted_minor: bigint;
  credits_pending_minor: bigint;
  credits_posted_minor: bigint;
}

export interface LedgerAccount extends AccountSpec, AccountBalances {
  created_at_ms: number;
}

export type TransferInput =
  | {
      /** Single-phase or pending transfer. */
      id: string;
      debit_account_id: string;
      credit_account_id: string;
      amount_minor: bigint;
      asset: string;
      /** Two-phase: reserve now, post or void later. */
      pending?: boolean;
      /** Pending only: voids itself after this many ms (durable job); 0/undefined = never. */
      timeout_ms?: number;
      /** Succeeds or fails together with the next transfer in the batch. */
      linked?: boolean;
      reason: string;
      reference: string | null;
      post_pending_id?: undefined;
      void_pending_id?: undefined;
    }
  | {
      /** Posts a pending transfer, in full (amount_minor omitted) or in part. */
      id: string;
      post_pending_id: string;
      amount_minor?: bigint;
      linked?: boolean;
      reason: string;
      reference: string | null;
      void_pending_id?: undefined;
    }
  | {
      /** Voids a pending transfer. */
      id: string;
      void_pending_id: string;
      linked?: boolean;
      reason: string;
      reference: string | null;
      post_pending_id?: undefined;
    };

export type TransferResultCode =
  | 'ok'
  | 'exists'
  | 'exists_with_different_debit_account_id'
  | 'exists_with_different_credit_account_id'
  | 'exists_with_different_amount'
  | 'exists_with_different_flags'
  | 'exists_with_different_pending_id'
  | 'exists_with_different_timeout'
  | 'exists_with_different_reason'
  | 'exists_with_different_reference'
  | 'exists_with_different_asset'
  | 'linked_event_failed'
  | 'linked_event_chain_open'
  | 'id_must_not_be_empty'
  | 'accounts_must_be_different'
  | 'amount_must_not_be_zero'
  | 'amount_must_be_positive'
  | 'timeout_reserved_for_pending_transfer'
  | 'timeout_must_be_valid'
  | 'debit_account_not_found'
  | 'credit_account_not_found'
  | 'accounts_must_have_the_same_asset'
  | 'transfer_asset_must_match_accounts'
  | 'pending_transfer_not_found'
  | 'pending_transfer_not_pending'
  | 'pending_transfer_already_posted'
  | 'pending_transfer_already_voided'
  | 'pending_transfer_expired'
  | 'exceeds_pending_transfer_amount'
  | 'exceeds_credits'
  | 'exceeds_debits';

export interface TransferResult {
  id: string;
  result: TransferResultCode;
}

export type TransferState = 'posted' | 'pending' | 'voided';

export interface Transfer {
  id: string;
  seq: number;
  debit_account_id: string;
  credit_account_id: string;
  asset: string;
  amount_minor: bigint;
  /** single | pending | post_pending | void_pending */
  type: 'single' | 'pending' | 'post_pending' | 'void_pending';
  pending_id: string | null;
  timeout_ms: number;
  /** Pending with a timeout: created_at_ms + timeout_ms; after it the transfer can no longer be posted. */
  expires_at_ms: number | null;
  /** Bit set: 1 linked, 2 pending, 4 post_pending, 8 void_pending, 16 post in full (amount omitted), 32 voided by expiry. */
  flags: number;
  reason: string;
  reference: string | null;
  created_at_ms: number;
  /** Hash of the previous transfer (by seq); the chain makes tampering evident (`settle ledger verify`). */
  prev_hash: string;
  hash: string;
}

/** What the wallet shows for one owner and asset. */
export interface OwnerBalance {
  asset: string;
  available_minor: bigint;
  pending_in_minor: bigint;
  pending_out_minor: bigint;
  held_minor: bigint;
}

/** ledgerAccountId('user', 'usr_1', 'USDT', 'user_available') -> 'la:user:usr_1:USDT:user_available' */
export function ledgerAccountId(owner_type: 'user' | 'platform', owner_id: string, asset: string, kind: AccountKind): string {
  return `la:${owner_type}:${owner_id}:${asset}:${kind}`;
}

/** An asset the ledger knows: `USDT` (6 decimals, an ERC-20 on chain 31337) or `ETH`. */
export interface AssetSpec {
  /** Unique across all chains (the configuration refuses two assets with one code). */
  code: string;
  decimals: number;
  chain_id: number | null;
  /** ERC-20 contract, lower-case hex; null for a chain's native coin. */
  contract_address: string | null;
}
