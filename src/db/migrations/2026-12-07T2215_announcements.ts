// Announcements, issue 14: staff publish notices in both languages with a severity, a schedule
// (starts_at, optional ends_at) and a scope (global or one chain); the public reads the active
// and upcoming ones (beside maintenance windows) and an Atom feed. Ending one early keeps it.
// Frozen in time: Kysely<any>, no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('announcements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title_en', 'text', (c) => c.notNull())
    .addColumn('title_zh', 'text', (c) => c.notNull())
    .addColumn('body_en', 'text', (c) => c.notNull())
    .addColumn('body_zh', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('starts_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('ends_at_ms', 'bigint')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('ended_at_ms', 'bigint')
    .addColumn('ended_by', 'text')
    .execute();
  await db.schema.createIndex('announcements_created').on('announcements').column('created_at_ms').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('announcements').execute();
}
