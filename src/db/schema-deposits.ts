// Tables owned by payments' deposits (src/payments/deposits/**; migration 2026-11-26T0400_chain):
// the scanner's cursor and blocks, deposits and its incidents, and the deposit addresses that
// custody issues (src/payments/custody/deposit-addresses.ts) and the scanner watches.

/**; migration 2026-11-26T0400_chain) ---

/** One BIP-44 address index per user, shared by every chain (never by two users). */
export interface DepositHdIndexesTable {
  user_id: string;
  hd_index: number;
  created_at_ms: number;
}

export interface DepositAddressesTable {
  chain_id: number;
  user_id: string;
  /** lower-case hex */
  address: string;
  hd_index: number;
  /** A block at or before the one current when the address was shown (the scanner starts no later). */
  issued_at_block: number;
  created_at_ms: number;
}

export interface ChainCursorsTable {
  chain_id: number;
  /** The next block the scanner reads; every block below it has been scanned. */
  next_block: number;
  head: number | null;
  head_seen_at_ms: number | null;
  /** Observed from when blocks were seen; null until measured. */
  block_time_ms: number | null;
  updated_at_ms: number;
}

/** Scanned blocks (a bounded window below the cursor), for reorg detection by parent hash. */
export interface ChainBlocksTable {
  chain_id: number;
  number: number;
  hash: string;
  parent_hash: string;
  timestamp_s: number;
  seen_at_ms: number;
}

export interface DepositsTable {
  /** deterministicId('dep', chain_id, tx_hash, log_index) */
  id: string;
  chain_id: number;
  tx_hash: string;
  /** The Transfer log's index; -1 for a native-coin transfer (the transaction itself). */
  log_index: number;
  asset: string;
  token_address: string | null;
  from_address: string;
  to_address: string;
  amount_minor: bigint;
  user_id: string;
  payment_id: string;
  /** confirming | held | credited | dropped | reversed (API deposit statuses) */
  status: string;
  hold_reason: string | null;
  /** The ledger account kind credited: user_available | user_held */
  credit_kind: string;
  /** null while the deposit's block was reorged out and it has not been seen again. */
  block_number: number | null;
  block_hash: string | null;
  block_timestamp_s: number | null;
  /** 1 after a reorg removed its block, until it is seen again or declared dropped/reversed. */
  orphaned: number;
  confirmations_required: number;
  /** Bumped when a dropped deposit comes back: its ledger transfer ids carry the generation. */
  generation: number;
  pending_transfer_id: string;
  first_seen_at_ms: number;
  released_at_ms: number | null;
  updated_at_ms: number;
}

/** Things staff must see: a released deposit reversed by a deep reorg, … */
export interface ChainIncidentsTable {
  id: string;
  chain_id: number;
  kind: string;
  subject_type: string;
  subject_id: string;
  /** JSON */
  details: string;
  created_at_ms: number;
  acknowledged_at_ms: number | null;
  acknowledged_by: string | null;
}

export interface DepositTables {
  deposit_hd_indexes: DepositHdIndexesTable;
  deposit_addresses: DepositAddressesTable;
  chain_cursors: ChainCursorsTable;
  chain_blocks: ChainBlocksTable;
  deposits: DepositsTable;
  chain_incidents: ChainIncidentsTable;
}
