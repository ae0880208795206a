// Tables owned by the ledger module (migrations 2026-11-26T0200_ledger, T0600_ledger_compact, T0700_ledger_history_links). Money columns end in
// `_minor` (bigint through the BigintPlugin); `_ms` columns are epoch milliseconds.
// ledger_transfers is append-only: triggers on both dialects refuse UPDATE and DELETE.
import type { Generated } from 'kysely';

export interface AssetsTable {
  code: string;
  decimals: number;
  chain_id: number | null;
  contract_address: string | null;
  created_at_ms: number;
}

export interface LedgerAccountsTable {
  /** A small integer key, assigned on insert; transfers name accounts by it (debit_num / credit_num). */
  num: Generated<number>;
  id: string;
  asset: string;
  owner_type: string;
  owner_id: string;
  kind: string;
  /** Bit 1: debits_must_not_exceed_credits; bit 2: credits_must_not_exceed_debits. */
  flags: number;
  debits_pending_minor: bigint;
  debits_posted_minor: bigint;
  credits_pending_minor: bigint;
  credits_posted_minor: bigint;
  created_at_ms: number;
  /** The seq of this account's latest transfer (0: none yet): the head of its history list. */
  last_seq: Generated<number>;
}

export interface LedgerTransfersTable {
  /** Client-chosen; the idempotency key. */
  id: string;
  /** Position in the hash chain (1, 2, 3 … without gaps). */
  seq: number;
  /** The debit account's num (ledger_accounts.num). */
  debit_num: number;
  credit_num: number;
  /**
   * History links: the seq of the debit (credit) account's previous transfer, 0 if this is its
   * first. An account's history is the list from ledger_accounts.last_seq down these links.
   */
  debit_prev: number;
  credit_prev: number;
  asset: string;
  amount_minor: bigint;
  /** single | pending | post_pending | void_pending */
  type: string;
  /** For post_pending / void_pending: the pending transfer resolved (unique: exactly once). */
  pending_id: string | null;
  timeout_ms: number;
  expires_at_ms: number | null;
  /** Bit set, see TF in ledger-rules.ts. */
  flags: number;
  reason: string;
  reference: string | null;
  created_at_ms: number;
  /** sha256 (32 bytes) of the previous transfer's hash (hex) and this one's canonical fields. */
  hash: Buffer;
}

/** One row (id = 1): the chain head, locked by every batch so that the chain stays one line. */
export interface LedgerHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface LedgerTables {
  assets: AssetsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transfers: LedgerTransfersTable;
  ledger_head: LedgerHeadTable;
}
