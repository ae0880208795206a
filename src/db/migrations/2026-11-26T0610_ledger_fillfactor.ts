// PostgreSQL: leave room on the pages of the rows every batch updates (account balances, the
// chain head), so that updates stay HOT (same page, no new index entries, pruned without vacuum).
// Nothing to do on SQLite. Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter.constructor.name !== 'PostgresAdapter') return;
  await sql`alter table ledger_accounts set (fillfactor = 50)`.execute(db);
  await sql`alter table ledger_head set (fillfactor = 10)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter.constructor.name !== 'PostgresAdapter') return;
  await sql`alter table ledger_accounts reset (fillfactor)`.execute(db);
  await sql`alter table ledger_head reset (fillfactor)`.execute(db);
}
