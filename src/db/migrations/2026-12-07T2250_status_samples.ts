// Status samples, issue 14: one row per chain per minute (the status worker's sample) — head,
// lag, the deposits' and withdrawals' state (0 operational, 1 delayed, 2 maintenance, 3 halted),
// confirmation times over the last hour and the backlog — for the status page's charts
// (GET /status/history). Kept 31 days. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('status_samples')
    .addColumn('chain_id', 'bigint', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('head', 'bigint')
    .addColumn('lag_blocks', 'bigint')
    .addColumn('deposits_state', 'integer', (c) => c.notNull())
    .addColumn('withdrawals_state', 'integer', (c) => c.notNull())
    .addColumn('confirm_p50_s', 'double precision')
    .addColumn('confirm_p95_s', 'double precision')
    .addColumn('deposits_confirming', 'integer', (c) => c.notNull())
    .addColumn('withdrawals_queued', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('status_samples_pk', ['chain_id', 'at_ms'])
    .execute();
  await db.schema.createIndex('status_samples_at').on('status_samples').column('at_ms').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('status_samples').execute();
}
