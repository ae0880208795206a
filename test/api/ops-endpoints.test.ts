// Goal: the operational endpoints tell outsiders nothing they can use. /metrics (request counts,
// reconciliation discrepancy counts, …) answers only with the operator's SETTLE_METRICS_TOKEN as
// a Bearer token; /readyz says ready or not, and the reasons (database errors, pending
// migrations, a chain's RPC failure) go to the log, never into the response.
// Method: buildApp over real SQLite databases (one unmigrated, one closed under the app), inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

const TOKEN = 'm3tr1cs-t0ken-for-the-scraper-0123456789';

function config(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ SETTLE_DATA_DIR: dir, ...env }, dir);
}

describe('/metrics behind a token', () => {
  let t: TestDb;
  let dir: string;
  let app: App;
  beforeAll(async () => {
    t = await openTestDb('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'settle-ops-'));
    app = await buildApp({ config: config(dir, { SETTLE_METRICS_TOKEN: TOKEN }), db: t.db, clock: new ManualClock(), metrics: createMetrics(false) });
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SETTLE_METRICS_TOKEN is a setting, long enough to resist guessing', () => {
    expect(config(dir, { SETTLE_METRICS_TOKEN: TOKEN }).metrics_token).toBe(TOKEN);
    expect(config(dir).metrics_token).toBeNull();
    expect(() => config(dir, { SETTLE_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
  });

  it('without the token, or with a wrong one, /metrics is 401 problem+json and shows nothing', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }]) {
      const res = await app.inject({ method: 'GET', url: '/metrics', headers });
      expect(res.statusCode).toBe(401);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 401, code: 'metrics_token_required' });
      expect(res.body).not.toContain('settle_http_requests_total');
    }
  });

  it('with the token, /metrics serves Prometheus text', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('# TYPE settle_http_requests_total counter');
  });

  it('with no token configured, /metrics is not served to anyone', async () => {
    const t2 = await openTestDb('sqlite');
    const open = await buildApp({ config: config(dir), db: t2.db, clock: new ManualClock(), metrics: createMetrics(false) });
    try {
      const res = await open.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('settle_http_requests_total');
    } finally {
      await open.close();
      await t2.cleanup();
    }
  });
});

describe('/readyz says only ready or not', () => {
  it('a pending migration: 503 unavailable, without naming it', async () => {
    const t = await openTestDb('sqlite', { migrate: false });
    const dir = mkdtempSync(join(tmpdir(), 'settle-ops-'));
    const app = await buildApp({ config: config(dir), db: t.db, clock: new ManualClock(), metrics: createMetrics(false) });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await app.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failing module check and a database error: 503 unavailable, no error text echoed', async () => {
    const t = await openTestDb('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'settle-ops-'));
    const app = await buildApp({
      config: config(dir), db: t.db, clock: new ManualClock(), metrics: createMetrics(false),
      readiness: [async () => 'chain 31337 unreachable at https://rpc.example/v3/SECRETKEY'],
    });
    try {
      let res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable' });
      await t.db.close(); // the database goes away under the running app
      res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(t.target.kind === 'sqlite' ? t.target.path : '', '..'), { recursive: true, force: true });
    }
  });
});
