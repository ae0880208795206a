// Goal: prove a user's own account through the HTTP API on both dialects — changing the email
// (step-up, taken or invalid addresses refused, the old address told) and the security log (users
// read their own, staff everyone's, others nothing).
// Method: a whole platform per test (real database, real in-process SMTP server), app.inject().
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, register, login, signedIn, stepUp, staff } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('changing the email needs step-up, refuses taken or invalid addresses, and tells the old address', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'quin@example.com');
      await register(t, 'taken@example.com');
      const change = (new_email: string) => t.app.inject({ method: 'POST', url: '/api/v1/me/email', headers: bearer(s.token), payload: { new_email } });
      expect(json(await change('new@example.com')).code).toBe('step_up_required');
      await stepUp(t, s.token, { password: PW });
      expect(json(await change('TAKEN@example.com')).code).toBe('email_taken');
      expect(json(await change('no-at-sign')).code).toBe('invalid_email');
      const ok = await change('Quin.New@Example.com');
      expect(ok.statusCode).toBe(200);
      expect(json<{ user: { email: string } }>(ok).user.email).toBe('quin.new@example.com');
      await t.drainJobs();
      expect(t.platform.mailbox!.to('quin@example.com').map((m) => m.subject)).toContain('The email of your Settle account was changed');
      expect((await login(t, 'quin.new@example.com')).statusCode).toBe(200);
      expect(json(await login(t, 'quin@example.com')).code).toBe('invalid_credentials');
    });
  });

  it('security events: users read their own log, staff read everyone\'s, others get nothing', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'oz@example.com');
      await login(t, 'oz@example.com', 'wrong password!!');
      const v = await signedIn(t, 'pat@example.com');
      const mine = json<{ data: Array<{ action: string; user_id: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events', headers: bearer(u.token) }));
      expect(mine.data.map((e) => e.action)).toEqual(expect.arrayContaining(['registered', 'login', 'login_failed']));
      expect(mine.data.every((e) => e.user_id === u.id)).toBe(true);
      const page = json<{ data: unknown[]; next_cursor: string }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events?limit=1', headers: bearer(u.token) }));
      expect(page.data).toHaveLength(1);
      const next = json<{ data: Array<{ id: string }> }>(await t.app.inject({ method: 'GET', url: `/api/v1/me/security-events?limit=1&cursor=${page.next_cursor}`, headers: bearer(u.token) }));
      expect(next.data[0]!.id < page.next_cursor).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit', headers: bearer(v.token) })).statusCode).toBe(403);
      const admin = await staff(t, 'admin4@settle.test', 'admin');
      const all = json<{ data: Array<{ user_id: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit?limit=100', headers: bearer(admin.token) }));
      expect(new Set(all.data.map((e) => e.user_id))).toEqual(new Set([u.id, v.id, admin.id]));
      const count = await sql<{ n: number }>`select count(*) as n from audit_log`.execute(t.platform.db.kysely);
      expect(Number(count.rows[0]!.n)).toBeGreaterThan(4);
    });
  });
});
