// Goal: behind a reverse proxy, clients are told apart by the address the proxy forwards — but
// only when the proxy is one the operator trusts (SETTLE_TRUST_PROXY); from anyone else a
// forwarded header is ignored, so a client cannot pick its own rate-limit bucket or throttle key.
// Method: buildApp over a real SQLite database, app.inject() with a chosen socket address and
// X-Forwarded-For; the whole platform for the login throttle (real accounts, real database).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { buildApp, type App } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';
import { startTestPlatform } from '../helpers/accounts-testkit.ts';

const PROXY = '10.0.0.1';
const ping: FastifyPluginAsync = async (app) => {
  app.get('/ping', async (req) => ({ ip: req.ip }));
};

describe('trust_proxy setting', () => {
  it('is off by default and reads a list of addresses and CIDRs from SETTLE_TRUST_PROXY', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-proxy-'));
    try {
      expect(loadConfig({}, dir).trust_proxy).toEqual([]);
      expect(loadConfig({ SETTLE_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1' }, dir).trust_proxy).toEqual(['10.0.0.1', '192.168.0.0/16', '::1']);
      expect(() => loadConfig({ SETTLE_TRUST_PROXY: 'proxy.local' }, dir)).toThrow(ConfigError);
      expect(() => loadConfig({ SETTLE_TRUST_PROXY: '10.0.0.0/33' }, dir)).toThrow(/SETTLE_TRUST_PROXY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rate limits behind a proxy', () => {
  let t: TestDb;
  let dir: string;
  let app: App;
  beforeAll(async () => {
    t = await openTestDb('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'settle-proxy-'));
    const base = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_TRUST_PROXY: PROXY }, dir);
    app = await buildApp({ config: { ...base, rate_limit: { per_second: 0.001, burst: 2 } }, db: t.db, clock: new ManualClock(), metrics: createMetrics(false), routes: [{ name: 'ping', plugin: ping }] });
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (remoteAddress: string, forwarded?: string) =>
    app.inject({ method: 'GET', url: '/api/v1/ping', remoteAddress, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} });

  it('a trusted proxy\'s clients each get their own bucket, keyed by the forwarded address', async () => {
    const first = await get(PROXY, '203.0.113.5');
    expect(first.json()).toEqual({ ip: '203.0.113.5' });
    expect((await get(PROXY, '203.0.113.5')).statusCode).toBe(200);
    expect((await get(PROXY, '203.0.113.5')).statusCode).toBe(429);
    // another client behind the same proxy is not limited by the first one's bucket
    expect((await get(PROXY, '203.0.113.6')).statusCode).toBe(200);
  });

  it('X-Forwarded-For from an untrusted peer is ignored: it cannot choose a fresh bucket', async () => {
    const res = await get('198.51.100.7', '203.0.113.77');
    expect(res.json()).toEqual({ ip: '198.51.100.7' });
    expect((await get('198.51.100.7', '203.0.113.78')).statusCode).toBe(200);
    expect((await get('198.51.100.7', '203.0.113.79')).statusCode).toBe(429);
  });
});

describe('login throttle behind a proxy', () => {
  it('a password sprayer behind the proxy is stopped by its own address; other users of the proxy still sign in', async () => {
    const t = await startTestPlatform('sqlite', { SETTLE_TRUST_PROXY: PROXY });
    try {
      const PW = 'correct horse battery staple';
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'bob@example.com', password: PW } })).statusCode).toBe(201);
      const login = (email: string, password: string, client: string) =>
        t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, remoteAddress: PROXY, headers: { 'x-forwarded-for': client } });
      for (let i = 0; i < 100; i++) expect((await login(`spray${i % 25}@example.com`, 'bad password!', '203.0.113.66')).statusCode).toBe(401);
      expect((await login('spray1@example.com', 'bad password!', '203.0.113.66')).statusCode).toBe(429);
      const bob = await login('bob@example.com', PW, '198.51.100.20');
      expect(bob.statusCode).toBe(200);
      const events = await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events', headers: { authorization: `Bearer ${bob.json<{ token: string }>().token}` } });
      expect(events.json<{ data: Array<{ action: string; ip: string | null }> }>().data.find((e) => e.action === 'login')?.ip).toBe('198.51.100.20');
    } finally {
      await t.close();
    }
  });
});
