// Goal (issue 16, finding 10): a frozen account cannot change its email — an intruder who froze
// nothing but holds a session must not take the recovery channel while the owner sorts it out.
// Method: a whole platform (real database, real SMTP), app.inject(); the user steps up with the
// password, freezes (keeping this session, as the panic button does) and tries.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { PW, signUp, withSecurityPlatform } from '../helpers/security-kit.ts';

describe.each(DIALECTS)('email change of a frozen account on %s', (dialect) => {
  it('is refused with 403 account_frozen and changes nothing', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const u = await signUp(t, 'frida@example.test');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: u.headers, payload: { password: PW } })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: u.headers, payload: {} })).statusCode).toBe(200);
      const change = await t.app.inject({ method: 'POST', url: '/api/v1/me/email', headers: u.headers, payload: { new_email: 'intruder@example.test' } });
      expect([change.statusCode, json(change).code]).toEqual([403, 'account_frozen']);
      const me = json<{ email: string }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: u.headers }));
      expect(me.email).toBe('frida@example.test');
      const changed = await t.platform.db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'email_changed').execute();
      expect(changed).toEqual([]);
    });
  });
});
