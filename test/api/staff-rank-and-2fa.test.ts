// Goal (issue 16, finding 9, part 2): staff controls on people. A restriction or a compliance
// freeze is lifted only by a role at least the imposer's (an agent cannot undo risk's decision);
// staff accounts must have 2FA on (403 staff_2fa_required otherwise) and step up for money and
// account actions (401 step_up_required), not for reads. (Part 1: staff-controls.test.ts.)
// Method: a whole platform (real database, real SMTP), app.inject(); staff turn TOTP on through
// the real flow (/me/totp/setup, /me/totp/enable) and step up with fresh codes.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { auditRows, signUp, staffMember, steppedUpStaff, withSecurityPlatform, type Member } from '../helpers/security-kit.ts';

const window = (now_ms: number) => ({ scope: 'global', starts_at: new Date(now_ms).toISOString(), ends_at: new Date(now_ms + 3600_000).toISOString(), message: 'Database upgrade' });

describe.each(DIALECTS)('staff ranks and 2FA on %s', (dialect) => {
  it('a restriction or a compliance freeze imposed by risk is not lifted by an agent', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const agent = await steppedUpStaff(t, 'agent@settle.test', 'agent');
      const restricted = await signUp(t, 'rex@example.test');
      const frozen = await signUp(t, 'cora@example.test');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${restricted.id}/restrict`, headers: risk.headers, payload: { reason: 'chargebacks' } })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${frozen.id}/freeze`, headers: risk.headers, payload: { reason: 'compliance' } })).statusCode).toBe(200);

      const lift = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${restricted.id}/unfreeze`, headers: agent.headers, payload: { reason: 'looks fine to me' } });
      expect([lift.statusCode, json(lift).code]).toEqual([403, 'imposer_outranks_actor']);
      const unfreeze = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${frozen.id}/unfreeze`, headers: agent.headers, payload: { reason: 'looks fine to me' } });
      expect([unfreeze.statusCode, json(unfreeze).code]).toEqual([403, 'imposer_outranks_actor']);
      const request = json<{ pending_unfreeze_request_id: string | null }>(await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${frozen.id}`, headers: agent.headers }));
      expect(request.pending_unfreeze_request_id).toBeNull();
      const statusOf = async (m: Member) => json<{ user: { status: string } }>(await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${m.id}`, headers: risk.headers })).user.status;
      expect([await statusOf(restricted), await statusOf(frozen)]).toEqual(['restricted', 'frozen']);
      expect((await auditRows(t, 'staff_action_refused')).length).toBe(2);

      // Risk and admin may.
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${restricted.id}/unfreeze`, headers: risk.headers, payload: { reason: 'chargebacks settled' } })).statusCode).toBe(200);
      for (const s of [risk, admin]) expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${frozen.id}/unfreeze`, headers: s.headers, payload: { reason: 'review closed' } })).statusCode).toBe(200);
      expect([await statusOf(restricted), await statusOf(frozen)]).toEqual(['active', 'active']);
    });
  });

  it('staff without 2FA are refused with staff_2fa_required; staff actions need a step-up, reads do not', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const u = await signUp(t, 'sam@example.test');
      const bare = await staffMember(t, 'bare@settle.test', 'risk', { totp: false });
      for (const req of [
        { method: 'GET' as const, url: `/api/v1/admin/users/${u.id}` },
        { method: 'GET' as const, url: '/api/v1/admin/maintenance-windows' },
        { method: 'GET' as const, url: '/api/v1/admin/incidents' },
        { method: 'GET' as const, url: '/api/v1/admin/withdrawals/reviews' },
      ]) {
        const r = await t.app.inject({ ...req, headers: bare.headers });
        expect([r.statusCode, json(r).code], req.url).toEqual([403, 'staff_2fa_required']);
      }
      const risk = await staffMember(t, 'risk@settle.test', 'risk');
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${u.id}`, headers: risk.headers })).statusCode).toBe(200);
      const freeze = () => t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: risk.headers, payload: { reason: 'abnormal_activity' } });
      const before = await freeze();
      expect([before.statusCode, json(before).code]).toEqual([401, 'step_up_required']);
      expect(json<{ factors: string[] }>(before).factors).toEqual(['totp', 'recovery_code']);
      const admin = await staffMember(t, 'admin@settle.test', 'admin');
      const open = await t.app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows', headers: admin.headers, payload: window(t.clock.now_ms()) });
      expect([open.statusCode, json(open).code]).toEqual([401, 'step_up_required']);
      await risk.stepUp();
      expect((await freeze()).statusCode).toBe(200);
    });
  });
});
