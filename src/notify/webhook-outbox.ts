// Reading the outbox in order, for any consumer (webhook dispatcher, transfer release …), with a
// saved cursor.
//
// On PostgreSQL a `bigserial` is handed out when a row is inserted, not when its transaction
// commits: seq 11 can become visible before seq 10. A consumer that jumped to 11 would skip 10
// for ever. So a batch stops at the first gap, unless the row after the gap is older than a
// safety window, in which case the gap is a rolled-back transaction's burned number and is
// skipped. (SQLite writers are serialised; its numbers commit in order.)
import type { Selectable, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import type { OutboxTable } from '../db/schema.ts';

export type OutboxRow = Selectable<OutboxTable>;

/** A transaction that stays open longer than this may have its events delivered out of order. */
export const OUTBOX_GAP_SAFETY_MS = 10_000;

export async function cursorOf(ex: DbExecutor, consumer: string): Promise<number> {
  const r = await ex.selectFrom('outbox_cursors').select('seq').where('consumer', '=', consumer).executeTakeFirst();
  return r ? Number(r.seq) : 0;
}

export async function saveCursor(ex: DbExecutor, consumer: string, seq: number, now_ms: number): Promise<void> {
  const updated = await ex.updateTable('outbox_cursors').set({ seq, updated_at_ms: now_ms }).where('consumer', '=', consumer).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) await ex.insertInto('outbox_cursors').values({ consumer, seq, updated_at_ms: now_ms }).execute();
}

/**
 * The next events after `after`, in seq order, cut at the first gap that is still young.
 * nextOutboxBatch(db, 0, 100, now) -> rows with seq 1, 2, 3 … (contiguous, or gaps older than the window)
 */
export async function nextOutboxBatch(ex: DbExecutor, after: number, limit: number, now_ms: number, safety_ms = OUTBOX_GAP_SAFETY_MS): Promise<OutboxRow[]> {
  const rows = await ex.selectFrom('outbox_events').selectAll().where('seq', '>', after).orderBy('seq').limit(limit).execute();
  const out: OutboxRow[] = [];
  let expected = after + 1;
  for (const r of rows) {
    const seq = Number(r.seq);
    if (seq !== expected && now_ms - Number(r.created_at_ms) < safety_ms) break;
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
  const batch = await nextOutboxBatch(db.kysely, after, limit, now_ms);
  let skippedTo: number | null = null;
  const saveSkipped = async () => {
    if (skippedTo === null) return;
    const seq = skippedTo;
    skippedTo = null;
    await db.transaction(async (trx) => {
      if ((await cursorOf(trx, consumer)) < seq) await saveCursor(trx, consumer, seq, now_ms);
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
      // Another worker may have moved the cursor meanwhile: do nothing twice.
      const current = await cursorOf(trx, consumer);
      if (current >= event.seq) return;
      await handle(trx, event, prepared);
      await saveCursor(trx, consumer, event.seq, now_ms);
    });
  }
  await saveSkipped();
  return batch.length;
}
