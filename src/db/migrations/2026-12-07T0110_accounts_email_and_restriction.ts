// Accounts, issue 16: (1) an email address is confirmed by a mailed code before it can receive
// transfers — `users.email_verified_at_ms` (null until confirmed, and again after a change) and
// one pending code per user in `email_verifications` (hashed, bounded tries, resend throttled);
// (2) a restriction is its own fact beside freezes — `users.restricted_at_ms` / `restricted_by`
// (who imposed it, so that only a role at least theirs lifts it) survive a freeze and its lift.
// Accounts restricted before this migration keep their restriction (its imposer unknown: only
// risk or admin lift it). Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified_at_ms', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('restricted_at_ms', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('restricted_by', 'text').execute();
  await sql`update users set restricted_at_ms = updated_at_ms where status = 'restricted'`.execute(db);
  await db.schema
    .createTable('email_verifications')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('sent_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('sends_in_window', 'integer', (c) => c.notNull())
    .addColumn('window_started_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('email_verifications').execute();
  await db.schema.alterTable('users').dropColumn('restricted_by').execute();
  await db.schema.alterTable('users').dropColumn('restricted_at_ms').execute();
  await db.schema.alterTable('users').dropColumn('email_verified_at_ms').execute();
}
