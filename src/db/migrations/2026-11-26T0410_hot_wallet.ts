// Hot wallet (chain module): database-managed nonces, every signed transaction recorded before it
// is broadcast (with each fee-bumped or cancelling replacement as a further attempt), sweeps of
// deposit addresses, and withdrawals (payments module, kept here so that one migration creates
// the whole withdrawal path). Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const amount = isPg ? sql`numeric(78,0)` : sql`text`;

  await db.schema
    .createTable('hot_wallet_nonces')
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('next_nonce', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('hot_wallet_nonces_pk', ['chain_id', 'address'])
    .execute();

  await db.schema
    .createTable('chain_txs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('nonce', 'bigint', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('purpose_id', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('value_minor', amount, (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('gas_limit', 'bigint', (c) => c.notNull())
    .addColumn('confirmations_required', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('cancelling', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mined_hash', 'text')
    .addColumn('block_number', 'bigint')
    .addColumn('block_hash', 'text')
    .addColumn('gas_fee_minor', amount)
    .addColumn('failure_reason', 'text')
    .addColumn('broadcast_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('first_broadcast_at_ms', 'bigint')
    .addColumn('last_broadcast_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // The database itself refuses a second transaction on one nonce of one wallet.
  await db.schema.createIndex('chain_txs_nonce').on('chain_txs').columns(['chain_id', 'from_address', 'nonce']).unique().execute();
  await db.schema.createIndex('chain_txs_purpose').on('chain_txs').columns(['purpose', 'purpose_id']).unique().execute();
  await db.schema.createIndex('chain_txs_status').on('chain_txs').columns(['status', 'chain_id']).execute();

  await db.schema
    .createTable('chain_tx_attempts')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('tx_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('max_fee_per_gas_minor', amount, (c) => c.notNull())
    .addColumn('max_priority_fee_per_gas_minor', amount, (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('chain_tx_attempts_seq').on('chain_tx_attempts').columns(['tx_id', 'seq']).unique().execute();

  await db.schema
    .createTable('sweeps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('deposit_address', 'text', (c) => c.notNull())
    .addColumn('derivation_index', 'integer', (c) => c.notNull())
    .addColumn('amount_minor', amount, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('gas_tx_id', 'text')
    .addColumn('sweep_tx_id', 'text')
    .addColumn('gas_fee_minor', amount)
    .addColumn('failure_reason', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sweeps_open').on('sweeps').columns(['chain_id', 'deposit_address', 'asset', 'status']).execute();

  await db.schema
    .createTable('withdrawals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('amount_minor', amount, (c) => c.notNull())
    .addColumn('fee_minor', amount, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ledger_transfer_id', 'text', (c) => c.notNull())
    .addColumn('chain_tx_id', 'text')
    .addColumn('tx_hash', 'text')
    .addColumn('block_number', 'bigint')
    .addColumn('confirmations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('confirmations_required', 'integer', (c) => c.notNull())
    .addColumn('failure_code', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('timeline', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('withdrawals_idem').on('withdrawals').columns(['user_id', 'idempotency_key']).unique().execute();
  await db.schema.createIndex('withdrawals_user').on('withdrawals').columns(['user_id', 'created_at_ms']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['withdrawals', 'sweeps', 'chain_tx_attempts', 'chain_txs', 'hot_wallet_nonces']) await db.schema.dropTable(t).execute();
}
