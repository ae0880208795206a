// Goal (issue 16, finding 11): what staff write about a user (the note of a compliance freeze,
// of an unfreeze approval) stays with staff: the user's own security log shows that the account
// was frozen and unfrozen, never the notes; staff still read them in /admin/audit.
// Method: a whole platform (real database, real SMTP), app.inject(), staff with TOTP.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { bearer, json } from '../helpers/accounts-testkit.ts';
import { PW, signUp, steppedUpStaff, withSecurityPlatform } from '../helpers/security-kit.ts';

const FREEZE_NOTE = 'SAR-4471: linked to the mule ring of case 99';
const APPROVAL_NOTE = 'cleared by compliance, SAR-4471 closed';

describe.each(DIALECTS)('staff notes and the user\'s security log on %s', (dialect) => {
  it('the user sees the freeze and the unfreeze but not the staff notes; staff still see them', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const u = await signUp(t, 'nora@example.test');
      const freeze = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: risk.headers, payload: { reason: 'compliance', note: FREEZE_NOTE } });
      expect(freeze.statusCode, freeze.body).toBe(200);
      for (const s of [risk, admin]) {
        const r = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: s.headers, payload: { reason: APPROVAL_NOTE } });
        expect(r.statusCode, r.body).toBe(200);
      }
      // The freeze ended the user's sessions: they sign in again and read their log.
      const token = json<{ token: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: u.email, password: PW } })).token;
      const mine = await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events?limit=100', headers: bearer(token) });
      expect(mine.statusCode).toBe(200);
      const actions = json<{ data: Array<{ action: string }> }>(mine).data.map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['account_frozen', 'account_unfrozen']));
      expect(mine.body).not.toContain('SAR-4471');
      const staffView = await t.app.inject({ method: 'GET', url: `/api/v1/admin/audit?user_id=${u.id}&limit=100`, headers: admin.headers });
      expect(staffView.statusCode).toBe(200);
      expect(staffView.body).toContain(FREEZE_NOTE);
      expect(staffView.body).toContain(APPROVAL_NOTE);
    });
  });
});
