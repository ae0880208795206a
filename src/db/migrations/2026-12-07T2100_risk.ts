// The risk engine's tables (issue 14): versioned rule sets (each PUT a new row holding the whole
// set), every decision with its facts and the rules that fired, and named lists with their
// entries. The list `blocked_addresses` exists from the start. Frozen in time: Kysely<any>, no
// app imports.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('risk_rule_sets')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('risk_decisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('deciding_rule', 'text')
    .addColumn('fired', 'text', (c) => c.notNull())
    .addColumn('facts', 'text', (c) => c.notNull())
    .addColumn('rule_version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('risk_decisions_subject').on('risk_decisions').columns(['subject_id', 'id']).execute();
  await db.schema.createIndex('risk_decisions_user').on('risk_decisions').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('risk_decisions_at').on('risk_decisions').columns(['at_ms']).execute();
  await db.schema
    .createTable('risk_lists')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('risk_list_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('list_name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('risk_list_entries_value', ['list_name', 'value'])
    .execute();
  await db.insertInto('risk_lists').values({ name: 'blocked_addresses', version: 1, created_at_ms: 0 }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['risk_list_entries', 'risk_lists', 'risk_decisions', 'risk_rule_sets']) await db.schema.dropTable(t).execute();
}
