// Goal: money-moving routes have Stripe's idempotency semantics (API.md "Details that clients
// rely on") — key required; same key + same body replays the stored answer with
// `Idempotent-Replayed: true`; other body -> 422; while in flight -> 409; 4xx results stored,
// 400 validation errors and 5xx not; scoped per caller; kept 24 h; a crashed request's lock is
// taken over after its lock time.
// Method: buildApp over real SQLite and PostgreSQL databases, a test-only idempotent route that
// counts how often its handler really ran, a test authenticate hook (x-test-user header), a
// ManualClock for the 24 h and lock expiries, app.inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { IDEMPOTENCY_LOCK_MS, IDEMPOTENCY_TTL_MS, purgeExpiredIdempotencyKeys, requestHash } from '../../src/http/idempotency.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { ProblemError, problems } from '../../src/shared/errors.ts';
import type { Principal } from '../../src/shared/principal.ts';
import { DIALECTS, openTestDb, type TestDb } from '../helpers/db.ts';

const PayBody = Type.Object(
  { amount: Type.String({ pattern: '^[0-9]+$' }), to: Type.String({ minLength: 1 }), behave: Type.Optional(Type.Union([Type.Literal('slow'), Type.Literal('poor'), Type.Literal('crash'), Type.Literal('invalid'), Type.Literal('stepup')])) },
  { additionalProperties: false },
);

function principal(user_id: string): Principal {
  return { kind: 'session', user_id, email: `${user_id}@example.test`, roles: ['user'], status: 'active', locale: 'en', session_id: `s-${user_id}`, api_key_id: null, scopes: null, privileged_until_ms: null };
}

