// P2P trades (issue 13): ads, orders, order chat and buyers' strikes. Frozen in time:
// Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : sql`text`;
  await db.schema
    .createTable('p2p_ads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('fiat', 'text', (c) => c.notNull())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('price_key', 'text', (c) => c.notNull())
    .addColumn('min_amount_minor', money, (c) => c.notNull())
    .addColumn('max_amount_minor', money, (c) => c.notNull())
    .addColumn('available_minor', money, (c) => c.notNull())
    .addColumn('reservation_id', 'text')
    .addColumn('reservation_seq', 'integer', (c) => c.notNull())
    .addColumn('payment_methods', 'text', (c) => c.notNull())
    .addColumn('terms', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('paused_by', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('p2p_ads_list').on('p2p_ads').columns(['status', 'side', 'asset', 'fiat', 'price_key', 'id']).execute();
  await db.schema.createIndex('p2p_ads_user').on('p2p_ads').columns(['user_id', 'status']).execute();
  await db.schema
    .createTable('p2p_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ad_id', 'text', (c) => c.notNull())
    .addColumn('buyer_id', 'text', (c) => c.notNull())
    .addColumn('seller_id', 'text', (c) => c.notNull())
    .addColumn('taker_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('fiat', 'text', (c) => c.notNull())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('fiat_amount', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('pay_by_ms', 'bigint', (c) => c.notNull())
    .addColumn('release_by_ms', 'bigint')
    .addColumn('paid_at_ms', 'bigint')
    .addColumn('released_at_ms', 'bigint')
    .addColumn('closed_at_ms', 'bigint')
    .addColumn('cancel_reason', 'text')
    .addColumn('appeal_case_id', 'text')
    .addColumn('appeal_by', 'text')
    .addColumn('appeal_reason', 'text')
    .addColumn('paid_note', 'text')
    .addColumn('paid_attachments', 'text', (c) => c.notNull())
    .addColumn('escrow_id', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('p2p_orders_taker_key').on('p2p_orders').columns(['taker_id', 'idempotency_key']).unique().execute();
  await db.schema.createIndex('p2p_orders_buyer').on('p2p_orders').columns(['buyer_id', 'created_at_ms']).execute();
  await db.schema.createIndex('p2p_orders_seller').on('p2p_orders').columns(['seller_id', 'created_at_ms']).execute();
  await db.schema.createIndex('p2p_orders_ad').on('p2p_orders').columns(['ad_id', 'status']).execute();
  await db.schema
    .createTable('p2p_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('author_type', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('attachment_ids', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('p2p_messages_order').on('p2p_messages').columns(['order_id', 'created_at_ms']).execute();
  await db.schema
    .createTable('p2p_strikes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('p2p_strikes_order').on('p2p_strikes').columns(['order_id', 'reason']).unique().execute();
  await db.schema.createIndex('p2p_strikes_user').on('p2p_strikes').columns(['user_id', 'created_at_ms']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['p2p_strikes', 'p2p_messages', 'p2p_orders', 'p2p_ads']) await db.schema.dropTable(t).execute();
}
