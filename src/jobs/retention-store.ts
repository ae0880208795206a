// Retention of the jobs layer's own rows (security review #20): finished jobs and outbox events
// every consumer has passed. Each call deletes at most `limit` rows, oldest first, so a run's work
// is bounded however much has piled up; the housekeeping job calls again until a call deletes
// fewer than `limit`.
import type { DbExecutor } from '../db/database.ts';

/** Jobs done or failed for good, last touched before `before_ms`. Queued and running ones are never touched. */
export async function pruneFinishedJobs(ex: DbExecutor, before_ms: number, limit: number): Promise<number> {
  const ids = ex.selectFrom('jobs').select('id').where('status', 'in', ['done', 'failed']).where('updated_at_ms', '<', before_ms).orderBy('updated_at_ms').limit(limit);
  const r = await ex.deleteFrom('jobs').where('id', 'in', ids).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Outbox events older than `before_ms` that EVERY consumer has passed (seq at or below the lowest
 * saved cursor). Nothing is deleted while no consumer has saved a cursor. A consumer added later
 * starts from the oldest event kept (its cursor starts at 0): it sees the retained window, not
 * the whole history.
 */
export async function pruneConsumedOutbox(ex: DbExecutor, before_ms: number, limit: number): Promise<number> {
  const low = await ex.selectFrom('outbox_cursors').select((eb) => eb.fn.min('seq').as('s')).executeTakeFirst();
  if (low?.s === null || low?.s === undefined) return 0;
  const passed = Number(low.s);
  const seqs = ex.selectFrom('outbox_events').select('seq').where('seq', '<=', passed).where('created_at_ms', '<', before_ms).orderBy('seq').limit(limit);
  const r = await ex.deleteFrom('outbox_events').where('seq', 'in', seqs).executeTakeFirst();
  return Number(r.numDeletedRows);
}
