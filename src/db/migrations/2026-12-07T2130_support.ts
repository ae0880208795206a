// The support desk (src/support/): cases, their messages, channel references (mail Message-IDs,
// Telegram chats), evidence snapshots, attachments, agent actions, canned replies, the desk's
// settings (business calendar, SLA policies) and the case-number counter.
// Frozen in time: Kysely<any>, no app imports. Booleans are integers 0/1 on both dialects.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Money is NUMERIC(78,0) on PostgreSQL and TEXT on SQLite (db/database.ts converts `_minor`).
  const money = db.getExecutor().adapter.constructor.name === 'PostgresAdapter' ? sql`numeric(78,0)` : sql`text`;
  await db.schema
    .createTable('support_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('support_counters').values({ name: 'case_number', value: 1000 }).execute();

  await db.schema
    .createTable('support_cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'bigint', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('contact_email', 'text')
    .addColumn('unverified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payment_id', 'text')
    .addColumn('tx_hash', 'text')
    .addColumn('trade_id', 'text')
    .addColumn('merged_into', 'text')
    .addColumn('assignee_id', 'text')
    .addColumn('sla_policy', 'text')
    .addColumn('first_response_due_at_ms', 'bigint')
    .addColumn('next_response_due_at_ms', 'bigint')
    .addColumn('resolution_due_at_ms', 'bigint')
    .addColumn('sla_paused_at_ms', 'bigint')
    .addColumn('sla_breached', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('first_responded_at_ms', 'bigint')
    .addColumn('resolved_at_ms', 'bigint')
    .addColumn('queue_due_ms', 'bigint', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rating_score', 'integer')
    .addColumn('rating_comment', 'text')
    .addColumn('rating_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('support_cases_user').on('support_cases').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('support_cases_queue').on('support_cases').columns(['queue_due_ms', 'id']).execute();
  await db.schema.createIndex('support_cases_tx').on('support_cases').columns(['tx_hash']).execute();
  await db.schema.createIndex('support_cases_payment').on('support_cases').columns(['payment_id']).execute();
  await db.schema.createIndex('support_cases_contact').on('support_cases').columns(['contact_email']).execute();

  await db.schema
    .createTable('support_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('author_type', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text')
    .addColumn('author_name', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('internal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attachment_ids', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('call', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .execute();
  await db.schema.createIndex('support_messages_case').on('support_messages').columns(['case_id', 'seq']).execute();

  await db.schema
    .createTable('support_case_refs')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('support_case_refs_pk', ['kind', 'ref'])
    .execute();
  await db.schema.createIndex('support_case_refs_case').on('support_case_refs').columns(['case_id']).execute();

  await db.schema
    .createTable('support_evidence')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('captured_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('support_evidence_case').on('support_evidence').columns(['case_id', 'captured_at_ms']).execute();

  await db.schema
    .createTable('support_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uploader_type', 'text', (c) => c.notNull())
    .addColumn('uploader_id', 'text')
    .addColumn('case_id', 'text')
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('support_attachments_case').on('support_attachments').columns(['case_id']).execute();

  await db.schema
    .createTable('support_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money)
    .addColumn('asset', 'text')
    .addColumn('target', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('result', 'text')
    .addColumn('request_key', 'text', (c) => c.unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('decided_at_ms', 'bigint')
    .execute();
  await db.schema.createIndex('support_actions_case').on('support_actions').columns(['case_id']).execute();

  await db.schema
    .createTable('support_canned_replies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body_en', 'text', (c) => c.notNull())
    .addColumn('body_zh', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('support_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['support_settings', 'support_canned_replies', 'support_actions', 'support_attachments', 'support_evidence', 'support_case_refs', 'support_messages', 'support_cases', 'support_counters']) await db.schema.dropTable(t).execute();
}
