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

export interface PaymentTables extends MaintenanceTables, WebhookTables, InvoiceTables, ReconcileTables, StuckTables {
  payments: PaymentsTable;
  payment_events: PaymentEventsTable;
  withdrawal_approvals: WithdrawalApprovalsTable;
}

/** One staff approval of a withdrawal in review (four-eyes at or above `four_eyes_above_usd`). */
export interface WithdrawalApprovalsTable {
  withdrawal_id: string;
  staff_id: string;
  note: string | null;
  created_at_ms: number;
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

/** Saved positions of outbox consumers (webhook dispatcher, transfer release …). */
export interface OutboxCursorsTable {
  consumer: string;
  seq: number;
  updated_at_ms: number;
}

export interface WebhookEndpointsTable {
  id: string;
  user_id: string;
  url: string;
  /** JSON array of event types ('payment.*' and '*' allowed). */
  events: string;
  /** Sealed: `enc:v1:<AES-256-GCM envelope>` of whsec_<base64> (rows from before sealing: the plain whsec_…, sealed by the webhook worker). */
  secret: string;
  /** After a rotation: the replaced secret (sealed), still signing until previous_secret_until_ms (migration T0650). */
  previous_secret: string | null;
  previous_secret_until_ms: number | null;
  created_at_ms: number;
  deleted_at_ms: number | null;
}

/** One event for one endpoint: delivered in order per (endpoint, ordering_key). */
export interface WebhookMessagesTable {
  /** The webhook-id header: stable across retries. */
  id: string;
  endpoint_id: string;
  user_id: string;
  event_id: string;
  event_seq: number;
  type: string;
  /** The aggregate (payment or invoice id): order is kept per key. */
  ordering_key: string;
  body: string;
  /** pending | delivered | dead */
  status: string;
  attempts: number;
  next_attempt_at_ms: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at_ms: number;
  delivered_at_ms: number | null;
}

export interface WebhookAttemptsTable {
  message_id: string;
  n: number;
  at_ms: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** The caller's own event feed (GET /events?after=), keyed by outbox seq. */
export interface UserEventsTable {
  seq: number;
  user_id: string;
  event_id: string;
  type: string;
  body: string;
  created_at_ms: number;
}

export interface WebhookTables {
  outbox_cursors: OutboxCursorsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
  user_events: UserEventsTable;
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

/** Discrepancies found by the reconciler (src/payments/custody/reconciler.ts): one open row per key. */
export interface ReconcileIncidentsTable {
  id: string;
  /** Dedupe key: kind + chain + asset + subject; unique among unresolved rows. */
  key: string;
  chain_id: number | null;
  asset: string | null;
  /** ledger_unbalanced | deposit_ledger_mismatch | address_balance_mismatch | unrecorded_coins | insolvent */
  kind: string;
  /** What it is about: an address, a deposit id, 'ledger'. */
  subject: string;
  expected_minor: bigint | null;
  actual_minor: bigint | null;
  /** JSON */
  details: string;
  opened_at_ms: number;
  last_seen_at_ms: number;
  /** Set when a later run no longer finds the difference. */
  resolved_at_ms: number | null;
  acknowledged_at_ms: number | null;
  acknowledged_by: string | null;
}

export interface ReconcileTables {
  reconcile_incidents: ReconcileIncidentsTable;
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
