// Chain read side and deposits: HD indexes and deposit addresses, the scanner's cursor and the
// block hashes it has seen (for reorg detection), the deposits it found, and incidents raised for
// staff. Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const amount = isPg ? sql`numeric(78,0)` : sql`text`;

  await db.schema
    .createTable('deposit_hd_indexes')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('hd_index', 'integer', (c) => c.notNull().unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('deposit_addresses')
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('hd_index', 'integer', (c) => c.notNull())
    .addColumn('issued_at_block', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('deposit_addresses_pk', ['chain_id', 'user_id'])
    .addUniqueConstraint('deposit_addresses_address', ['chain_id', 'address'])
    .execute();

  await db.schema
    .createTable('chain_cursors')
    .addColumn('chain_id', 'integer', (c) => c.primaryKey())
    .addColumn('next_block', 'bigint', (c) => c.notNull())
    .addColumn('head', 'bigint')
    .addColumn('head_seen_at_ms', 'bigint')
    .addColumn('block_time_ms', 'bigint')
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('chain_blocks')
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('parent_hash', 'text', (c) => c.notNull())
    .addColumn('timestamp_s', 'bigint', (c) => c.notNull())
    .addColumn('seen_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('chain_blocks_pk', ['chain_id', 'number'])
    .execute();

  await db.schema
    .createTable('deposits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('tx_hash', 'text', (c) => c.notNull())
    .addColumn('log_index', 'integer', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('token_address', 'text')
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('amount_minor', amount, (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('hold_reason', 'text')
    .addColumn('credit_kind', 'text', (c) => c.notNull())
    .addColumn('block_number', 'bigint')
    .addColumn('block_hash', 'text')
    .addColumn('block_timestamp_s', 'bigint')
    .addColumn('orphaned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('confirmations_required', 'integer', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pending_transfer_id', 'text', (c) => c.notNull())
    .addColumn('first_seen_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('released_at_ms', 'bigint')
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('deposits_chain_tx_log', ['chain_id', 'tx_hash', 'log_index'])
    .execute();
  await db.schema.createIndex('deposits_open').on('deposits').columns(['chain_id', 'status']).execute();
  await db.schema.createIndex('deposits_user').on('deposits').columns(['user_id', 'first_seen_at_ms']).execute();
  await db.schema.createIndex('deposits_tx').on('deposits').column('tx_hash').execute();

  await db.schema
    .createTable('chain_incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at_ms', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .addUniqueConstraint('chain_incidents_subject', ['kind', 'subject_type', 'subject_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['chain_incidents', 'deposits', 'chain_blocks', 'chain_cursors', 'deposit_addresses', 'deposit_hd_indexes']) await db.schema.dropTable(t).execute();
}
