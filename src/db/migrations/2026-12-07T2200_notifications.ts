// Notifications, issue 14: the `notifications` table passes from accounts to notify. A row now
// keeps what happened (`kind`, the `template` of its words, `params`) and is rendered in the
// reader's language when read; `title`/`body` keep the English text of the moment (rows from
// before this migration have only those). `source_key` makes a producer's notice idempotent (an
// outbox event seen twice notifies once). The kinds of old rows take the API's names. Per-kind
// preferences live in `notification_preferences` (absent row: the kind's default).
// Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

const RENAMED: Array<[string, string]> = [
  ['new_device', 'security.new_device'],
  ['account_frozen', 'security.frozen'],
  ['account_unfrozen', 'security.unfrozen'],
  ['account_restricted', 'security.restricted'],
  ['password_changed', 'security.credentials_changed'],
  ['email_changed', 'security.credentials_changed'],
  ['totp_enabled', 'security.credentials_changed'],
  ['totp_disabled', 'security.credentials_changed'],
  ['api_key_created', 'security.credentials_changed'],
  ['registration_attempted', 'security.registration_attempted'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('template', 'text').execute();
  await db.schema.alterTable('notifications').addColumn('params', 'text').execute();
  await db.schema.alterTable('notifications').addColumn('source_key', 'text').execute();
  await db.schema.createIndex('notifications_source_key').unique().on('notifications').column('source_key').execute();
  await db.schema.createIndex('notifications_user_id').on('notifications').columns(['user_id', 'id']).execute();
  for (const [from, to] of RENAMED) await sql`update notifications set kind = ${to} where kind = ${from}`.execute(db);
  await db.schema
    .createTable('notification_preferences')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('in_app', 'integer', (c) => c.notNull())
    .addColumn('email', 'integer', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_preferences_pk', ['user_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_preferences').execute();
  await db.schema.dropIndex('notifications_user_id').execute();
  await db.schema.dropIndex('notifications_source_key').execute();
  await db.schema.alterTable('notifications').dropColumn('source_key').execute();
  await db.schema.alterTable('notifications').dropColumn('params').execute();
  await db.schema.alterTable('notifications').dropColumn('template').execute();
}
