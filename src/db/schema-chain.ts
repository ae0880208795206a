// Tables owned by the chain module (src/chain/): the write side's signed transactions and
// database-managed nonces (hot-wallet*.ts). Chain owns no other table: deposits, sweeps and
// reconciliation are payments' (schema-deposits.ts, schema-custody.ts).

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
  /** signed | broadcast | mined | confirmed | failed | unknown (nonce used, no receipt of ours found yet) */
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

export interface ChainTables {
  hot_wallet_nonces: HotWalletNoncesTable;
  chain_txs: ChainTxsTable;
  chain_tx_attempts: ChainTxAttemptsTable;
}
