// The support desk's Telegram chats (src/support/telegram/): which case a chat's messages go to.
// One row per chat, moved to a new case when the old one is closed. Frozen in time: Kysely<any>,
// no app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('support_telegram_chats')
    .addColumn('chat_id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('support_telegram_chats').execute();
}
