// Goal: staff — and only staff, on a session — list open incidents of both kinds (chain and
// reconciliation) and acknowledge them; an acknowledgement is audited, is done once (409 after),
// and takes the incident off the open list; bad input is refused with a problem.
// Method: app.inject() on the real routes over a real database (both dialects); incidents are
// rows as the scanner and the reconciler write them; principals from the test header.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { buildApp, type App } from '../../app.ts';
import { createMetrics } from '../../ops/metrics.ts';
import { ManualClock } from '../../shared/clock.ts';
import { headerAuthenticate, testConfig } from '../../../test/helpers/payment-testkit.ts';
import { incidentRoutes } from './reconcile-routes.ts';
import { upsertOpenIncident } from './reconcile-store.ts';

describe.each(DIALECTS)('incident routes on %s', (dialect) => {
  let t: TestDb;
  let app: App;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 2));
  beforeEach(async () => {
    t = await openTestDb(dialect);
    app = await buildApp({ config: testConfig(), db: t.db, clock, metrics: createMetrics(false), authenticate: headerAuthenticate, routes: [{ name: 'incidents', plugin: incidentRoutes({ db: t.db, clock }) }] });
    await upsertOpenIncident(t.db.kysely, { id: 'rin_1', key: 'address_balance:31337:USDT:0xabc', chain_id: 31337, asset: 'USDT', kind: 'unrecorded_coins', subject: '0xabc', expected_minor: 0n, actual_minor: 42n, details: JSON.stringify({ message: '0xabc holds 42 USDT' }), opened_at_ms: clock.now_ms() });
    await t.db.kysely.insertInto('chain_incidents').values({ id: 'inc_1', chain_id: 31337, kind: 'deposit_reversed', subject_type: 'deposit', subject_id: 'dep_1', details: '{"depth":20}', created_at_ms: clock.now_ms() + 1, acknowledged_at_ms: null, acknowledged_by: null }).execute();
  });
  afterEach(async () => {
    await app.close();
    await t.cleanup();
  });

  const list = (h: Record<string, string>, query = '') => app.inject({ method: 'GET', url: `/api/v1/admin/incidents${query}`, headers: h });
  const ack = (id: string, h: Record<string, string>, payload: object = {}) => app.inject({ method: 'POST', url: `/api/v1/admin/incidents/${id}/acknowledge`, headers: h, payload });

  it('lists both kinds to each staff role and refuses everyone else', async () => {
    for (const role of ['agent', 'risk', 'admin']) {
      const r = await list({ 'x-test-user': `usr_${role}:${role}` });
      expect(r.statusCode).toBe(200);
      expect(r.json().data).toEqual([
        expect.objectContaining({ id: 'rin_1', source: 'reconcile', kind: 'unrecorded_coins', chain_id: 31337, asset: 'USDT', subject: '0xabc', expected_minor: '0', actual_minor: '42', details: { message: '0xabc holds 42 USDT' }, acknowledged_at: null }),
        expect.objectContaining({ id: 'inc_1', source: 'chain', kind: 'deposit_reversed', subject: 'deposit:dep_1', details: { depth: 20 } }),
      ]);
    }
    expect((await list({})).statusCode).toBe(401);
    expect((await list({ 'x-test-user': 'usr_a' })).statusCode).toBe(403);
    expect((await list({ 'x-test-user': 'usr_m:merchant' })).statusCode).toBe(403);
    // A staff member's API key is not a session: refused like any key on staff routes.
    expect((await list({ 'x-test-user': 'usr_admin:admin:read' })).statusCode).toBe(403);
    expect((await ack('rin_1', { 'x-test-user': 'usr_a' })).statusCode).toBe(403);
    expect((await ack('rin_1', {})).statusCode).toBe(401);
  });

  it('acknowledges once, audited, and the incident leaves the open list', async () => {
    const staff = { 'x-test-user': 'usr_risk:risk' };
    const r = await ack('rin_1', staff, { note: 'looking into it' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'rin_1', acknowledged: true });
    expect((await ack('rin_1', staff)).statusCode).toBe(409);
    expect((await ack('inc_1', staff)).statusCode).toBe(200);
    expect((await list(staff)).json().data).toEqual([]);
    const audit = await t.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'incident_acknowledged').orderBy('subject_id').execute();
    expect(audit.map((a) => [a.subject_id, a.actor_id, a.actor_type])).toEqual([['inc_1', 'usr_risk', 'staff'], ['rin_1', 'usr_risk', 'staff']]);
    expect(JSON.parse(audit[1]!.details)).toEqual({ note: 'looking into it' });
    const row = await t.db.kysely.selectFrom('chain_incidents').select(['acknowledged_by']).where('id', '=', 'inc_1').executeTakeFirstOrThrow();
    expect(row.acknowledged_by).toBe('usr_risk');
  });

  it('refuses bad input with a problem', async () => {
    const staff = { 'x-test-user': 'usr_admin:admin' };
    expect((await ack('nope', staff)).statusCode).toBe(404);
    expect((await list(staff, '?limit=0')).statusCode).toBe(400);
    expect((await list(staff, '?limit=abc')).statusCode).toBe(400);
    expect((await list(staff, '?other=1')).statusCode).toBe(400);
    const extra = await ack('rin_1', staff, { note: 'x', unexpected: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.headers['content-type']).toMatch(/problem\+json/);
    expect((await ack('x'.repeat(81), staff)).statusCode).toBe(400);
  });
});
