// Goal: prove registration and sign-in through the HTTP API on both dialects — the NIST password
// policy with reasons, a taken email answered like a free one at the same cost (the owner mailed
// at most hourly), an unknown email answered like a wrong password, and Keycloak-style throttling
// with Retry-After, per account and, far more loosely, per IP.
// Method: a whole platform per test (real database, real in-process SMTP server), app.inject(),
// a ManualClock moved explicitly; mail is delivered by running the durable jobs.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, register, login, signedIn } from '../../test/helpers/accounts-api-kit.ts';
import { passwordHashCount, passwordVerificationCount } from './accounts-crypto.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('registers with a normalised email and enforces the NIST password policy with reasons', async () => {
    await withPlatform(dialect, async (t) => {
      const ok = await register(t, '  Ann@Example.COM ');
      expect(ok.statusCode).toBe(201);
      expect(json<{ user: { email: string; status: string; roles: string[] } }>(ok).user).toMatchObject({ email: 'ann@example.com', status: 'active', roles: ['user'] });
      // A taken email is not told apart here (see the next test).
      expect((await register(t, 'ANN@example.com')).statusCode).toBe(201);
      for (const [password, reason] of [['short', 'too_short'], ['password123', 'common'], ['iloveyou1', 'common'], ['x'.repeat(257), 'too_long'], ['aaaaaaaaaaaa', 'repetitive']] as const) {
        const res = await register(t, `p-${reason}@example.com`, password);
        expect(res.statusCode, password).toBe(400);
        expect(json(res)).toMatchObject({ code: 'weak_password', reason });
      }
      // 64 characters of anything are allowed, spaces and emoji included; no composition rules.
      expect((await register(t, 'long@example.com', 'y'.repeat(30) + ' 🎉 ' + 'z'.repeat(30))).statusCode).toBe(201);
      expect((await register(t, 'plain@example.com', 'tangerine submarine')).statusCode).toBe(201);
      for (const email of ['not-an-email', 'a@b', `${'x'.repeat(250)}@example.com`, 'two@@example.com']) {
        const res = await register(t, email);
        expect(res.statusCode, email).toBe(400);
      }
      const huge = await register(t, 'huge@example.com', 'x'.repeat(5000));
      expect(huge.statusCode).toBe(400);
      const stored = await t.platform.db.kysely.selectFrom('users').select('password_hash').where('email', '=', 'ann@example.com').executeTakeFirstOrThrow();
      expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    });
  });

  it('registering a taken email answers like a free one, creates nothing, and mails the owner (at most hourly)', async () => {
    await withPlatform(dialect, async (t) => {
      const owner = await signedIn(t, 'owen@example.com');
      await t.drainJobs();
      const mailsBefore = t.platform.mailbox!.to('owen@example.com').length;
      const h0 = passwordHashCount();
      const fresh = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'newbie@example.com', password: 'another long passphrase', locale: 'zh-CN' } });
      const h1 = passwordHashCount();
      const taken = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: ' OWEN@example.com', password: 'another long passphrase', locale: 'zh-CN' } });
      // The same work on both paths: one argon2id hash each.
      expect([h1 - h0, passwordHashCount() - h1]).toEqual([1, 1]);
      expect(taken.statusCode).toBe(fresh.statusCode);
      expect(taken.statusCode).toBe(201);
      expect(taken.headers['content-type']).toBe(fresh.headers['content-type']);
      const a = json<{ user: Record<string, unknown> }>(fresh).user;
      const b = json<{ user: Record<string, unknown> }>(taken).user;
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      // Nothing of the owner: not their id, creation time, locale or roles; the shape of a new account.
      expect(b).toMatchObject({ email: 'owen@example.com', status: 'active', kyc_level: 0, totp_enabled: false, locale: 'zh-CN', roles: ['user'], cooldown_until: null, freezes: [] });
      expect(b.id).not.toBe(owner.id);
      expect(String(b.id)).toMatch(/^usr_[0-9a-z]{10,60}$/);
      expect(String(b.id).length).toBe(String(a.id).length);
      expect(b.created_at).toBe(a.created_at);
      // Nothing was created or changed: one row for the email, the owner's password still works.
      const rows = await t.platform.db.kysely.selectFrom('users').select(['id', 'locale']).where('email', '=', 'owen@example.com').execute();
      expect(rows).toEqual([{ id: owner.id, locale: 'en' }]);
      expect((await t.platform.db.kysely.selectFrom('users').select('id').where('id', '=', String(b.id)).execute())).toEqual([]);
      expect((await login(t, 'owen@example.com')).statusCode).toBe(200);
      expect(json(await login(t, 'owen@example.com', 'another long passphrase')).code).toBe('invalid_credentials');
      // Bad input is still refused the same way for both.
      expect(json(await register(t, 'owen@example.com', 'short'))).toMatchObject({ code: 'weak_password', reason: 'too_short' });
      // The owner is told through the real mail path, in their language, once per hour at most.
      await t.drainJobs();
      const mails = t.platform.mailbox!.to('owen@example.com').slice(mailsBefore);
      expect(mails.map((m) => m.subject)).toEqual(['Someone tried to register with your email']);
      expect(mails[0]!.text).toMatch(/sign in with your existing account/);
      expect(mails[0]!.text).not.toContain('another long passphrase');
      await register(t, 'owen@example.com', 'yet another passphrase');
      await t.drainJobs();
      expect(t.platform.mailbox!.to('owen@example.com').slice(mailsBefore)).toHaveLength(1);
      t.clock.advance(3600_000);
      await register(t, 'owen@example.com', 'a third passphrase here');
      await t.drainJobs();
      expect(t.platform.mailbox!.to('owen@example.com').slice(mailsBefore)).toHaveLength(2);
      const again = json<{ token: string }>(await login(t, 'owen@example.com')).token;
      const events = json<{ data: Array<{ action: string; details: { mailed: boolean } }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events', headers: bearer(again) }));
      // (Ids made in one millisecond of the manual clock do not sort by time: compare as a set.)
      expect(events.data.filter((e) => e.action === 'registration_attempted').map((e) => e.details.mailed).sort()).toEqual([false, true, true]);
      // The command line (an operator) is told plainly.
      await expect(t.platform.accounts.createUserWithRoles('owen@example.com', 'a long admin passphrase', ['admin'])).rejects.toMatchObject({ code: 'email_taken' });
    });
  });

  it('answers an unknown email exactly like a wrong password, and gives a new token on every login', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'bob@example.com');
      const v0 = passwordVerificationCount();
      const wrong = await login(t, 'bob@example.com', 'wrong password here');
      const v1 = passwordVerificationCount();
      const unknown = await login(t, 'nobody@example.com', 'wrong password here');
      // The same timing path: each answer cost exactly one argon2id verification.
      expect([v1 - v0, passwordVerificationCount() - v1]).toEqual([1, 1]);
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.body).toBe(unknown.body);
      expect(json(wrong).code).toBe('invalid_credentials');
      const a = json<{ token: string }>(await login(t, 'BOB@example.com'));
      const b = json<{ token: string }>(await login(t, 'bob@example.com'));
      expect(a.token).not.toBe(b.token);
      expect(Buffer.from(a.token, 'base64url').length).toBeGreaterThanOrEqual(16);
      const rows = await t.platform.db.kysely.selectFrom('sessions').select('token_hash').execute();
      expect(rows.map((r) => r.token_hash)).not.toContain(a.token);
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(a.token) });
      expect(json(me)).toMatchObject({ email: 'bob@example.com', status: 'active', kyc_level: 0, totp_enabled: false, locale: 'en' });
      const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(a.token) });
      expect(out.statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(a.token) })).statusCode).toBe(401);
    });
  });

  it('throttles per account from the 5th failure: 1 min doubling to 15 min, 429 with Retry-After even for the right password, reset after 12 h', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'carol@example.com');
      const ip = '10.1.0.1';
      for (let i = 1; i <= 4; i++) expect((await login(t, 'carol@example.com', 'bad password!', {}, ip)).statusCode).toBe(401);
      expect((await login(t, 'carol@example.com', 'bad password!', {}, ip)).statusCode).toBe(401); // 5th failure starts the wait
      const blocked = await login(t, 'carol@example.com', PW, {}, ip);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.headers['retry-after']).toBe('60');
      expect(json(blocked).code).toBe('too_many_attempts');
      // The same for an unknown email (no enumeration through the throttle either).
      for (let i = 1; i <= 5; i++) await login(t, 'ghost@example.com', 'bad password!', {}, '10.1.0.2');
      expect((await login(t, 'ghost@example.com', 'bad password!', {}, '10.1.0.2')).headers['retry-after']).toBe('60');
      const waits: string[] = [];
      for (let i = 0; i < 5; i++) {
        t.clock.advance(16 * 60_000);
        expect((await login(t, 'carol@example.com', 'bad password!', {}, ip)).statusCode).toBe(401);
        waits.push(String((await login(t, 'carol@example.com', PW, {}, ip)).headers['retry-after']));
      }
      expect(waits).toEqual(['120', '240', '480', '900', '900']);
      t.clock.advance(12 * 3600_000);
      expect((await login(t, 'carol@example.com', 'bad password!', {}, ip)).statusCode).toBe(401);
      expect((await login(t, 'carol@example.com', PW, {}, ip)).statusCode).toBe(200);
      const events = await t.platform.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'login_failed').execute();
      expect(events.length).toBeGreaterThanOrEqual(11);
    });
  });

  it('throttles per IP far more loosely: 100 failures in 15 minutes', async () => {
    await withPlatform(dialect, async (t) => {
      const ip = '10.2.0.1';
      for (let i = 0; i < 100; i++) expect((await login(t, `spray${i % 25}@example.com`, 'bad password!', {}, ip)).statusCode).toBe(401);
      const res = await login(t, 'fresh@example.com', 'bad password!', {}, ip);
      expect(res.statusCode).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect((await login(t, 'fresh@example.com', 'bad password!', {}, '10.2.0.2')).statusCode).toBe(401);
      t.clock.advance(15 * 60_000);
      expect((await login(t, 'fresh@example.com', 'bad password!', {}, ip)).statusCode).toBe(401);
    });
  });
});
