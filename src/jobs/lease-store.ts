// Queries for singleton-loop leases and their tick record. No decisions here: leases.ts decides.
// Every statement is one row's compare-and-set, the same on SQLite and PostgreSQL.
import type { DbExecutor } from '../db/database.ts';
import type { LeasesTable } from '../db/schema.ts';

export type LeaseRow = LeasesTable;

/** The first acquisition ever of `name`: token 1. False when the row exists already. */
export async function insertLease(ex: DbExecutor, row: LeaseRow): Promise<boolean> {
  const r = await ex.insertInto('leases').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Takes over an expired lease with the next token; null when it is still held by someone. */
export async function takeExpiredLease(ex: DbExecutor, name: string, holder: string, now_ms: number, expires_at_ms: number): Promise<number | null> {
  const r = await ex
    .updateTable('leases')
    .set((eb) => ({ holder, token: eb('token', '+', 1), expires_at_ms, acquired_at_ms: now_ms }))
    .where('name', '=', name)
    .where('expires_at_ms', '<=', now_ms)
    .returning('token')
    .executeTakeFirst();
  return r ? Number(r.token) : null;
}

/** Extends the holder's lease; false when the token is no longer the row's (taken over). */
export async function renewLease(ex: DbExecutor, name: string, holder: string, token: number, expires_at_ms: number): Promise<boolean> {
  const r = await ex.updateTable('leases').set({ expires_at_ms }).where('name', '=', name).where('holder', '=', holder).where('token', '=', token).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * The fence: locks the lease row for the rest of the caller's transaction (an UPDATE takes the
 * row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes every other writer) and says
 * whether `token` is still current. A takeover waits for this transaction to end.
 */
export async function lockIfCurrent(ex: DbExecutor, name: string, holder: string, token: number): Promise<boolean> {
  const r = await ex.updateTable('leases').set((eb) => ({ holder: eb.ref('holder') })).where('name', '=', name).where('holder', '=', holder).where('token', '=', token).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** A graceful stop: the lease expires now, so another process takes it at its next attempt. */
export async function releaseLease(ex: DbExecutor, name: string, holder: string, token: number): Promise<void> {
  await ex.updateTable('leases').set({ expires_at_ms: 0 }).where('name', '=', name).where('holder', '=', holder).where('token', '=', token).execute();
}

export async function leaseOf(ex: DbExecutor, name: string): Promise<LeaseRow | undefined> {
  const r = await ex.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
  return r ? { ...r, token: Number(r.token), expires_at_ms: Number(r.expires_at_ms), acquired_at_ms: Number(r.acquired_at_ms) } : undefined;
}

export interface TickRecord {
  name: string;
  holder: string;
  token: number;
  started_at_ms: number;
  ended_at_ms: number;
}

export async function insertTick(ex: DbExecutor, tick: TickRecord): Promise<void> {
  await ex.insertInto('lease_ticks').values(tick).execute();
}

/** Ticks of every loop (or one), in start order; bounded by `limit`. */
export async function ticksOf(ex: DbExecutor, limit: number, name?: string): Promise<TickRecord[]> {
  let q = ex.selectFrom('lease_ticks').select(['name', 'holder', 'token', 'started_at_ms', 'ended_at_ms']).orderBy('started_at_ms').orderBy('id').limit(limit);
  if (name !== undefined) q = q.where('name', '=', name);
  return (await q.execute()).map((t) => ({ ...t, token: Number(t.token), started_at_ms: Number(t.started_at_ms), ended_at_ms: Number(t.ended_at_ms) }));
}

/** Forgets ticks that ended before `before_ms` (the record is kept for a bounded time). */
export async function pruneTicks(ex: DbExecutor, name: string, before_ms: number): Promise<void> {
  await ex.deleteFrom('lease_ticks').where('name', '=', name).where('ended_at_ms', '<', before_ms).execute();
}
