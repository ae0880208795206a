// Tables owned by the payments module: the one payment model (payments + their timeline),
// withdrawals and their approvals, invoices, and stuck payments. Its deposits' and custody's
// tables are in schema-deposits.ts and schema-custody.ts. Money in `_minor` (bigint), times `_ms`.
import type { ColumnType } from 'kysely';

export interface PaymentsTable {
  id: string;
  user_id: string;
  /** deposit | withdrawal | transfer | invoice | trade */
  kind: string;
  /** in | out */
  direction: string;
  asset: string;
  amount_minor: bigint;
  fee_minor: bigint;
  status: string;
  hold_reason: string | null;
  hold_since_ms: number | null;
  /** Explanation code and its parameters (JSON object). */
  code: string;
  code_params: string;
  confirmations_current: number | null;
  confirmations_required: number | null;
  chain_id: number | null;
  tx_hash: string | null;
  log_index: number | null;
  block_number: number | null;
  chain_from: string | null;
  chain_to: string | null;
  chain_token: string | null;
  /** The other party: a user id for transfers, an invoice id for invoice payments. */
  counterparty: string | null;
  /** The owning record in the kind's own tables (deposit id, withdrawal id, transfer id …). */
  reference: string | null;
  memo: string | null;
  /** When the current status began (stuck detection measures from here). */
  status_since_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface PaymentEventsTable {
  payment_id: string;
  /** 1, 2, 3 … per payment: the timeline order. */
  n: number;
  at_ms: number;
  status: string;
  code: string;
  code_params: string;
  hold_reason: string | null;
}

export interface PaymentTables extends InvoiceTables, StuckTables {
  payments: PaymentsTable;
  payment_events: PaymentEventsTable;
  withdrawals: WithdrawalsTable;
  withdrawal_approvals: WithdrawalApprovalsTable;
}

/** A withdrawal on chain (src/payments/withdrawals/**; migration 2026-11-26T0410_hot_wallet). */
export interface WithdrawalsTable {
  id: string;
  user_id: string;
  idempotency_key: string;
  asset: string;
  chain_id: number;
  to_address: string;
  amount_minor: bigint;
  fee_minor: bigint;
  /** requested | review | broadcast | confirming | completed | failed | cancelled | unknown */
  status: string;
  ledger_transfer_id: string;
  chain_tx_id: string | null;
  tx_hash: string | null;
  block_number: number | null;
  confirmations: number;
  confirmations_required: number;
  failure_code: string | null;
  failure_reason: string | null;
  /** JSON [{at_ms, status, reason}] — the chain-side log; the user-visible timeline is the payment's. */
  timeline: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One staff approval of a withdrawal in review (four-eyes at or above `four_eyes_above_usd`). */
export interface WithdrawalApprovalsTable {
  withdrawal_id: string;
  staff_id: string;
  note: string | null;
  created_at_ms: number;
}

// --- Invoices (src/payments/invoices/**; migration 2026-11-26T0530_invoices) ---

/** A merchant's invoice: a fresh address (its own HD index on the invoice key path), watched for ever. */
export interface InvoicesTable {
  id: string;
  /** The merchant: credited with every payment into the address. */
  user_id: string;
  chain_id: number;
  asset: string;
  amount_due_minor: bigint;
  amount_paid_minor: bigint;
  /** new | processing | settled | expired | invalid */
  status: string;
  /** null | paid_partial | paid_over | paid_late | marked */
  exception: string | null;
  /** lower-case hex, unique per chain */
  address: string;
  /** Index on the invoice key path m/44'/60'/1'/0/i: never shared with users' deposit indexes. */
  hd_index: number;
  issued_at_block: number;
  order_id: string | null;
  /** JSON object or null */
  metadata: string | null;
  mark_reason: string | null;
  marked_by: string | null;
  expires_at_ms: number;
  status_since_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
  /**
   * The merchant's Idempotency-Key of POST /invoices (unique per merchant; null for invoices made
   * otherwise): a retry after a crash between the invoice's commit and its stored answer finds it.
   */
  idempotency_key: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One on-chain payment into an invoice's address (a deposit of the merchant), mirrored here. */
export interface InvoicePaymentsTable {
  deposit_id: string;
  invoice_id: string;
  payment_id: string;
  amount_minor: bigint;
  /** the deposit's status */
  status: string;
  block_time_ms: number | null;
  first_seen_at_ms: number;
  updated_at_ms: number;
}

/** Refunds: withdrawals from the merchant back to an address the payer gave. */
export interface InvoiceRefundsTable {
  id: string;
  invoice_id: string;
  payment_id: string;
  to_address: string;
  amount_minor: bigint;
  created_at_ms: number;
}

export interface InvoiceTables {
  invoices: InvoicesTable;
  invoice_payments: InvoicePaymentsTable;
  invoice_refunds: InvoiceRefundsTable;
}

/** One row per (payment, status) found stuck, so that `payment.stuck` is raised once. */
export interface PaymentStuckTable {
  payment_id: string;
  status: string;
  status_since_ms: number;
  detected_at_ms: number;
  expected_ms: number;
}

export interface StuckTables {
  payment_stuck: PaymentStuckTable;
}
