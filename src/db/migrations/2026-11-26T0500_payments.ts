// Payments: one row per payment of any kind, and its timeline. Frozen in time: Kysely<any>,
// no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : sql`text`;
  await db.schema
    .createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('fee_minor', money, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('hold_reason', 'text')
    .addColumn('hold_since_ms', 'bigint')
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('code_params', 'text', (c) => c.notNull())
    .addColumn('confirmations_current', 'integer')
    .addColumn('confirmations_required', 'integer')
    .addColumn('chain_id', 'bigint')
    .addColumn('tx_hash', 'text')
    .addColumn('log_index', 'integer')
    .addColumn('block_number', 'bigint')
    .addColumn('chain_from', 'text')
    .addColumn('chain_to', 'text')
    .addColumn('chain_token', 'text')
    .addColumn('counterparty', 'text')
    .addColumn('reference', 'text')
    .addColumn('memo', 'text')
    .addColumn('status_since_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payments_user').on('payments').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('payments_status').on('payments').columns(['status', 'status_since_ms']).execute();
  await db.schema.createIndex('payments_tx').on('payments').columns(['tx_hash']).execute();
  await db.schema.createIndex('payments_reference').on('payments').columns(['reference']).execute();

  await db.schema
    .createTable('payment_events')
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('code_params', 'text', (c) => c.notNull())
    .addColumn('hold_reason', 'text')
    .addPrimaryKeyConstraint('payment_events_pk', ['payment_id', 'n'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_events').execute();
  await db.schema.dropTable('payments').execute();
}
