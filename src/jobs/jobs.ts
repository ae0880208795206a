// Durable jobs and the transactional outbox.
//
// A state change and the work it causes commit together: callers pass their transaction to
// enqueueJob / emitEvent. A JobRunner claims due jobs under a lease; a worker that dies
// (SIGKILL, power loss) simply stops renewing its lease, and another worker takes the job once
// the lease expires. Completion is fenced by (worker, attempt), so a worker that lost its lease
// can never mark a job done, and a handler that does its work inside `ctx.commit` gets
// exactly-once effects: the work and the completion are one transaction.
import { hostname } from 'node:os';
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { newId } from '../shared/ids.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { backoffMs } from './jobs-rules.ts';
import { claimJobs, completeJob, extendLease, failJob, insertJob, type JobRow } from './jobs-store.ts';

// The outbox's reader, for every consumer in other modules (webhooks, releases on unfreeze).
export { consumeEventsOf, consumeOutbox, nextOutboxBatch, type OutboxRow } from './outbox.ts';
export { pruneConsumedOutbox, pruneFinishedJobs } from './retention-store.ts';
export { intervalWorker, type IntervalWorker } from './interval-worker.ts';
// Singleton loops across processes: one holder at a time, fenced (decision 0017).
export { createLeases, LeaseFencedError, type Leases, type TickAround } from './leases.ts';

/** The TickAround of a loop that runs without a lease (tests, a single process by design). */
export const unfenced = <T>(tick: () => Promise<T>): Promise<T> => tick();

export interface EnqueueOptions {
  run_at_ms?: number;
  /** At most one job with this key ever exists: enqueueing again is a no-op. */
  unique_key?: string;
  max_attempts?: number;
}

/** await enqueueJob(trx, 'ledger.expire_pending', { transfer_id }, { run_at_ms }) */
export async function enqueueJob(ex: DbExecutor, kind: string, payload: unknown, opts: EnqueueOptions = {}, clock: Clock = systemClock): Promise<boolean> {
  const now = clock.now_ms();
  return insertJob(ex, {
    id: newId('job', now),
    kind,
    payload: JSON.stringify(payload),
    status: 'queued',
    unique_key: opts.unique_key ?? null,
    run_at_ms: opts.run_at_ms ?? now,
    attempts: 0,
    max_attempts: opts.max_attempts ?? 25,
    lease_until_ms: null,
    leased_by: null,
    last_error: null,
    created_at_ms: now,
    updated_at_ms: now,
  });
}

export interface OutboxEvent {
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: unknown;
}

/** await emitEvent(trx, { type: 'payment.credited', aggregate_type: 'payment', aggregate_id, payload }) */
export async function emitEvent(ex: DbExecutor, event: OutboxEvent, clock: Clock = systemClock): Promise<string> {
  const now = clock.now_ms();
  const id = newId('evt', now);
  await ex
    .insertInto('outbox_events')
    .values({ id, type: event.type, aggregate_type: event.aggregate_type, aggregate_id: event.aggregate_id, payload: JSON.stringify(event.payload), created_at_ms: now })
    .execute();
  return id;
}

export interface JobContext {
  job: JobRow;
  attempt: number;
  db: Db;
  /** Runs fn and marks this job done in the same transaction (exactly-once database effects). */
  commit<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  signal: AbortSignal;
}

export type JobHandler = (payload: unknown, ctx: JobContext) => Promise<void>;

export interface JobRunnerOptions {
  worker_id?: string;
  poll_ms?: number;
  lease_ms?: number;
  jobs_per_tick_max?: number;
  backoff_ms_max?: number;
  clock?: Clock;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** const runner = new JobRunner(db); runner.register('mail.send', sendMail); runner.start(); … await runner.stop() */
export class JobRunner {
  readonly worker_id: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private ticking: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly opts: Required<Omit<JobRunnerOptions, 'worker_id'>>;

  constructor(private readonly db: Db, options: JobRunnerOptions = {}) {
    this.worker_id = options.worker_id ?? `${hostname()}:${process.pid}:${newId('w').slice(-6)}`;
    this.opts = {
      poll_ms: options.poll_ms ?? 250,
      lease_ms: options.lease_ms ?? 30_000,
      jobs_per_tick_max: options.jobs_per_tick_max ?? 32,
      backoff_ms_max: options.backoff_ms_max ?? 6 * 3600_000,
      clock: options.clock ?? systemClock,
      log: options.log ?? (() => undefined),
    };
  }

