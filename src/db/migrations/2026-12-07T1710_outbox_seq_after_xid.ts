// An outbox event takes its sequence number only once its transaction has an id (issue 16). The
// outbox reader (notify/webhook-outbox.ts) passes over a missing number only when every
// transaction that was running when it saw the gap has ended; that proof needs the transaction
// holding the number to have had its id before the number was taken, and a plain bigserial
// default takes the number first (the id is assigned when the row is written). CASE evaluates
// its condition first: pg_current_xact_id() assigns the id, then nextval takes the number.
// SQLite needs nothing (its writers are serial). Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  if (!isPg) return;
  const r = await sql<{ seq: string }>`select pg_get_serial_sequence('outbox_events', 'seq') as seq`.execute(db);
  const sequence = r.rows[0]!.seq;
  await sql`create function outbox_next_seq() returns bigint language sql volatile as ${sql.lit(`select case when pg_current_xact_id() is not null then nextval('${sequence}') end`)}`.execute(db);
  await sql`alter table outbox_events alter column seq set default outbox_next_seq()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  if (!isPg) return;
  const r = await sql<{ seq: string }>`select pg_get_serial_sequence('outbox_events', 'seq') as seq`.execute(db);
  await sql`alter table outbox_events alter column seq set default nextval(${sql.lit(r.rows[0]!.seq)}::regclass)`.execute(db);
  await sql`drop function outbox_next_seq()`.execute(db);
}
