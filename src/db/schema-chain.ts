// Tables owned by the chain module (filled in by its issue).
export interface ChainTables extends HotWalletTables, DepositTables {}

// --- Hot wallet, signed transactions and sweeps (src/chain/hot-wallet*.ts, sweep.ts) ---

/** The next nonce a hot wallet may use on a chain; allocated under a row lock / BEGIN IMMEDIATE. */
export interface HotWalletNoncesTable {
  chain_id: number;
  address: string;
  next_nonce: number;
  updated_at_ms: number;
}

/** One nonce of one wallet: a logical transaction, whatever attempts (fee bumps, cancel) it took. */
export interface ChainTxsTable {
  id: string;
  chain_id: number;
  from_address: string;
  nonce: number;
  /** withdrawal | sweep_gas | … — who asked for it */
  purpose: string;
  purpose_id: string;
  to_address: string;
  value_minor: bigint;
  data: string;
  gas_limit: number;
  confirmations_required: number;
  /** signed | broadcast | mined | confirmed | failed */
  status: string;
  /** 1 once the payload was given up and a 0-value self-send holds the nonce. */
  cancelling: number;
  mined_hash: string | null;
  block_number: number | null;
  block_hash: string | null;
  gas_fee_minor: bigint | null;
  failure_reason: string | null;
  broadcast_failures: number;
  last_error: string | null;
  first_broadcast_at_ms: number | null;
  last_broadcast_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A signed transaction, recorded before it is broadcast, so that a crash rebroadcasts it. */
export interface ChainTxAttemptsTable {
  hash: string;
  tx_id: string;
  seq: number;
  /** payload | cancel */
  kind: string;
  raw: string;
  max_fee_per_gas_minor: bigint;
  max_priority_fee_per_gas_minor: bigint;
  created_at_ms: number;
}

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

export interface HotWalletTables {
  hot_wallet_nonces: HotWalletNoncesTable;
  chain_txs: ChainTxsTable;
  chain_tx_attempts: ChainTxAttemptsTable;
  sweeps: SweepsTable;
  sweep_cursors: SweepCursorsTable;
}

// --- Deposit addresses, the scanner's cursor and blocks, deposits, incidents (src/chain/keys.ts,
// src/payments/deposits/**; migration 2026-11-26T0400_chain) ---

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
