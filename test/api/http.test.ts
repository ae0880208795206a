// Goal: the HTTP shell keeps the public contract for every route — clear problem+json errors
// for malformed JSON, oversize bodies, wrong content types, unknown routes and invalid input
// (never a 5xx), in the caller's language (en, zh-CN), request ids, security headers, health,
// readiness, metrics (behind a token; test/api/ops-endpoints.test.ts), OpenAPI 3.1, /docs and per-caller rate limits.
// Method: buildApp over a real migrated SQLite database with test-only route plugins, driven by
// app.inject(); a ManualClock so that rate-limit buckets do not refill while the test runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

const BODY_MAX = 4096;
const METRICS_TOKEN = 'metrics-token-of-the-http-shell-test';

function testConfig(dir: string, patch: Partial<Config> = {}): Config {
  const base = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_METRICS_TOKEN: METRICS_TOKEN }, dir);
  return { ...base, limits: { ...base.limits, body_bytes_max: BODY_MAX }, ...patch };
}

const things: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    '/things',
    {
      schema: {
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 40 }), count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ name: Type.String(), count: Type.Integer() }) },
      },
    },
    async (req, reply) => reply.code(201).send({ name: req.body.name, count: req.body.count }),
  );
  r.get('/boom', { schema: { response: { 200: Type.Object({}) } } }, async () => {
    throw new Error('Unexpected token in JSON at position 3 (a bug of ours, not the client)');
  });
};

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string): Record<string, unknown> {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  for (const field of ['type', 'title', 'detail']) expect(typeof body[field]).toBe('string');
  expect(body.type).toBe(`https://settle.dev/problems/${code.replace(/_/g, '-')}`);
  expect(res.headers['x-request-id']).toBeTruthy();
  return body;
}

