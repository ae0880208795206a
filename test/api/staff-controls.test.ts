// Goal (issue 16, finding 9, part 1): staff controls. Every staff route goes through the same
// auth check (a frozen admin opens no maintenance window) and is audited; a withdrawal review at
// or above `four_eyes_above_usd` needs two different approvers; agents do not acknowledge
// reconciliation incidents. (Ranks and 2FA: staff-rank-and-2fa.test.ts.)
// Method: a whole platform with one (never contacted) chain, real database, real SMTP,
// app.inject(); staff turn TOTP on through the real flow; withdrawals stop in review (nothing
// is broadcast: no job is run).
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { newId } from '../../src/shared/ids.ts';
import { PW, WITHDRAW_TO, auditRows, fund, signUp, steppedUpStaff, withSecurityPlatform, type Member } from '../helpers/security-kit.ts';

const window = (now_ms: number) => ({ scope: 'global', starts_at: new Date(now_ms).toISOString(), ends_at: new Date(now_ms + 3600_000).toISOString(), message: 'Database upgrade' });

describe.each(DIALECTS)('staff controls on %s', (dialect) => {
  it('maintenance routes go through the route-auth check (a frozen admin is refused) and are audited', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const frozen = await steppedUpStaff(t, 'frozen-admin@settle.test', 'admin');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: frozen.headers, payload: {} })).statusCode).toBe(200);
      const refused = await t.app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows', headers: frozen.headers, payload: window(t.clock.now_ms()) });
      expect([refused.statusCode, json(refused).code]).toEqual([403, 'account_frozen']);
      expect(json<{ data: unknown[] }>(await t.app.inject({ method: 'GET', url: '/api/v1/announcements' })).data).toEqual([]);

      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const opened = await t.app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows', headers: admin.headers, payload: window(t.clock.now_ms()) });
      expect(opened.statusCode, opened.body).toBe(201);
      const id = json<{ id: string }>(opened).id;
      const ended = await t.app.inject({ method: 'POST', url: `/api/v1/admin/maintenance-windows/${id}/end`, headers: admin.headers });
      expect(ended.statusCode, ended.body).toBe(200);
      expect((await auditRows(t, 'maintenance_window_scheduled')).map((r) => [r.actor_id, r.subject_id])).toEqual([[admin.id, id]]);
      expect((await auditRows(t, 'maintenance_window_ended')).map((r) => [r.actor_id, r.subject_id])).toEqual([[admin.id, id]]);
    });
  });

  it('a withdrawal review above four_eyes_above_usd needs two different approvers; below it one', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const u = await signUp(t, 'wanda@example.test');
      await fund(t, u.id, 'USDT', '500');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: u.headers, payload: { password: PW } })).statusCode).toBe(204);
      const withdraw = async (amount: string, key: string) => {
        const r = await t.app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { ...u.headers, 'idempotency-key': key }, payload: { asset: 'USDT', to_address: WITHDRAW_TO, amount } });
        expect(r.statusCode, r.body).toBe(201);
        expect(json<{ status: string }>(r).status).toBe('review');
        return json<{ id: string }>(r).id;
      };
      const approve = (s: Member, id: string) => t.app.inject({ method: 'POST', url: `/api/v1/admin/withdrawals/${id}/approve`, headers: s.headers, payload: {} });

      const big = await withdraw('60', 'big');
      const first = await approve(risk, big);
      expect(first.statusCode, first.body).toBe(202);
      expect(json<{ status: string }>(first).status).toBe('review');
      const twice = await approve(risk, big);
      expect([twice.statusCode, json(twice).code]).toEqual([409, 'already_approved']);
      const second = await approve(admin, big);
      expect(second.statusCode, second.body).toBe(200);
      expect(json<{ status: string }>(second).status).toBe('requested');
      expect((await auditRows(t, 'withdrawal_review_approved')).map((r) => r.actor_id)).toEqual([risk.id, admin.id]);

      const small = await withdraw('20', 'small');
      const once = await approve(risk, small);
      expect(once.statusCode, once.body).toBe(200);
      expect(json<{ status: string }>(once).status).toBe('requested');
    }, { support: { four_eyes_above_usd: '50' } });
  });

  it('agents do not acknowledge reconciliation incidents; risk does', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const agent = await steppedUpStaff(t, 'agent@settle.test', 'agent');
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const now = t.clock.now_ms();
      const id = newId('rci', now);
      await t.platform.db.kysely.insertInto('reconcile_incidents').values({
        id, key: `test:${id}`, chain_id: 31337, asset: 'USDT', kind: 'hot_wallet_mismatch', subject: 'hot_wallet', expected_minor: 10n, actual_minor: 9n, details: '{}',
        opened_at_ms: now, last_seen_at_ms: now, resolved_at_ms: null, acknowledged_at_ms: null, acknowledged_by: null,
      } as never).execute();
      const byAgent = await t.app.inject({ method: 'POST', url: `/api/v1/admin/incidents/${id}/acknowledge`, headers: agent.headers, payload: {} });
      expect([byAgent.statusCode, json(byAgent).code]).toEqual([403, 'forbidden']);
      const byRisk = await t.app.inject({ method: 'POST', url: `/api/v1/admin/incidents/${id}/acknowledge`, headers: risk.headers, payload: {} });
      expect(byRisk.statusCode, byRisk.body).toBe(200);
      expect((await auditRows(t, 'incident_acknowledged')).map((r) => r.actor_id)).toEqual([risk.id]);
    });
  });

});
