// An index for the daily KYC total of transfers (issue 16): the sum of a sender's transfers out
// since a time reads only that day's rows of that user and kind, instead of every payment the
// user ever had. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('payments_user_kind_time').on('payments').columns(['user_id', 'kind', 'created_at_ms']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('payments_user_kind_time').execute();
}