describe('HTTP shell', () => {
  let t: TestDb;
  let dir: string;
  let app: App;
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await openTestDb('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'settle-http-'));
    app = await buildApp({ config: testConfig(dir), db: t.db, clock, metrics: createMetrics(false), routes: [{ name: 'things', plugin: things }] });
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (payload: string, contentType = 'application/json', url = '/api/v1/things') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });

  it('accepts a valid body and answers with the response schema', async () => {
    const res = await post(JSON.stringify({ name: 'a', count: 2 }));
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'a', count: 2 });
  });

  it('malformed JSON -> 400 malformed_body', async () => {
    expectProblem(await post('{"name": "a", '), 400, 'malformed_body');
    expectProblem(await post('not json at all'), 400, 'malformed_body');
    expectProblem(await post(''), 400, 'malformed_body');
    // Prototype poisoning is refused as malformed, not silently accepted.
    expectProblem(await post('{"name":"a","count":1,"__proto__":{"admin":true}}'), 400, 'malformed_body');
  });

  it('oversize body -> 413 body_too_large', async () => {
    const big = JSON.stringify({ name: 'a', count: 1, pad: 'x'.repeat(BODY_MAX) });
    expectProblem(await post(big), 413, 'body_too_large');
  });

  it('wrong content type -> 415 unsupported_media_type', async () => {
    expectProblem(await post('name=a', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    expectProblem(await post('{"name":"a","count":1}', 'text/plain'), 415, 'unsupported_media_type');
    expectProblem(await post('<a/>', 'application/xml'), 415, 'unsupported_media_type');
  });

  it('unknown route -> 404 route_not_found (also for a known path with another method)', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' }), 404, 'route_not_found');
    expect(body.detail).toContain('GET /api/v1/nothing-here');
    expectProblem(await app.inject({ method: 'DELETE', url: '/api/v1/things' }), 404, 'route_not_found');
  });

  it('a URL with broken percent-encoding -> 400 malformed_url', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/things/%zz', headers: { 'x-request-id': 'trace-url' } });
    expectProblem(res, 400, 'malformed_url');
    expect(res.headers['x-request-id']).toBe('trace-url');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('invalid input -> 400 validation_failed naming the field', async () => {
    const body = expectProblem(await post(JSON.stringify({ name: '', count: 1 })), 400, 'validation_failed');
    expect(String(body.detail)).toContain('/name');
    expect(Array.isArray(body.errors)).toBe(true);
    expectProblem(await post(JSON.stringify({ name: 'a' })), 400, 'validation_failed');
    expectProblem(await post(JSON.stringify({ name: 'a', count: 1, extra: true })), 400, 'validation_failed');
    expectProblem(await post(JSON.stringify([1, 2])), 400, 'validation_failed');
  });

  it('speaks the caller\'s language: zh-CN title and detail (English detail kept), en by default', async () => {
    const zh = await app.inject({ method: 'POST', url: '/api/v1/things', headers: { 'content-type': 'application/json', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' }, payload: JSON.stringify({ name: '', count: 1 }) });
    const body = expectProblem(zh, 400, 'validation_failed');
    expect(zh.headers['content-language']).toBe('zh-CN');
    expect(body).toMatchObject({ title: '请求无效', detail: '请求中有字段不符合要求，详见 errors 列表。' });
    expect(String(body.detail_en)).toContain('/name');
    const missing = expectProblem(await app.inject({ method: 'GET', url: '/api/v1/nowhere', headers: { 'accept-language': 'zh' } }), 404, 'route_not_found');
    expect(missing).toMatchObject({ title: '接口不存在', instance: '/api/v1/nowhere' });
    const en = await post(JSON.stringify({ name: '' }));
    expect(en.headers['content-language']).toBe('en');
    expect(expectProblem(en, 400, 'validation_failed')).toMatchObject({ title: 'Invalid request' });
    expect(en.json()).not.toHaveProperty('detail_en');
  });

  it('a bug is a 500 internal that reveals nothing, even when its message mentions JSON', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: '/api/v1/boom' }), 500, 'internal');
    expect(JSON.stringify(body)).not.toContain('Unexpected token');
  });

  it('generates a request id, echoes a valid client one and replaces an invalid one', async () => {
    const gen = await app.inject({ method: 'GET', url: '/healthz' });
    expect(gen.headers['x-request-id']).toMatch(/^req_[0-9a-z]{20,}$/);
    const other = await app.inject({ method: 'GET', url: '/healthz' });
    expect(other.headers['x-request-id']).not.toBe(gen.headers['x-request-id']);
    const mine = 'client-Abc.123:/~!';
    expect((await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': mine } })).headers['x-request-id']).toBe(mine);
    const longest = 'x'.repeat(128);
    expect((await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': longest } })).headers['x-request-id']).toBe(longest);
    for (const bad of ['x'.repeat(129), 'has space', 'tab\there', 'ünïcode']) {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toMatch(/^req_/);
    }
    // Also on errors and unknown routes.
    const nf = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: { 'x-request-id': 'trace-1' } });
    expect(nf.headers['x-request-id']).toBe('trace-1');
    const bad = await app.inject({ method: 'POST', url: '/api/v1/things', headers: { 'content-type': 'application/json', 'x-request-id': 'trace-2' }, payload: '{' });
    expect(bad.headers['x-request-id']).toBe('trace-2');
  });

  it('sets security headers on every response, and no-store on API JSON', async () => {
    for (const url of ['/healthz', '/api/v1/openapi.json', '/api/v1/nope']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).headers['cache-control']).toBe('no-store');
  });

  it('/healthz answers alive and /readyz ready on a migrated database', async () => {
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok' });
    const r = await app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready' });
  });

  it('/metrics serves Prometheus text that counts requests (with the metrics token)', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE settle_http_requests_total counter');
    expect(res.body).toMatch(/settle_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(res.body).toContain('settle_http_request_duration_seconds_bucket');
  });

  it('/api/v1/openapi.json is OpenAPI 3.1 generated from the route schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; info: { title: string }; paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Settle API');
    expect(doc.paths['/api/v1/things']?.post?.requestBody).toBeTruthy();
    expect(doc.paths['/api/v1/things']?.post?.responses?.['201']).toBeTruthy();
    expect(doc.paths['/healthz']).toBeUndefined(); // operational routes are hidden
  });

  it('/docs serves an HTML page', async () => {
    let res = await app.inject({ method: 'GET', url: '/docs' });
    if (res.statusCode >= 300 && res.statusCode < 400) res = await app.inject({ method: 'GET', url: String(res.headers.location) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body.toLowerCase()).toContain('swagger');
  });
});

describe('readiness and rate limits', () => {
  it('limits API calls per caller: burst, then 429 rate_limited with Retry-After; refills with time', async () => {
    const t = await openTestDb('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'settle-http-'));
    const clock = new ManualClock();
    const app = await buildApp({
      config: testConfig(dir, { rate_limit: { per_second: 0.5, burst: 3 } }),
      db: t.db,
      clock,
      metrics: createMetrics(false),
      authenticate: async (req) => {
        const user = req.headers['x-test-user'];
        return typeof user === 'string' ? { kind: 'session', user_id: user, email: `${user}@example.test`, roles: ['user'], status: 'active', locale: 'en', session_id: 's', api_key_id: null, scopes: null, privileged_until_ms: null } : null;
      },
    });
    try {
      const call = (user?: string) => app.inject({ method: 'GET', url: '/api/v1/openapi.json', headers: user ? { 'x-test-user': user } : {} });
      for (let i = 0; i < 3; i++) expect((await call('u1')).statusCode).toBe(200);
      const limited = await call('u1');
      const body = expectProblem(limited, 429, 'rate_limited');
      expect(limited.headers['retry-after']).toBe('2');
      expect(body.retry_after_s).toBe(2);
      // Another caller (another user, or anonymous by IP) has its own bucket.
      expect((await call('u2')).statusCode).toBe(200);
      expect((await call()).statusCode).toBe(200);
      // Health checks are never limited.
      expect((await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-test-user': 'u1' } })).statusCode).toBe(200);
      clock.advance(2000);
      expect((await call('u1')).statusCode).toBe(200);
      expect((await call('u1')).statusCode).toBe(429);
    } finally {
      await app.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
