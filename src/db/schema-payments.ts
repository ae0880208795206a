// Tables owned by the payments module: the one payment model (payments + their timeline),
// maintenance windows, webhook endpoints and deliveries. Money in `_minor` (bigint), times `_ms`.

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

export interface PaymentTables extends MaintenanceTables {
  payments: PaymentsTable;
  payment_events: PaymentEventsTable;
}

/** Maintenance windows scheduled by staff (src/ops/maintenance*.ts). */
export interface MaintenanceWindowsTable {
  id: string;
  /** global | chain:<chain_id> */
  scope: string;
  starts_at_ms: number;
  ends_at_ms: number;
  message: string;
  message_zh: string | null;
  created_by: string;
  created_at_ms: number;
  /** Set when staff ended it early. */
  ended_at_ms: number | null;
  ended_by: string | null;
}

export interface MaintenanceTables {
  maintenance_windows: MaintenanceWindowsTable;
}
