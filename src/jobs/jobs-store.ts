// Queries for the jobs table and the outbox. No decisions here: jobs.ts decides.
import { sql } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { JobsTable } from '../db/schema.ts';

export type JobRow = JobsTable;

export async function insertJob(ex: DbExecutor, row: JobRow): Promise<boolean> {
  const res = await ex
    .insertInto('jobs')
    .values(row)
    .onConflict((oc) => oc.column('unique_key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Claims up to `limit` due jobs (queued and due, or running with an expired lease) for
 * `worker`, bumping attempts: the attempt number is the fencing token for completion.
 * PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same row.
 * SQLite: inside BEGIN IMMEDIATE, which serialises writers across processes.
 */
export async function claimJobs(db: Db, worker: string, kinds: string[], now_ms: number, lease_ms: number, limit: number): Promise<JobRow[]> {
  if (kinds.length === 0) return [];
  return db.transaction(async (trx) => {
    const due = trx
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', kinds)
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('run_at_ms', '<=', now_ms)]),
          eb.and([eb('status', '=', 'running'), eb('lease_until_ms', '<', now_ms)]),
        ]),
      )
      .orderBy('run_at_ms')
      .limit(limit);
    const ids = (await (db.dialect === 'postgres' ? due.forUpdate().skipLocked() : due).execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('jobs')
      .set({
        status: 'running',
        leased_by: worker,
        lease_until_ms: now_ms + lease_ms,
        attempts: sql`attempts + 1`,
        updated_at_ms: now_ms,
      })
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

/** Marks a claimed attempt done; false if the lease was lost (another worker owns it now). */
export async function completeJob(ex: DbExecutor, job: Pick<JobRow, 'id' | 'attempts'>, worker: string, now_ms: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ status: 'done', lease_until_ms: null, updated_at_ms: now_ms, last_error: null })
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('leased_by', '=', worker)
    .where('attempts', '=', job.attempts)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function failJob(
  ex: DbExecutor,
  job: Pick<JobRow, 'id' | 'attempts'>,
  worker: string,
  now_ms: number,
  next: { status: 'queued' | 'failed'; run_at_ms: number; error: string },
): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ status: next.status, run_at_ms: next.run_at_ms, lease_until_ms: null, leased_by: null, last_error: next.error.slice(0, 2000), updated_at_ms: now_ms })
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('leased_by', '=', worker)
    .where('attempts', '=', job.attempts)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function extendLease(ex: DbExecutor, job: Pick<JobRow, 'id' | 'attempts'>, worker: string, until_ms: number): Promise<boolean> {
  const res = await ex
    .updateTable('jobs')
    .set({ lease_until_ms: until_ms })
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('leased_by', '=', worker)
    .where('attempts', '=', job.attempts)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function jobCounts(ex: DbExecutor): Promise<Record<string, number>> {
  const rows = await ex.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