  register(kind: string, handler: JobHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  /**
   * Polls every poll_ms. Each poll claims as many due jobs as there are free slots
   * (jobs_per_tick_max minus those still running) and starts them without waiting, so that one
   * slow job (a webhook to a slow server) never holds up the others.
   */
  start(): void {
    if (this.timer || this.stopping) return;
    const loop = () => {
      this.ticking = this.claimAndStart()
        .then(() => undefined)
        .catch((error: unknown) => this.opts.log('error', 'job tick failed', { err: String(error) }))
        .finally(() => {
          this.ticking = null;
          if (!this.stopping) this.timer = setTimeout(loop, this.opts.poll_ms);
        });
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops claiming and waits for running jobs (graceful shutdown), up to timeout_ms. */
  async stop(timeout_ms = 15_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const drained = (async () => {
      await this.ticking; // a claim in progress may still start jobs
      await Promise.all([...this.running]);
    })();
    const timedOut = await Promise.race([drained.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), timeout_ms).unref())]);
    if (timedOut) this.abort.abort();
  }

  /** Claims and runs one batch of due jobs, waiting for them; returns how many ran. Tests call it directly. */
  async tick(): Promise<number> {
    const runs = await this.claimAndStart();
    await Promise.all(runs);
    return runs.length;
  }

  private async claimAndStart(): Promise<Array<Promise<void>>> {
    const free = this.opts.jobs_per_tick_max - this.running.size;
    if (free <= 0 || this.stopping) return [];
    const jobs = await claimJobs(this.db, this.worker_id, [...this.handlers.keys()], this.opts.clock.now_ms(), this.opts.lease_ms, free);
    return jobs.map((job) => this.track(job, this.runOne(job)));
  }

  private track(job: JobRow, run: Promise<void>): Promise<void> {
    // runOne handles the handler's errors; this catches the database failing under it (the
    // lease then simply expires and another attempt follows).
    const p: Promise<void> = run
      .catch((error: unknown) => this.opts.log('error', 'job bookkeeping failed', { job_id: job.id, err: String(error) }))
      .finally(() => this.running.delete(p));
    this.running.add(p);
    return p;
  }

  private async runOne(job: JobRow): Promise<void> {
    const handler = this.handlers.get(job.kind);
    if (!handler) return;
    let committed = false;
    const heartbeat = setInterval(() => {
      void extendLease(this.db.kysely, job, this.worker_id, this.opts.clock.now_ms() + this.opts.lease_ms).catch(() => undefined);
    }, Math.max(50, Math.floor(this.opts.lease_ms / 3)));
    const ctx: JobContext = {
      job,
      attempt: job.attempts,
      db: this.db,
      signal: this.abort.signal,
      commit: async (fn) =>
        this.db.transaction(async (trx) => {
          const result = await fn(trx);
          if (!(await completeJob(trx, job, this.worker_id, this.opts.clock.now_ms()))) throw new LeaseLostError(`lease on ${job.id} lost`);
          committed = true;
          return result;
        }),
    };
    try {
      await handler(JSON.parse(job.payload), ctx);
      if (!committed) await completeJob(this.db.kysely, job, this.worker_id, this.opts.clock.now_ms());
    } catch (error) {
      await this.retryLater(job, error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async retryLater(job: JobRow, error: unknown): Promise<void> {
    const now = this.opts.clock.now_ms();
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (error instanceof LeaseLostError) {
      this.opts.log('warn', 'job lease lost; another worker owns it', { job_id: job.id });
      return;
    }
    const final = job.attempts >= job.max_attempts;
    await failJob(this.db.kysely, job, this.worker_id, now, {
      status: final ? 'failed' : 'queued',
      run_at_ms: now + backoffMs(job.attempts, this.opts.backoff_ms_max),
      error: message,
    });
    this.opts.log(final ? 'error' : 'warn', final ? 'job failed for good' : 'job failed; will retry', { job_id: job.id, kind: job.kind, attempt: job.attempts, err: message });
  }
}
