// Indexes for the retention job (security review #20): finished jobs by age, delivered or dead
// webhook messages by age, the per-user event feed by age. Without them each hourly prune would
// read the whole table. Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('jobs_status_updated').on('jobs').columns(['status', 'updated_at_ms']).execute();
  await db.schema.createIndex('webhook_messages_status_created').on('webhook_messages').columns(['status', 'created_at_ms']).execute();
  await db.schema.createIndex('user_events_created').on('user_events').columns(['created_at_ms']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const i of ['user_events_created', 'webhook_messages_status_created', 'jobs_status_updated']) await db.schema.dropIndex(i).execute();
}
