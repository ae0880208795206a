// Goal: maintenance windows block exactly the money-moving routes they cover (503 `maintenance`
// with Retry-After and the message, after authentication and before validation), are announced
// publicly and in /status, end early or on time with outbox events. Method: app.inject() on a
// real database (both dialects) with a money-moving test route behind the real guard.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { buildApp, type App } from '../app.ts';
import { JobRunner } from '../jobs/jobs.ts';
import { headerAuthenticate, testConfig } from '../../test/helpers/payment-testkit.ts';
import { ManualClock } from '../shared/clock.ts';
import { createMaintenance, type Maintenance } from './maintenance.ts';
import { maintenanceRoutes } from './maintenance-routes.ts';
import { announcementRoutes } from './announcement-routes.ts';
import { createAnnouncements } from './announcements.ts';
import { createMetrics } from './metrics.ts';
import { statusRoutes } from './status-routes.ts';

const moneyRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const body = Type.Object({ asset: Type.String(), amount: Type.String({ pattern: '^[0-9]+$' }) }, { additionalProperties: false });
  app.post('/move-chain', { config: { moneyMoving: 'chain', idempotent: true }, schema: { body } }, async () => ({ ok: true }));
  app.post('/move-internal', { config: { moneyMoving: 'global', idempotent: true }, schema: { body } }, async () => ({ ok: true }));
};

