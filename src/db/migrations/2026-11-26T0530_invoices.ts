// Invoices: the invoice (a fresh address per invoice), the payments into it, refunds. Frozen in
// time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : sql`text`;
  await db.schema
    .createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('chain_id', 'bigint', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('amount_due_minor', money, (c) => c.notNull())
    .addColumn('amount_paid_minor', money, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('exception', 'text')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('hd_index', 'integer', (c) => c.notNull().unique())
    .addColumn('issued_at_block', 'bigint', (c) => c.notNull())
    .addColumn('order_id', 'text')
    .addColumn('metadata', 'text')
    .addColumn('mark_reason', 'text')
    .addColumn('marked_by', 'text')
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('status_since_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('invoices_address', ['chain_id', 'address'])
    .execute();
  await db.schema.createIndex('invoices_user').on('invoices').columns(['user_id', 'id']).execute();
  await db.schema
    .createTable('invoice_payments')
    .addColumn('deposit_id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('block_time_ms', 'bigint')
    .addColumn('first_seen_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoice_payments_invoice').on('invoice_payments').columns(['invoice_id']).execute();
  await db.schema
    .createTable('invoice_refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoice_refunds_invoice').on('invoice_refunds').columns(['invoice_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['invoice_refunds', 'invoice_payments', 'invoices']) await db.schema.dropTable(t).execute();
}
