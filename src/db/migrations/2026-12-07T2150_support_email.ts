// The support desk's inbound mail store (src/support/email/): a sealed copy of each accepted
// mail until a job has made it a case message. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('support_inbound_mails')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('envelope_from', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('raw_enc', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('case_id', 'text')
    .addColumn('received_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('processed_at_ms', 'bigint')
    .execute();
  await db.schema.createIndex('support_inbound_mails_status').on('support_inbound_mails').columns(['status', 'received_at_ms']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('support_inbound_mails').execute();
}
