// Goal: jobs survive real processes — two worker processes on one database never run the same
// job at once and run every job exactly once; a worker killed with SIGKILL while it holds a job
// loses nothing and runs nothing twice: the job runs again once its lease expires.
// Method: spawn test/fixtures/job-worker.ts (`node --import tsx`) against a real database (SQLite
// file in WAL mode, and PostgreSQL when configured); the handler records a 'start' row on its own
// and commits its effect, an 'end' row and the completion together through ctx.commit.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { enqueueJob } from './jobs.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const JOBS = 120;

interface Scratch {
  job_runs: { job_id: string; worker: string; phase: string; at_ms: number };
  job_effects: { job_id: string; worker: string };
}

interface Worker {
  child: ChildProcess;
  output: string[];
  waitFor(re: RegExp, timeout_ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(t: TestDb, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/job-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...t.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output,
    exited,
    waitFor(re, timeout_ms = 90_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.find((l) => re.test(l));
          if (line) resolve(line);
        };
        waiters.push(check);
        check();
        setTimeout(() => reject(new Error(`worker never printed ${re}; output:\n${output.join('\n')}`)), timeout_ms).unref();
      });
    },
  };
}

async function createScratch(t: TestDb): Promise<Kysely<Scratch>> {
  await sql`create table job_runs (job_id text not null, worker text not null, phase text not null, at_ms bigint not null)`.execute(t.db.kysely);
  await sql`create table job_effects (job_id text not null, worker text not null)`.execute(t.db.kysely);
  return t.db.kysely as unknown as Kysely<Scratch>;
}

async function waitUntil(what: string, cond: () => Promise<boolean>, timeout_ms = 120_000): Promise<void> {
  const until = Date.now() + timeout_ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function countJobs(t: TestDb, status: string): Promise<number> {
  const row = await t.db.kysely.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', status).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(DIALECTS)('job worker processes on %s', { timeout: 240_000 }, (dialect) => {
  let t: TestDb | null = null;
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await t?.cleanup();
    t = null;
  });

  it(`two workers run ${JOBS} jobs: each exactly once, never two at a time`, async () => {
    t = await openTestDb(dialect);
    const k = await createScratch(t);
    for (let i = 0; i < JOBS; i++) await enqueueJob(t.db.kysely, 'test.record', { sleep_ms: i % 7 });
    const a = startWorker(t, { WORKER_ID: 'A' });
    const b = startWorker(t, { WORKER_ID: 'B' });
    workers.push(a, b);
    await Promise.all([a.waitFor(/^ready A/), b.waitFor(/^ready B/)]);
    await waitUntil('all jobs done', async () => (await countJobs(t!, 'done')) === JOBS);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);

    const runs = await k.selectFrom('job_runs').selectAll().execute();
    const effects = await k.selectFrom('job_effects').selectAll().execute();
    const byJob = new Map<string, typeof runs>();
    for (const r of runs) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r]);
    expect(byJob.size).toBe(JOBS);
    for (const [, rs] of byJob) {
      // Exactly one start and one end, by the same worker, in order: no second run, no overlap.
      expect(rs.map((r) => r.phase).sort()).toEqual(['end', 'start']);
      expect(new Set(rs.map((r) => r.worker)).size).toBe(1);
      const start = rs.find((r) => r.phase === 'start')!;
      const end = rs.find((r) => r.phase === 'end')!;
      expect(Number(end.at_ms)).toBeGreaterThanOrEqual(Number(start.at_ms));
    }
    expect(effects).toHaveLength(JOBS);
    expect(new Set(effects.map((e) => e.job_id)).size).toBe(JOBS);
    const share = { A: effects.filter((e) => e.worker === 'A').length, B: effects.filter((e) => e.worker === 'B').length };
    // Both processes took part (a worker that never claimed anything would prove nothing).
    expect(share.A).toBeGreaterThan(0);
    expect(share.B).toBeGreaterThan(0);
    console.info(`jobs on ${dialect}: ${JOBS} jobs, worker A ran ${share.A}, worker B ran ${share.B}`);
  });

  it('a worker killed with SIGKILL while holding a job: the job runs again after the lease, once', async () => {
    t = await openTestDb(dialect);
    const k = await createScratch(t);
    await enqueueJob(t.db.kysely, 'test.record', { sleep_ms: 0 });
    const job = await t.db.kysely.selectFrom('jobs').select('id').executeTakeFirstOrThrow();
    const doomed = startWorker(t, { WORKER_ID: 'doomed', WORKER_MODE: 'hang', LEASE_MS: '1500' });
    workers.push(doomed);
    await doomed.waitFor(new RegExp(`^holding ${job.id}`));
    doomed.child.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const held = await t.db.kysely.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(held).toMatchObject({ status: 'running', leased_by: 'doomed', attempts: 1 });

    const heir = startWorker(t, { WORKER_ID: 'heir', LEASE_MS: '1500' });
    workers.push(heir);
    await waitUntil('the job done by the heir', async () => (await countJobs(t!, 'done')) === 1, 90_000);
    const done = await t.db.kysely.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(done).toMatchObject({ status: 'done', attempts: 2, leased_by: 'heir' });
    // The heir waited for the lease: it started no earlier than the doomed worker's lease end.
    const runs = await k.selectFrom('job_runs').selectAll().orderBy('at_ms').execute();
    expect(runs.map((r) => `${r.worker}:${r.phase}`)).toEqual(['doomed:start', 'heir:start', 'heir:end']);
    expect(Number(runs[1]!.at_ms)).toBeGreaterThanOrEqual(Number(held.lease_until_ms));
    const effects = await k.selectFrom('job_effects').selectAll().execute();
    expect(effects).toEqual([{ job_id: job.id, worker: 'heir' }]);
    heir.child.kill('SIGTERM');
    expect((await heir.exited).code).toBe(0);
  });
});
