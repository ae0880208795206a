// Reconciliation incidents: one open row per discrepancy (a partial unique index on the key while
// unresolved), so that a reconciler running every minute raises each difference once. Frozen in
// time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : sql`text`;
  await db.schema
    .createTable('reconcile_incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('chain_id', 'bigint')
    .addColumn('asset', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('expected_minor', money)
    .addColumn('actual_minor', money)
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('opened_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('resolved_at_ms', 'bigint')
    .addColumn('acknowledged_at_ms', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .execute();
  await sql`create unique index reconcile_incidents_open_key on reconcile_incidents (key) where resolved_at_ms is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('reconcile_incidents').execute();
}
