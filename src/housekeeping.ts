// Housekeeping (composition root): one hourly, self-rescheduling job that purges expired
// idempotency keys and deletes the history each module no longer needs (security review #20),
// with the ages of `config.retention`. Each module deletes its own rows through its face; each
// pass is bounded (PASSES_MAX × PRUNE_CHUNK rows per table per run), and a backlog larger than
// that is taken over the next runs. Ledger transfers, payments and the audit log are never pruned.
import type { Clock } from './shared/clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { enqueueJob, pruneConsumedOutbox, pruneFinishedJobs, type JobRunner } from './jobs/jobs.ts';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.ts';
import { pruneAccountRows } from './accounts/accounts.ts';
import { pruneNotifyRows } from './notify/notify.ts';

export const HOUSEKEEPING_EVERY_MS = 3600_000;
/** Rows deleted per statement: each is its own short transaction, so writers are never held up long. */
export const PRUNE_CHUNK = 1000;
/** Statements per table per run. */
const PASSES_MAX = 50;
const DAY_MS = 86_400_000;
/** The job's kind keeps its first name, so runs queued by earlier versions are still handled. */
const JOB = 'ops.purge_idempotency';

export type PruneCounts = Record<string, number>;

/** One housekeeping pass at `now_ms`: how many rows of each kind were deleted. */
export async function runHousekeeping(db: Db, config: Config, now_ms: number, chunk = PRUNE_CHUNK): Promise<PruneCounts> {
  const r = config.retention;
  const ago = (days: number) => now_ms - days * DAY_MS;
  const counts: PruneCounts = { idempotency_keys: await purgeExpiredIdempotencyKeys(db, now_ms) };
  const add = (k: string, n: number) => (counts[k] = (counts[k] ?? 0) + n);
  const repeat = async (step: () => Promise<number>) => {
    for (let i = 0; i < PASSES_MAX; i++) if ((await step()) < chunk) return;
  };
  await repeat(async () => {
    const n = await pruneFinishedJobs(db.kysely, ago(r.jobs_days), chunk);
    add('jobs', n);
    return n;
  });
  await repeat(async () => {
    const n = await pruneConsumedOutbox(db.kysely, ago(r.outbox_days), chunk);
    add('outbox_events', n);
    return n;
  });
  await repeat(async () => {
    const n = await pruneAccountRows(db.kysely, { sessions_before_ms: ago(r.sessions_days), throttle_before_ms: ago(r.throttle_days) }, chunk);
    for (const [k, v] of Object.entries(n)) add(k, v);
    return Math.max(...Object.values(n));
  });
  await repeat(async () => {
    const n = await pruneNotifyRows(db.kysely, { webhooks_before_ms: ago(r.webhooks_days), user_events_before_ms: ago(r.user_events_days) }, chunk);
    for (const [k, v] of Object.entries(n)) add(k, v);
    return Math.max(...Object.values(n));
  });
  return counts;
}

/** Registers the hourly job and queues its first run (once per hour slot, whichever process). */
export async function wireHousekeeping(deps: { db: Db; clock: Clock; config: Config; jobs: JobRunner; log?: (counts: PruneCounts) => void }): Promise<void> {
  const { db, clock, config, jobs } = deps;
  const slot = (now: number) => Math.floor(now / HOUSEKEEPING_EVERY_MS);
  jobs.register(JOB, async (_payload, ctx) => {
    const counts = await runHousekeeping(db, config, clock.now_ms());
    if (Object.values(counts).some((n) => n > 0)) deps.log?.(counts);
    await ctx.commit(async (trx) => {
      await enqueueJob(trx, JOB, {}, { run_at_ms: clock.now_ms() + HOUSEKEEPING_EVERY_MS, unique_key: `${JOB}:${slot(clock.now_ms()) + 1}` }, clock);
    });
  });
  await enqueueJob(db.kysely, JOB, {}, { unique_key: `${JOB}:${slot(clock.now_ms())}` }, clock);
}
