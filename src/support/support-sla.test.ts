// Goal: every case carries SLA due times on the business calendar (Asia/Shanghai, Mon–Fri
// 09:00–18:00 by default), the customer sees expected_reply_by, the clock pauses while waiting on
// the customer, a breach is recorded once with the priority raised and case.sla_breached fired,
// and only admins change the calendar and policies. Method: the real platform (both dialects), a
// ManualClock (2026-01-01 12:00 UTC is Thursday 20:00 in Shanghai, after hours), the breach
// worker run one tick at a time.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { login, signedIn, staff, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import type { CaseDto } from './support.ts';

describe.each(DIALECTS)('support SLA on %s', (dialect) => {
  it('computes due times on business hours, pauses, records a breach once, and lets only admins change settings', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const c = json<CaseDto>(await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(a.token), payload: { subject: 'Help', body: 'please' } }));
      // Opened Thursday 20:00 Shanghai: the 60 business minutes of the web policy run Friday 09:00–10:00.
      expect(c.sla).toMatchObject({ policy: 'web:normal', first_response_due_at: '2026-01-02T02:00:00.000Z', paused: false });
      expect(c.expected_reply_by).toBe('2026-01-02T02:00:00.000Z');

      t.clock.set(Date.UTC(2026, 0, 2, 2, 1));
      expect(await t.platform.supportFollowers!.breachTick()).toBe(1);
      expect(await t.platform.supportFollowers!.breachTick()).toBe(0);
      // A day later the first session has expired: sign in again.
      const token = json<{ token: string }>(await login(t, 'a@example.com')).token;
      const breached = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${c.id}`, headers: bearer(token) }));
      expect(breached.priority).toBe('high');
      expect(breached.sla.breached.map((b) => b.kind)).toEqual(['first_response']);
      const events = await t.platform.db.kysely.selectFrom('outbox_events').select('type').where('aggregate_id', '=', c.id).where('type', '=', 'case.sla_breached').execute();
      expect(events).toHaveLength(1);

      const agent = await staff(t, 'agent@example.com', 'agent');
      const paused = json<CaseDto>(await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/status`, headers: bearer(agent.token), payload: { status: 'pending_customer' } }));
      expect(paused.sla.paused).toBe(true);
      expect(paused.expected_reply_by).toBeNull();

      const cal = { time_zone: 'Europe/Berlin', hours: { mon: [['08:00', '17:00']] }, holidays: ['2026-12-24'] };
      expect((await t.app.inject({ method: 'PUT', url: '/api/v1/admin/support/calendar', headers: bearer(agent.token), payload: cal })).statusCode).toBe(403);
      const admin = await staff(t, 'admin@example.com', 'admin');
      expect((await t.app.inject({ method: 'PUT', url: '/api/v1/admin/support/calendar', headers: bearer(admin.token), payload: { ...cal, time_zone: 'Mars/Olympus' } })).statusCode).toBe(422);
      expect((await t.app.inject({ method: 'PUT', url: '/api/v1/admin/support/calendar', headers: bearer(admin.token), payload: cal })).statusCode).toBe(200);
      expect(json(await t.app.inject({ url: '/api/v1/admin/support/calendar', headers: bearer(agent.token) }))).toMatchObject({ time_zone: 'Europe/Berlin' });
      const put = await t.app.inject({ method: 'PUT', url: '/api/v1/admin/support/sla-policies', headers: bearer(admin.token), payload: { policies: [{ channel: 'chat', priority: 'urgent', first_response_min: 2, next_response_min: 2, resolution_min: 60 }] } });
      expect(put.statusCode).toBe(200);
      const policies = json<{ policies: Array<{ channel: string; priority: string; first_response_min: number }> }>(put).policies;
      expect(policies).toHaveLength(24);
      expect(policies.find((p) => p.channel === 'chat' && p.priority === 'urgent')!.first_response_min).toBe(2);
      expect(policies.find((p) => p.channel === 'email' && p.priority === 'normal')!.first_response_min).toBe(240);
    });
  });
});
