// Reading the outbox in order, for any consumer (webhook dispatcher, transfer release, deposit
// release …), with a saved cursor. No event is ever skipped, however late its transaction commits.
// The one reader every consumer uses (CONVENTIONS: the outbox and its reader belong to jobs/);
// other modules reach it through jobs.ts.
//
// On PostgreSQL a `bigserial` is handed out when a row is inserted, not when its transaction
// commits: seq 11 can become visible before seq 10. A consumer that jumped to 11 would skip 10
// for ever. So a batch stops at the first missing number, and passes over it only once it is
// proven burned (its transaction rolled back): when the reader first sees the gap it notes the
// snapshot's xmax (every transaction that had an id then has one below it); the number was taken
// before a later number that is visible, by a transaction that already had its id (migration
// 2026-12-07T1710), so that transaction is below the noted xmax. Once a later read's own snapshot
// has xmin at or above it, all of those transactions have ended, and a number still missing from
// that same read was rolled back. A transaction that stays open holds the consumer back until
// it ends; its event is never lost. (No clock is involved.) SQLite's writers are serialised: its
// numbers commit in order and a read needs no such care.
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { dialectOf, type Db, type DbExecutor } from '../db/database.ts';
import type { OutboxTable } from '../db/schema.ts';

export type OutboxRow = Selectable<OutboxTable>;

export async function cursorOf(ex: DbExecutor, consumer: string): Promise<number> {
  const r = await ex.selectFrom('outbox_cursors').select('seq').where('consumer', '=', consumer).executeTakeFirst();
  return r ? Number(r.seq) : 0;
}

/**
 * The cursor inside the transaction that will move it, locked against every other process's
 * consumer of the same name until that transaction ends (FOR UPDATE on PostgreSQL; SQLite's
 * BEGIN IMMEDIATE already admits one writer). Without the lock, two processes under READ
 * COMMITTED both read the old cursor and both handle the event (issue 15).
 */
export async function lockCursor(trx: Transaction<Database>, consumer: string): Promise<number> {
  const q = trx.selectFrom('outbox_cursors').select('seq').where('consumer', '=', consumer);
  const r = await (dialectOf(trx) === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  return r ? Number(r.seq) : 0;
}

/** Creates the consumer's cursor row at 0 if it has none, so that there is a row to lock. */
export async function ensureCursor(ex: DbExecutor, consumer: string, now_ms: number): Promise<void> {
  await ex.insertInto('outbox_cursors').values({ consumer, seq: 0, updated_at_ms: now_ms }).onConflict((oc) => oc.column('consumer').doNothing()).execute();
}

export async function saveCursor(ex: DbExecutor, consumer: string, seq: number, now_ms: number): Promise<void> {
  const updated = await ex.updateTable('outbox_cursors').set({ seq, updated_at_ms: now_ms }).where('consumer', '=', consumer).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) await ex.insertInto('outbox_cursors').values({ consumer, seq, updated_at_ms: now_ms }).execute();
}

/** A missing number a reader is waiting on, and the xmax of the snapshot that first saw it missing. */
interface Gap {
  seq: number;
  xmax: bigint;
}

// Gaps seen, per database handle and reader (`after` stands for the reader: a cursor is one
// reader's). Bounded: a reader waits on one gap at a time, and entries are replaced, not added,
// as its cursor moves; a lost entry (restart) only means the gap is noted again.
const GAPS_MAX = 1000;
const gapsByDb = new WeakMap<object, Map<string, Gap>>();

function gapsOf(ex: DbExecutor): Map<string, Gap> {
  const key = ex as object;
  let gaps = gapsByDb.get(key);
  if (!gaps) gapsByDb.set(key, (gaps = new Map()));
  return gaps;
}

/**
 * The next events after `after`, in seq order, cut at the first number still missing unless it
 * is proven burned (see above). `reader` names whose wait this is (the consumer).
 * nextOutboxBatch(db, 'webhooks', 0, 100) -> rows with seq 1, 2, 3 … (contiguous, or past burned numbers)
 */
