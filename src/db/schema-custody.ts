// Tables owned by payments' custody (src/payments/custody/**): sweeps and the sweeper's rotation,
// and the reconciler's incidents.

export interface SweepsTable {
  id: string;
  chain_id: number;
  asset: string;
  deposit_address: string;
  derivation_index: number;
  amount_minor: bigint;
  /** gas_pending | signed | broadcast | confirmed | failed */
  status: string;
  gas_tx_id: string | null;
  sweep_tx_id: string | null;
  gas_fee_minor: bigint | null;
  failure_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/**
 * Where the sweeper's rotation over receiving addresses stands on a chain: the next plan looks at
 * `family`'s addresses after `after_address` (in address order), then the next family (migration
 * 2026-11-26T0710_sweep_cursors).
 */
export interface SweepCursorsTable {
  chain_id: number;
  /** users | invoices */
  family: string;
  /** lower-case hex; '' for the family's start */
  after_address: string;
  updated_at_ms: number;
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

export interface CustodyTables {
  sweeps: SweepsTable;
  sweep_cursors: SweepCursorsTable;
  reconcile_incidents: ReconcileIncidentsTable;
}
