// Goal (issue 16, finding 8): a restriction survives freezes and unfreezes; only its own lift
// ends it. Before the fix, a restricted user froze their own account, asked to be unfrozen and
// came back `active`; a frozen account could not be restricted at all.
// Method: a whole platform per test (real database, real SMTP), app.inject(), staff with TOTP.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { signUp, steppedUpStaff, withSecurityPlatform } from '../helpers/security-kit.ts';

describe.each(DIALECTS)('a restriction and freezes on %s', (dialect) => {
  it('a restricted account that freezes itself comes back restricted from the unfreeze, and only the restriction\'s lift makes it active', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const u = await signUp(t, 'rita@example.test');
      const status = async () => json<{ status: string }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: u.headers })).status;
      const restrict = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: risk.headers, payload: { reason: 'chargeback investigation' } });
      expect(restrict.statusCode, restrict.body).toBe(200);
      expect(await status()).toBe('restricted');

      const freeze = await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: u.headers, payload: {} });
      expect(freeze.statusCode, freeze.body).toBe(200);
      expect(await status()).toBe('frozen');
      const unfreeze = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: risk.headers, payload: { reason: 'the user froze it by mistake' } });
      expect(unfreeze.statusCode, unfreeze.body).toBe(200);
      expect(json<{ user: { status: string } }>(unfreeze).user.status).toBe('restricted');
      expect(await status()).toBe('restricted');

      const lift = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: risk.headers, payload: { reason: 'investigation closed' } });
      expect(lift.statusCode, lift.body).toBe(200);
      expect(await status()).toBe('active');
    });
  });

  it('a frozen account can be restricted: it stays frozen, and its unfreeze leaves it restricted', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const u = await signUp(t, 'fred@example.test');
      const freeze = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: risk.headers, payload: { reason: 'abnormal_activity' } });
      expect(freeze.statusCode, freeze.body).toBe(200);
      const restrict = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: risk.headers, payload: { reason: 'chargeback investigation' } });
      expect(restrict.statusCode, restrict.body).toBe(200);
      expect(json<{ user: { status: string } }>(restrict).user.status).toBe('frozen');
      const unfreeze = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: risk.headers, payload: { reason: 'documents checked' } });
      expect(unfreeze.statusCode, unfreeze.body).toBe(200);
      expect(json<{ user: { status: string } }>(unfreeze).user.status).toBe('restricted');
    });
  });
});
