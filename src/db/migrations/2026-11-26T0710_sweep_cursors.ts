// The sweeper's place in its rotation over receiving addresses (users' deposit addresses, then
// invoices' addresses, each in address order), one row per chain, so that every address is looked
// at within a bounded number of plans however many there are, across restarts. Frozen in time:
// Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sweep_cursors')
    .addColumn('chain_id', 'integer', (c) => c.primaryKey())
    .addColumn('family', 'text', (c) => c.notNull())
    .addColumn('after_address', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sweep_cursors').execute();
}
