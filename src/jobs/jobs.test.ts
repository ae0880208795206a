// Goal: durable jobs and the outbox keep their promises on SQLite and PostgreSQL — a unique key
// dedupes, a failure retries with backoff, max_attempts ends in `failed`, an expired lease lets
// another worker run the job, a worker that lost its lease can neither complete the job nor
// commit its effects, ctx.commit is atomic, and a state change, its jobs and its events commit or
// vanish together.
// Method: a real database per dialect, JobRunners driven by tick() and a ManualClock (no sleeps),
// a scratch `effects` table standing in for a module's state.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { ManualClock } from '../shared/clock.ts';
import { backoffMs } from './jobs-rules.ts';
import { claimJobs, completeJob, failJob } from './jobs-store.ts';
import { JobRunner, emitEvent, enqueueJob, type JobContext, type JobRunnerOptions } from './jobs.ts';

type Effects = Kysely<{ effects: { id: string; job_id: string; worker: string } }>;

describe('backoffMs', () => {
  it('doubles from 1 s with ±20 % jitter and stays under the cap', () => {
    expect(backoffMs(1, 1e9, () => 0.5)).toBe(1000);
    expect(backoffMs(4, 1e9, () => 0.5)).toBe(8000);
    expect(backoffMs(4, 1e9, () => 0)).toBe(6400);
    expect(backoffMs(4, 1e9, () => 1)).toBe(9600);
    expect(backoffMs(60, 5000, () => 1)).toBe(5000);
  });
});

