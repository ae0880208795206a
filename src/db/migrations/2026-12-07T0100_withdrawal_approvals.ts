// Four-eyes on withdrawal reviews: each staff approval of a withdrawal in review is one row, at
// most one per staff member (the primary key), so that a review at or above
// `four_eyes_above_usd` goes ahead only with two different approvers. Frozen in time:
// Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('withdrawal_approvals')
    .addColumn('withdrawal_id', 'text', (c) => c.notNull())
    .addColumn('staff_id', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('withdrawal_approvals_pk', ['withdrawal_id', 'staff_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('withdrawal_approvals').execute();
}