export async function nextOutboxBatch(ex: DbExecutor, reader: string, after: number, limit: number): Promise<OutboxRow[]> {
  if (dialectOf(ex) === 'sqlite') {
    const rows = await ex.selectFrom('outbox_events').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }
  const rows = await ex
    .selectFrom('outbox_events')
    .selectAll()
    .select([sql<string>`pg_snapshot_xmin(pg_current_snapshot())::text`.as('snap_xmin'), sql<string>`pg_snapshot_xmax(pg_current_snapshot())::text`.as('snap_xmax')])
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const gaps = gapsOf(ex);
  const out: OutboxRow[] = [];
  let expected = after + 1;
  for (const { snap_xmin, snap_xmax, ...r } of rows) {
    const seq = Number(r.seq);
    if (seq !== expected) {
      const seen = gaps.get(reader);
      if (!seen || seen.seq !== expected) {
        if (gaps.size >= GAPS_MAX) gaps.clear();
        gaps.set(reader, { seq: expected, xmax: BigInt(snap_xmax) });
        break;
      }
      // Every transaction that could hold the missing numbers has ended, and this read (same
      // snapshot) still does not see them: they were rolled back.
      if (BigInt(snap_xmin) < seen.xmax) break;
      gaps.delete(reader);
    }
    out.push({ ...r, seq });
    expected = seq + 1;
  }
  return out;
}

/**
 * Runs `handle` over the next batch inside one transaction per event, saving the cursor with
 * each, so that a crash repeats at most the event in hand (handlers are idempotent anyway).
 * `prepare` runs before that transaction, outside it: reads through the pool belong there (on
 * SQLite the one connection is held by the transaction, and a read outside it would wait for
 * ever). With `types`, events of other types cost no transaction each: the cursor moves past a
 * run of them in one save (on SQLite every transaction is an fsync).
 */
export async function consumeOutbox<P = undefined>(
  db: Db,
  consumer: string,
  limit: number,
  now_ms: number,
  handle: (trx: Transaction<Database>, event: OutboxRow, prepared: P | undefined) => Promise<void>,
  prepare?: (event: OutboxRow) => Promise<P>,
  opts: { types?: readonly string[] } = {},
): Promise<number> {
  const after = await cursorOf(db.kysely, consumer);
  const batch = await nextOutboxBatch(db.kysely, consumer, after, limit);
  if (batch.length && after === 0) await ensureCursor(db.kysely, consumer, now_ms);
  let skippedTo: number | null = null;
  const saveSkipped = async () => {
    if (skippedTo === null) return;
    const seq = skippedTo;
    skippedTo = null;
    await db.transaction(async (trx) => {
      if ((await lockCursor(trx, consumer)) < seq) await saveCursor(trx, consumer, seq, now_ms);
    });
  };
  for (const event of batch) {
    if (opts.types && !opts.types.includes(event.type)) {
      skippedTo = event.seq;
      continue;
    }
    await saveSkipped();
    const prepared = prepare ? await prepare(event) : undefined;
    await db.transaction(async (trx) => {
      // Another worker (this process or another) may have moved the cursor meanwhile: do nothing
      // twice. The lock holds the others back until this event's transaction ends.
      const current = await lockCursor(trx, consumer);
      if (current >= event.seq) return;
      await handle(trx, event, prepared);
      await saveCursor(trx, consumer, event.seq, now_ms);
    });
  }
  await saveSkipped();
  return batch.length;
}

/**
 * One pass of a consumer that acts on one event type only, handing `handle` the event's payload
 * inside the event's transaction (the deposit and transfer releases on `account.unfrozen`):
 * consumeEventsOf(db, 'transfers.release', 'account.unfrozen', 100, now, (trx, p: { user_id: string }) => release(trx, p.user_id))
 */
export async function consumeEventsOf<T>(db: Db, consumer: string, type: string, limit: number, now_ms: number, handle: (trx: Transaction<Database>, payload: T) => Promise<unknown>): Promise<number> {
  return consumeOutbox(
    db,
    consumer,
    limit,
    now_ms,
    async (trx, event) => {
      if (event.type !== type) return;
      await handle(trx, JSON.parse(event.payload) as T);
    },
    undefined,
    { types: [type] },
  );
}