describe.each(DIALECTS)('jobs on %s', (dialect) => {
  let t: TestDb;
  let fx: Effects;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const runners: JobRunner[] = [];

  function runner(worker_id: string, opts: JobRunnerOptions = {}): JobRunner {
    const r = new JobRunner(t.db, { worker_id, clock, lease_ms: 60_000, poll_ms: 10, ...opts });
    runners.push(r);
    return r;
  }
  async function jobRow(id: string) {
    return t.db.kysely.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }
  async function onlyJobId(kind: string): Promise<string> {
    const rows = await t.db.kysely.selectFrom('jobs').select('id').where('kind', '=', kind).execute();
    expect(rows).toHaveLength(1);
    return rows[0]!.id;
  }
  async function effectsOf(job_id: string) {
    return fx.selectFrom('effects').selectAll().where('job_id', '=', job_id).execute();
  }

  beforeAll(async () => {
    t = await openTestDb(dialect);
    await sql`create table effects (id text primary key, job_id text not null, worker text not null)`.execute(t.db.kysely);
    fx = t.db.kysely as unknown as Effects;
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop(1000);
  });
  afterAll(async () => t.cleanup());

  it('enqueues once per unique_key; a second enqueue is a no-op', async () => {
    expect(await enqueueJob(t.db.kysely, 'dedupe', { n: 1 }, { unique_key: 'dedupe:1' }, clock)).toBe(true);
    expect(await enqueueJob(t.db.kysely, 'dedupe', { n: 2 }, { unique_key: 'dedupe:1' }, clock)).toBe(false);
    expect(await enqueueJob(t.db.kysely, 'dedupe', { n: 3 }, { unique_key: 'dedupe:2' }, clock)).toBe(true);
    const rows = await t.db.kysely.selectFrom('jobs').select(['payload', 'unique_key']).where('kind', '=', 'dedupe').orderBy('unique_key').execute();
    expect(rows).toEqual([
      { payload: '{"n":1}', unique_key: 'dedupe:1' },
      { payload: '{"n":3}', unique_key: 'dedupe:2' },
    ]);
  });

  it('runs a job only once it is due', async () => {
    const seen: unknown[] = [];
    const r = runner('w-due').register('due', async (payload) => void seen.push(payload));
    await enqueueJob(t.db.kysely, 'due', { x: 1 }, { run_at_ms: clock.now_ms() + 5000 }, clock);
    expect(await r.tick()).toBe(0);
    clock.advance(5000);
    expect(await r.tick()).toBe(1);
    expect(seen).toEqual([{ x: 1 }]);
    expect((await jobRow(await onlyJobId('due'))).status).toBe('done');
  });

  it('retries a failed attempt after an exponential backoff, then succeeds', async () => {
    let calls = 0;
    const r = runner('w-retry').register('retry', async () => {
      calls++;
      if (calls === 1) throw new Error('rpc timeout');
    });
    await enqueueJob(t.db.kysely, 'retry', {}, {}, clock);
    const id = await onlyJobId('retry');
    const t0 = clock.now_ms();
    expect(await r.tick()).toBe(1);
    const after1 = await jobRow(id);
    expect(after1).toMatchObject({ status: 'queued', attempts: 1, leased_by: null, lease_until_ms: null, last_error: 'Error: rpc timeout' });
    expect(after1.run_at_ms - t0).toBeGreaterThanOrEqual(800);
    expect(after1.run_at_ms - t0).toBeLessThanOrEqual(1200);
    expect(await r.tick()).toBe(0); // not due yet
    clock.set(after1.run_at_ms);
    expect(await r.tick()).toBe(1);
    expect(await jobRow(id)).toMatchObject({ status: 'done', attempts: 2, last_error: null });
    expect(calls).toBe(2);
  });

  it('marks a job failed for good after max_attempts and never runs it again', async () => {
    let calls = 0;
    const r = runner('w-fail').register('doomed', async () => {
      calls++;
      throw new Error(`nope ${calls}`);
    });
    await enqueueJob(t.db.kysely, 'doomed', {}, { max_attempts: 3 }, clock);
    const id = await onlyJobId('doomed');
    for (let i = 0; i < 3; i++) {
      expect(await r.tick()).toBe(1);
      clock.advance(60_000);
    }
    expect(await jobRow(id)).toMatchObject({ status: 'failed', attempts: 3, last_error: 'Error: nope 3' });
    clock.advance(24 * 3600_000);
    expect(await r.tick()).toBe(0);
    expect(calls).toBe(3);
  });

  it('lets another worker run a job whose lease expired (the first worker died holding it)', async () => {
    await enqueueJob(t.db.kysely, 'orphan', {}, {}, clock);
    const id = await onlyJobId('orphan');
    // Worker "dead" claims it and then never reports back.
    const claimed = await claimJobs(t.db, 'dead', ['orphan'], clock.now_ms(), 10_000, 10);
    expect(claimed.map((j) => j.id)).toEqual([id]);
    const r = runner('w-live').register('orphan', async (_p, ctx) => {
      await ctx.commit(async (trx) => void (await (trx as unknown as Effects).insertInto('effects').values({ id: `e-${ctx.job.id}`, job_id: ctx.job.id, worker: 'w-live' }).execute()));
    });
    expect(await r.tick()).toBe(0); // lease still valid
    clock.advance(10_001);
    expect(await r.tick()).toBe(1);
    expect(await jobRow(id)).toMatchObject({ status: 'done', attempts: 2, leased_by: 'w-live' });
    expect(await effectsOf(id)).toHaveLength(1);
  });

  it('fences completion: a worker that lost its lease can neither complete the job nor commit its effects', async () => {
    await enqueueJob(t.db.kysely, 'fenced', {}, {}, clock);
    const id = await onlyJobId('fenced');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const commitEffect = (worker: string) => async (_p: unknown, ctx: JobContext) => {
      if (worker === 'slow') {
        started();
        await gate;
      }
      await ctx.commit(async (trx) => void (await (trx as unknown as Effects).insertInto('effects').values({ id: `e-${worker}-${ctx.attempt}`, job_id: ctx.job.id, worker }).execute()));
    };
    const slow = runner('slow', { lease_ms: 1000 }).register('fenced', commitEffect('slow'));
    const fast = runner('fast', { lease_ms: 1000 }).register('fenced', commitEffect('fast'));
    const slowTick = slow.tick();
    await startedP;
    clock.advance(1001); // slow's lease has expired
    expect(await fast.tick()).toBe(1);
    release();
    expect(await slowTick).toBe(1);
    expect(await jobRow(id)).toMatchObject({ status: 'done', attempts: 2, leased_by: 'fast' });
    expect((await effectsOf(id)).map((e) => e.worker)).toEqual(['fast']);
    // The store-level fence, directly: attempt 1 of "slow" can no longer complete or fail it.
    expect(await completeJob(t.db.kysely, { id, attempts: 1 }, 'slow', clock.now_ms())).toBe(false);
    expect(await failJob(t.db.kysely, { id, attempts: 1 }, 'slow', clock.now_ms(), { status: 'queued', run_at_ms: 0, error: 'x' })).toBe(false);
    expect((await jobRow(id)).status).toBe('done');
  });

  it('ctx.commit is atomic: a throw inside rolls back the effects and the completion', async () => {
    let calls = 0;
    const r = runner('w-atomic').register('atomic', async (_p, ctx) => {
      calls++;
      await ctx.commit(async (trx) => {
        await (trx as unknown as Effects).insertInto('effects').values({ id: `e-atomic-${calls}`, job_id: ctx.job.id, worker: 'w-atomic' }).execute();
        if (calls === 1) throw new Error('half way');
      });
    });
    await enqueueJob(t.db.kysely, 'atomic', {}, {}, clock);
    const id = await onlyJobId('atomic');
    expect(await r.tick()).toBe(1);
    expect(await effectsOf(id)).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ status: 'queued', attempts: 1 });
    clock.advance(60_000);
    expect(await r.tick()).toBe(1);
    expect((await effectsOf(id)).map((e) => e.id)).toEqual(['e-atomic-2']);
    expect((await jobRow(id)).status).toBe('done');
  });

  it('a handler that throws after ctx.commit is not run again: its effects and completion are already one commit', async () => {
    let calls = 0;
    const r = runner('w-after').register('after', async (_p, ctx) => {
      calls++;
      await ctx.commit(async (trx) => void (await (trx as unknown as Effects).insertInto('effects').values({ id: `e-after-${calls}`, job_id: ctx.job.id, worker: 'w-after' }).execute()));
      throw new Error('crash after commit');
    });
    await enqueueJob(t.db.kysely, 'after', {}, {}, clock);
    const id = await onlyJobId('after');
    expect(await r.tick()).toBe(1);
    clock.advance(3600_000);
    expect(await r.tick()).toBe(0);
    expect(calls).toBe(1);
    expect(await jobRow(id)).toMatchObject({ status: 'done', attempts: 1 });
    expect(await effectsOf(id)).toHaveLength(1);
  });

  it('commits a state change, its job and its outbox event together, or none of them', async () => {
    const change = async (id: string, fail: boolean) =>
      t.db.transaction(async (trx) => {
        await (trx as unknown as Effects).insertInto('effects').values({ id, job_id: '-', worker: 'state' }).execute();
        await enqueueJob(trx, 'notify', { id }, { unique_key: `notify:${id}` }, clock);
        await emitEvent(trx, { type: 'thing.changed', aggregate_type: 'thing', aggregate_id: id, payload: { id } }, clock);
        if (fail) throw new Error('abort');
      });
    await expect(change('s-rolled', true)).rejects.toThrow('abort');
    await change('s-kept', false);
    const states = await fx.selectFrom('effects').select('id').where('worker', '=', 'state').execute();
    expect(states.map((s) => s.id)).toEqual(['s-kept']);
    const jobs = await t.db.kysely.selectFrom('jobs').select('unique_key').where('kind', '=', 'notify').execute();
    expect(jobs.map((j) => j.unique_key)).toEqual(['notify:s-kept']);
    const events = await t.db.kysely.selectFrom('outbox_events').selectAll().where('aggregate_type', '=', 'thing').execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'thing.changed', aggregate_id: 's-kept', payload: '{"id":"s-kept"}' });
    expect(typeof events[0]!.seq).toBe('number');
  });

  it('start() keeps claiming while a slow job runs: one slow job does not hold up the others', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const r = runner('w-lanes', { jobs_per_tick_max: 4 })
      .register('lane.slow', async () => gate)
      .register('lane.quick', async () => undefined);
    await enqueueJob(t.db.kysely, 'lane.slow', {}, {}, clock);
    const slow = await onlyJobId('lane.slow');
    r.start();
    for (let i = 0; i < 300 && (await jobRow(slow)).status !== 'running'; i++) await new Promise((res) => setTimeout(res, 10));
    await enqueueJob(t.db.kysely, 'lane.quick', {}, {}, clock);
    const quick = await onlyJobId('lane.quick');
    for (let i = 0; i < 300 && (await jobRow(quick)).status !== 'done'; i++) await new Promise((res) => setTimeout(res, 10));
    expect((await jobRow(quick)).status).toBe('done');
    expect((await jobRow(slow)).status).toBe('running');
    release();
    await r.stop(10_000);
    expect((await jobRow(slow)).status).toBe('done');
  });

  it('start() polls on its own and stop() waits for the running job to finish', async () => {
    let finished = false;
    const r = runner('w-loop', { clock: { now_ms: () => clock.now_ms() } }).register('loop', async () => {
      await new Promise((res) => setTimeout(res, 200));
      finished = true;
    });
    await enqueueJob(t.db.kysely, 'loop', {}, {}, clock);
    const id = await onlyJobId('loop');
    r.start();
    for (let i = 0; i < 200 && (await jobRow(id)).status !== 'running'; i++) await new Promise((res) => setTimeout(res, 10));
    await r.stop(10_000);
    expect(finished).toBe(true);
    expect((await jobRow(id)).status).toBe('done');
  });
});