describe.each(DIALECTS)('maintenance windows on %s', (dialect) => {
  let t: TestDb;
  let app: App;
  let maintenance: Maintenance;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 1));
  const admin = { 'x-test-user': 'usr_admin:admin' };
  const user = { 'x-test-user': 'usr_a' };
  beforeEach(async () => {
    t = await openTestDb(dialect);
    const config = testConfig();
    maintenance = createMaintenance({ db: t.db, clock, config });
    app = await buildApp({
      config,
      db: t.db,
      clock,
      metrics: createMetrics(false),
      authenticate: headerAuthenticate,
      routes: [
        maintenance.guard(),
        { name: 'maintenance', plugin: maintenanceRoutes({ maintenance, clock }) },
        { name: 'announcements', plugin: announcementRoutes({ announcements: createAnnouncements({ db: t.db, clock, config }), maintenance, clock, config }) },
        { name: 'status', plugin: statusRoutes({ config, clock, maintenance, chainStatus: async () => [{ chain_id: 31337, head: 120, lag_blocks: 2, block_time_s: 2 }] }) },
        { name: 'money', plugin: moneyRoutes },
      ],
    });
  });
  afterEach(async () => {
    await app.close();
    await t.cleanup();
  });

  const move = (url: string, payload: unknown, key: string) => app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...user, 'idempotency-key': key }, payload: payload as object });
  const schedule = (payload: Record<string, unknown>, headers: Record<string, string> = admin) => app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows', headers, payload });

  it('lets only admins schedule, and refuses bad windows', async () => {
    const ok = { scope: 'global', starts_at: new Date(clock.now_ms()).toISOString(), ends_at: new Date(clock.now_ms() + 600_000).toISOString(), message: 'Database upgrade' };
    expect((await schedule(ok, {})).statusCode).toBe(401);
    expect((await schedule(ok, user)).statusCode).toBe(403);
    expect((await schedule(ok, { 'x-test-user': 'usr_agent:agent' })).statusCode).toBe(403);
    expect((await schedule({ ...ok, scope: 'chain:999' })).json().code).toBe('window_unknown_chain');
    expect((await schedule({ ...ok, scope: 'planet' })).json().code).toBe('window_scope_invalid');
    expect((await schedule({ ...ok, ends_at: ok.starts_at })).json().code).toBe('window_ends_before_start');
    expect((await schedule({ ...ok, starts_at: 'tomorrow' })).statusCode).toBe(400);
    expect((await schedule({ ...ok, extra: 1 })).statusCode).toBe(400);
    const created = await schedule(ok);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ scope: 'global', active: true, message: 'Database upgrade' });
    expect((await app.inject({ url: '/api/v1/admin/maintenance-windows', headers: user })).statusCode).toBe(403);
    expect((await app.inject({ url: '/api/v1/admin/maintenance-windows', headers: { 'x-test-user': 'usr_agent:agent' } })).json().data).toHaveLength(1);
  });

  it('answers 503 with Retry-After during a global window, before validation, after authentication', async () => {
    await schedule({ scope: 'global', starts_at: new Date(clock.now_ms() - 1000).toISOString(), ends_at: new Date(clock.now_ms() + 90_500).toISOString(), message: 'Database upgrade', message_zh: '数据库升级' });
    const res = await move('/move-internal', { asset: 'USDT', amount: 'not a number' }, 'k1');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('91');
    expect(res.json()).toMatchObject({ code: 'maintenance', detail: 'Database upgrade' });
    const zh = await app.inject({ method: 'POST', url: '/api/v1/move-chain', headers: { ...user, 'x-test-locale': 'zh-CN', 'idempotency-key': 'k2' }, payload: { asset: 'USDT', amount: '1' } });
    expect(zh.json().detail).toBe('数据库升级');
    const anon = await app.inject({ method: 'POST', url: '/api/v1/move-internal', payload: { asset: 'USDT', amount: '1' } });
    expect(anon.statusCode).toBe(401);

    const status = (await app.inject({ url: '/api/v1/status' })).json();
    expect(status.status).toBe('maintenance');
    expect(status.chains).toEqual([{ chain_id: 31337, name: 'Dev chain', head: 120, lag_blocks: 2, block_time_s: 2, maintenance: false, deposits: 'maintenance', withdrawals: 'maintenance', confirmation_time_s: { p50: null, p95: null }, backlog: { deposits_confirming: 0, withdrawals_queued: 0 } }]);
    expect(status.maintenance).toHaveLength(1);
    const ann = (await app.inject({ url: '/api/v1/announcements', headers: { 'accept-language': 'zh-CN' } })).json();
    expect(ann.data[0]).toMatchObject({ kind: 'maintenance', active: true, message: '数据库升级', messages: { en: 'Database upgrade', 'zh-CN': '数据库升级' } });

    clock.advance(91_000);
    expect((await move('/move-internal', { asset: 'USDT', amount: '1' }, 'k3')).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/status' })).json().status).toBe('operational');
  });

  it('blocks only the chain routes of that chain during a chain window, and ends early', async () => {
    const w = (await schedule({ scope: 'chain:31337', starts_at: new Date(clock.now_ms()).toISOString(), ends_at: new Date(clock.now_ms() + 3600_000).toISOString(), message: 'Node upgrade' })).json();
    expect((await move('/move-chain', { asset: 'USDT', amount: '1' }, 'c1')).statusCode).toBe(503);
    expect((await move('/move-chain', { asset: 'BTC', amount: '1' }, 'c2')).statusCode).toBe(200);
    expect((await move('/move-internal', { asset: 'USDT', amount: '1' }, 'c3')).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/status' })).json()).toMatchObject({ status: 'degraded', chains: [{ maintenance: true }] });

    expect((await app.inject({ method: 'POST', url: `/api/v1/admin/maintenance-windows/${w.id}/end`, headers: user })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows/mw_nope/end', headers: admin })).statusCode).toBe(404);
    const ended = await app.inject({ method: 'POST', url: `/api/v1/admin/maintenance-windows/${w.id}/end`, headers: admin });
    expect(ended.json()).toMatchObject({ active: false, ended_early: true });
    expect((await move('/move-chain', { asset: 'USDT', amount: '1' }, 'c4')).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/announcements' })).json().data).toHaveLength(0);
    const types = (await t.db.kysely.selectFrom('outbox_events').select('type').orderBy('seq').execute()).map((e) => e.type);
    expect(types).toEqual(['maintenance.scheduled', 'maintenance.ended']);
  });

  it('announces start and planned end through durable jobs', async () => {
    const runner = new JobRunner(t.db, { clock, poll_ms: 10 });
    maintenance.registerJobs(runner);
    const w = await maintenance.schedule({ scope: 'global', starts_at_ms: clock.now_ms() + 1000, ends_at_ms: clock.now_ms() + 5000, message: 'm' }, 'usr_admin');
    expect(w.ok).toBe(true);
    clock.advance(1000);
    await runner.tick();
    clock.advance(4000);
    await runner.tick();
    const types = (await t.db.kysely.selectFrom('outbox_events').select('type').orderBy('seq').execute()).map((e) => e.type);
    expect(types).toEqual(['maintenance.scheduled', 'maintenance.started', 'maintenance.ended']);
  });
});
