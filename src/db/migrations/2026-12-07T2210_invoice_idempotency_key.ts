// Invoices remember the Idempotency-Key they were made with (unique per merchant), so that a
// retry after a crash between the invoice's commit and its stored answer finds the invoice
// instead of making a second one with a second address. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('invoices').addColumn('idempotency_key', 'text').execute();
  await db.schema.createIndex('invoices_user_idempotency_key').on('invoices').columns(['user_id', 'idempotency_key']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('invoices_user_idempotency_key').execute();
  await db.schema.alterTable('invoices').dropColumn('idempotency_key').execute();
}
