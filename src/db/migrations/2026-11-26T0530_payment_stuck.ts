// Stuck payments already reported. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payment_stuck')
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_since_ms', 'bigint', (c) => c.notNull())
    .addColumn('detected_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expected_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('payment_stuck_pk', ['payment_id', 'status', 'status_since_ms'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('payment_stuck').execute();
}