describe.each(DIALECTS)('idempotency on %s', (dialect) => {
  let t: TestDb;
  let dir: string;
  let app: App;
  const clock = new ManualClock();
  let ran = 0;
  let steppedUp = false;
  let gate: Promise<void> = Promise.resolve();
  let entered: () => void = () => undefined;

  const pay: FastifyPluginAsync = async (instance) => {
    const r = instance.withTypeProvider<TypeBoxTypeProvider>();
    r.post(
      '/pay',
      { config: { idempotent: true }, schema: { body: PayBody, response: { 201: Type.Object({ payment: Type.Integer(), amount: Type.String(), to: Type.String() }) } } },
      async (req, reply) => {
        ran++;
        const n = ran;
        if (req.body.behave === 'slow') {
          entered();
          await gate;
        }
        if (req.body.behave === 'poor') throw new ProblemError(422, 'insufficient_funds', 'Not enough funds.');
        if (req.body.behave === 'crash') throw new Error('database went away');
        if (req.body.behave === 'invalid') throw problems.validation('The recipient is not valid.');
        if (req.body.behave === 'stepup' && !steppedUp) throw new ProblemError(401, 'step_up_required', 'Confirm it is you first.');
        return reply.code(201).send({ payment: n, amount: req.body.amount, to: req.body.to });
      },
    );
  };

  const send = (key: string | undefined, body: Record<string, unknown>, user = 'u1') =>
    app.inject({ method: 'POST', url: '/api/v1/pay', headers: { 'content-type': 'application/json', 'x-test-user': user, ...(key === undefined ? {} : { 'idempotency-key': key }) }, payload: JSON.stringify(body) });

  beforeAll(async () => {
    t = await openTestDb(dialect);
    dir = mkdtempSync(join(tmpdir(), 'settle-idem-'));
    app = await buildApp({
      config: loadConfig({ SETTLE_DATA_DIR: dir }, dir),
      db: t.db,
      clock,
      metrics: createMetrics(false),
      authenticate: async (req) => (typeof req.headers['x-test-user'] === 'string' ? principal(req.headers['x-test-user']) : null),
      routes: [{ name: 'pay', plugin: pay }],
    });
  });
  beforeEach(() => {
    ran = 0;
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('requires an Idempotency-Key, and a sane one', async () => {
    const res = await send(undefined, { amount: '1', to: 'bob' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'idempotency_key_required' });
    expect((await send('', { amount: '1', to: 'bob' })).json()).toMatchObject({ code: 'idempotency_key_invalid' });
    expect((await send('k'.repeat(256), { amount: '1', to: 'bob' })).json()).toMatchObject({ code: 'idempotency_key_invalid' });
    expect(ran).toBe(0);
  });

  it('replays the stored answer for the same key and body, marked Idempotent-Replayed only then', async () => {
    const first = await send('k-replay', { amount: '10', to: 'bob' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with the keys in another order is the same request.
    const again = await app.inject({ method: 'POST', url: '/api/v1/pay', headers: { 'content-type': 'application/json', 'x-test-user': 'u1', 'idempotency-key': 'k-replay' }, payload: '{"to":"bob","amount":"10"}' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(ran).toBe(1);
  });

  it('refuses the same key with another body: 422 idempotency_key_reused, not stored over the first', async () => {
    await send('k-reuse', { amount: '10', to: 'bob' });
    const other = await send('k-reuse', { amount: '11', to: 'bob' });
    expect(other.statusCode).toBe(422);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.json()).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect((await send('k-reuse', { amount: '10', to: 'bob' })).headers['idempotent-replayed']).toBe('true');
    expect(ran).toBe(1);
  });

  it('answers 409 idempotency_key_in_use while the first request is in flight, and replays it after', async () => {
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const inside = new Promise<void>((r) => (entered = r));
    const first = send('k-flight', { amount: '5', to: 'bob', behave: 'slow' });
    await inside;
    const second = await send('k-flight', { amount: '5', to: 'bob', behave: 'slow' });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'idempotency_key_in_use' });
    expect(second.headers['retry-after']).toBe('1');
    release();
    const done = await first;
    expect(done.statusCode).toBe(201);
    const third = await send('k-flight', { amount: '5', to: 'bob', behave: 'slow' });
    expect(third.statusCode).toBe(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.json()).toEqual(done.json());
    expect(ran).toBe(1);
    gate = Promise.resolve();
  });

  it('stores and replays 4xx results', async () => {
    const first = await send('k-poor', { amount: '999', to: 'bob', behave: 'poor' });
    expect(first.statusCode).toBe(422);
    expect(first.json()).toMatchObject({ code: 'insufficient_funds' });
    const again = await send('k-poor', { amount: '999', to: 'bob', behave: 'poor' });
    expect(again.statusCode).toBe(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json()).toEqual(first.json());
    expect(ran).toBe(1);
  });

  it('does not store 400 validation errors: the key stays free for the corrected request', async () => {
    // Refused by the schema (the handler never runs) …
    expect((await send('k-valid', { amount: 'ten', to: 'bob' })).json()).toMatchObject({ status: 400, code: 'validation_failed' });
    // … or by the handler's own validation.
    expect((await send('k-valid', { amount: '10', to: 'bob', behave: 'invalid' })).json()).toMatchObject({ status: 400, code: 'validation_failed' });
    const ok = await send('k-valid', { amount: '10', to: 'bob' });
    expect(ok.statusCode).toBe(201);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
  });

  it('does not store 401 (step-up missing): after confirming, the same key runs the request', async () => {
    steppedUp = false;
    expect((await send('k-step', { amount: '5', to: 'bob', behave: 'stepup' })).json()).toMatchObject({ status: 401, code: 'step_up_required' });
    steppedUp = true;
    const ok = await send('k-step', { amount: '5', to: 'bob', behave: 'stepup' });
    expect(ok.statusCode).toBe(201);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
    const again = await send('k-step', { amount: '5', to: 'bob', behave: 'stepup' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(ran).toBe(2);
  });

  it('does not store 5xx: the key is released so that a retry runs again', async () => {
    expect((await send('k-crash', { amount: '1', to: 'bob', behave: 'crash' })).statusCode).toBe(500);
    expect((await send('k-crash', { amount: '1', to: 'bob', behave: 'crash' })).statusCode).toBe(500);
    expect(ran).toBe(2);
  });

  it('scopes keys per caller: two callers with the same key are independent', async () => {
    const a = await send('k-shared', { amount: '1', to: 'x' }, 'alice');
    const b = await send('k-shared', { amount: '2', to: 'y' }, 'bob');
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json()).toMatchObject({ amount: '2', to: 'y' });
    expect((await send('k-shared', { amount: '1', to: 'x' }, 'alice')).headers['idempotent-replayed']).toBe('true');
    expect(ran).toBe(2);
  });

  it('keeps a key for 24 h, then forgets it', async () => {
    const first = await send('k-expiry', { amount: '3', to: 'bob' });
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    const replay = await send('k-expiry', { amount: '3', to: 'bob' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    clock.advance(1);
    // Expired: the same key is a new request now, even with another body.
    const fresh = await send('k-expiry', { amount: '4', to: 'bob' });
    expect(fresh.statusCode).toBe(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(ran).toBe(2);
    // The hourly purge removes expired keys and only those.
    await send('k-purge', { amount: '1', to: 'bob' });
    clock.advance(IDEMPOTENCY_TTL_MS + 1);
    expect(await purgeExpiredIdempotencyKeys(t.db, clock.now_ms())).toBeGreaterThanOrEqual(2);
    const left = await t.db.kysely.selectFrom('idempotency_keys').select('key').where('key', 'in', ['k-expiry', 'k-purge']).execute();
    expect(left).toEqual([]);
  });

  it("takes over a crashed request's lock once its lock time has passed, not before", async () => {
    const body = { amount: '7', to: 'bob' };
    const now = clock.now_ms();
    await t.db.kysely
      .insertInto('idempotency_keys')
      .values({ scope: 'user:u1', key: 'k-crashed', request_hash: requestHash('POST', '/api/v1/pay', {}, body), state: 'in_flight', response_status: null, response_body: null, locked_until_ms: now + IDEMPOTENCY_LOCK_MS, created_at_ms: now, expires_at_ms: now + IDEMPOTENCY_TTL_MS })
      .execute();
    expect((await send('k-crashed', body)).json()).toMatchObject({ code: 'idempotency_key_in_use' });
    clock.advance(IDEMPOTENCY_LOCK_MS + 1);
    const res = await send('k-crashed', body);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect((await send('k-crashed', body)).headers['idempotent-replayed']).toBe('true');
    expect(ran).toBe(1);
  });
});
