// Goal: graceful shutdown — stop() lets an in-flight request finish and answer, refuses new
// work, and waits for a running job to finish (and commit) before it resolves.
// Method: start() from src/main.ts on port 0 with a temp SQLite data dir, a test-only slow route
// and a slow job handler added through start's `prepare` hook; real HTTP over fetch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { openDb } from '../../src/db/database.ts';
import { enqueueJob } from '../../src/jobs/jobs.ts';
import { start } from '../../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'settle-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('graceful shutdown', () => {
  it('finishes the in-flight request and the running job before stop() resolves', async () => {
    const requestEntered = deferred();
    const releaseRequest = deferred();
    const jobEntered = deferred();
    const releaseJob = deferred();
    const events: string[] = [];

    const slowRoutes: FastifyPluginAsync = async (app) => {
      app.get('/slow', async () => {
        requestEntered.resolve();
        await releaseRequest.promise;
        events.push('request done');
        return { done: true };
      });
    };
    const config = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_PORT: '0' }, dir);
    const running = await start(config, pino({ level: 'silent' }), (platform) => {
      platform.routes.push({ name: 'slow', plugin: slowRoutes });
      platform.jobs.register('test.slow', async (_payload, ctx) => {
        jobEntered.resolve();
        await releaseJob.promise;
        await ctx.commit(async () => void events.push('job done'));
      });
    });
    let stopped = false;
    try {
      await enqueueJob(running.db.kysely, 'test.slow', {});
      const inflight = fetch(`${running.url}/api/v1/slow`);
      await Promise.all([requestEntered.promise, jobEntered.promise]);

      const stopping = running.stop().then(() => {
        stopped = true;
        events.push('stopped');
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped).toBe(false);
      // New connections are refused while shutting down.
      await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();

      releaseRequest.resolve();
      const res = await inflight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ done: true });
      await new Promise((r) => setTimeout(r, 200));
      expect(stopped).toBe(false); // the job still runs
      releaseJob.resolve();
      await stopping;
      expect(events).toEqual(['request done', 'job done', 'stopped']);
    } finally {
      releaseRequest.resolve();
      releaseJob.resolve();
      if (!stopped) await running.stop();
    }
    // The job's completion was committed before the database closed.
    const db = openDb({ kind: 'sqlite', path: join(dir, 'settle.db') });
    try {
      const job = await db.kysely.selectFrom('jobs').select(['status', 'attempts']).where('kind', '=', 'test.slow').executeTakeFirstOrThrow();
      expect(job).toEqual({ status: 'done', attempts: 1 });
    } finally {
      await db.close();
    }
  });
});
