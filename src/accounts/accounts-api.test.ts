// Goal: prove the accounts rules through the HTTP API on both dialects — registration and the
// password policy, login without enumeration, Keycloak-style throttling with Retry-After,
// TOTP with codes from an independent RFC 6238 generator, recovery codes used once, step-up,
// sessions ended on freeze and password change, API keys, CSRF on cookie sessions, new-device
// alerts delivered over real SMTP with a working "this wasn't me" link, KYC uploads checked by
// content and encrypted at rest, and the unfreeze workflow (requirements, two different
// approvers for compliance, the 24 h withdrawal cool-down).
// Method: a whole platform per test (real database, real in-process SMTP server), app.inject(),
// a ManualClock moved explicitly; mail is delivered by running the durable jobs.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, startTestPlatform, totpCode, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { main } from '../cli.ts';
import { passwordHashCount, passwordVerificationCount } from './accounts-crypto.ts';

const PW = 'correct horse battery staple';
const UA_A = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const UA_B = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';

async function withPlatform(dialect: 'sqlite' | 'postgres', fn: (t: TestPlatform) => Promise<void>): Promise<void> {
  const t = await startTestPlatform(dialect);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function register(t: TestPlatform, email: string, password = PW) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password } });
}

async function login(t: TestPlatform, email: string, password = PW, extra: Record<string, string> = {}, ip = '10.0.0.1', ua = UA_A) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password, ...extra }, remoteAddress: ip, headers: { 'user-agent': ua } });
}

async function signedIn(t: TestPlatform, email: string, ip = '10.0.0.1') {
  expect((await register(t, email)).statusCode).toBe(201);
  const res = await login(t, email, PW, {}, ip);
  expect(res.statusCode).toBe(200);
  const body = json<{ token: string; csrf_token: string; user: { id: string } }>(res);
  return { token: body.token, csrf: body.csrf_token, id: body.user.id };
}

async function stepUp(t: TestPlatform, token: string, body: Record<string, string>) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: body });
}

async function staff(t: TestPlatform, email: string, role: 'agent' | 'risk' | 'admin') {
  const u = await t.platform.accounts.createUserWithRoles(email, PW, [role]);
  const s = await t.platform.accounts.issueSessionForTests(u.id);
  return { id: u.id, token: s.token };
}

async function enableTotp(t: TestPlatform, token: string): Promise<{ secret: string; recovery: string[] }> {
  expect((await stepUp(t, token, { password: PW })).statusCode).toBe(204);
  const setup = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(token) });
  expect(setup.statusCode).toBe(200);
  const { secret, otpauth_url } = json<{ secret: string; otpauth_url: string }>(setup);
  expect(otpauth_url).toMatch(/^otpauth:\/\/totp\/Settle:.*secret=/);
  const enable = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(token), payload: { code: totpCode(secret, t.clock.now_ms()) } });
  expect(enable.statusCode).toBe(200);
  return { secret, recovery: json<{ recovery_codes: string[] }>(enable).recovery_codes };
}

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

  it('sessions end after 30 minutes idle and 12 hours in all; a zh-CN user reads freezes in Chinese', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'rui@example.com');
      const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
      t.clock.advance(29 * 60_000);
      expect((await me(s.token)).statusCode).toBe(200);
      t.clock.advance(29 * 60_000);
      expect((await me(s.token)).statusCode).toBe(200); // activity keeps it alive
      t.clock.advance(31 * 60_000);
      expect((await me(s.token)).statusCode).toBe(401);
      const busy = json<{ token: string }>(await login(t, 'rui@example.com')).token;
      for (let i = 0; i < 12 * 3 - 1; i++) {
        t.clock.advance(20 * 60_000);
        expect((await me(busy)).statusCode, `after ${(i + 1) * 20} min`).toBe(200);
      }
      t.clock.advance(20 * 60_000);
      expect((await me(busy)).statusCode).toBe(401);

      const zh = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'li@example.com', password: PW, locale: 'zh-CN' } });
      expect(json<{ user: { locale: string } }>(zh).user.locale).toBe('zh-CN');
      const tok = json<{ token: string }>(await login(t, 'li@example.com')).token;
      const frozen = json<{ user: { freezes: Array<{ message: string; what_to_do: string[] }> } }>(
        await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(tok), payload: { reason: 'abnormal_login' } }),
      );
      expect(frozen.user.freezes[0]!.message).toContain('冻结');
      expect(frozen.user.freezes[0]!.what_to_do.join('')).toContain('修改您的密码');
      await t.drainJobs();
      expect(t.platform.mailbox!.to('li@example.com').map((m) => m.subject)).toContain('您的账户已被冻结');

      // The language can be changed later (PATCH /me), and what the user reads follows it.
      const toEn = await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: bearer(tok), payload: { locale: 'en' } });
      expect(toEn.statusCode).toBe(200);
      expect(json<{ user: { locale: string } }>(toEn).user.locale).toBe('en');
      const again = json<{ freezes: Array<{ message: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tok) }));
      expect(again.freezes[0]!.message).not.toContain('冻结');
      for (const payload of [{ locale: 'fr' }, { locale: 'en', email: 'x@example.com' }, {}]) {
        const bad = await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: bearer(tok), payload });
        expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      }
      expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/me', payload: { locale: 'en' } })).statusCode).toBe(401);
      const changes = await t.platform.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'locale_changed').execute();
      expect(changes.map((c) => JSON.parse(c.details as string))).toEqual([{ from: 'zh-CN', to: 'en' }]);
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

  it('TOTP: step-up first, independent RFC 6238 codes accepted, no replay, recovery codes single-use, malformed codes refused', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'dave@example.com');
      const need = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(s.token) });
      expect(need.statusCode).toBe(401);
      expect(json(need)).toMatchObject({ code: 'step_up_required', factors: ['password'] });
      expect(json(await stepUp(t, s.token, { password: 'not it at all' }))).toMatchObject({ code: 'step_up_failed' });
      const { secret, recovery } = await enableTotp(t, s.token);
      expect(recovery).toHaveLength(10);
      expect(new Set(recovery).size).toBe(10);
      const stored = await t.platform.db.kysely.selectFrom('users').select(['totp_secret_enc']).where('id', '=', s.id).executeTakeFirstOrThrow();
      expect(stored.totp_secret_enc).not.toContain(secret);
      const codes = await t.platform.db.kysely.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', s.id).execute();
      expect(codes.map((c) => c.code_hash)).not.toContain(recovery[0]);

      expect(json(await login(t, 'dave@example.com'))).toMatchObject({ code: 'totp_required' });
      expect(json(await login(t, 'dave@example.com', PW, { totp_code: '000000' === totpCode(secret, t.clock.now_ms()) ? '111111' : '000000' }))).toMatchObject({ code: 'invalid_totp' });
      expect((await login(t, 'dave@example.com', PW, { totp_code: '12ab56' })).statusCode).toBe(400);
      t.clock.advance(30_000);
      const code = totpCode(secret, t.clock.now_ms());
      expect((await login(t, 'dave@example.com', PW, { totp_code: code })).statusCode).toBe(200);
      expect(json(await login(t, 'dave@example.com', PW, { totp_code: code }))).toMatchObject({ code: 'invalid_totp' }); // replay
      expect((await login(t, 'dave@example.com', PW, { recovery_code: recovery[3]! })).statusCode).toBe(200);
      expect(json(await login(t, 'dave@example.com', PW, { recovery_code: recovery[3]! }))).toMatchObject({ code: 'invalid_totp' });
      expect((await login(t, 'dave@example.com', PW, { recovery_code: 'not-a-code' })).statusCode).toBe(400);

      // With 2FA on, step-up wants the second factor, not the password.
      const fresh = json<{ token: string }>(await login(t, 'dave@example.com', PW, { recovery_code: recovery[4]! })).token;
      const disableNeed = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/disable', headers: bearer(fresh) });
      expect(json(disableNeed)).toMatchObject({ code: 'step_up_required', factors: ['totp', 'recovery_code'] });
      expect((await stepUp(t, fresh, { password: PW })).statusCode).toBe(401);
      t.clock.advance(30_000);
      expect((await stepUp(t, fresh, { totp_code: totpCode(secret, t.clock.now_ms()) })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/disable', headers: bearer(fresh) })).statusCode).toBe(204);
      // The privileged window lasts 15 minutes.
      t.clock.advance(15 * 60_000 + 1000);
      const later = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(fresh) });
      expect(json(later)).toMatchObject({ code: 'step_up_required', factors: ['password'] });
    });
  });

  it('lists and ends sessions; a password change (step-up) and a freeze end the other sessions', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'erin@example.com');
      const b = json<{ token: string }>(await login(t, 'erin@example.com')).token;
      const c = json<{ token: string }>(await login(t, 'erin@example.com')).token;
      const list = json<{ data: Array<{ id: string; current: boolean }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/sessions', headers: bearer(a.token) }));
      expect(list.data).toHaveLength(3);
      expect(list.data.filter((s) => s.current)).toHaveLength(1);
      const other = await signedIn(t, 'frank@example.com');
      const victim = list.data.find((s) => !s.current)!;
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${victim.id}`, headers: bearer(other.token) })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/me/sessions/ses_0000000000zzzzzzzzzz', headers: bearer(a.token) })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/me/sessions/..%2Fetc', headers: bearer(a.token) })).statusCode).toBe(400);

      const change = await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(a.token), payload: { new_password: 'a brand new passphrase' } });
      expect(json(change).code).toBe('step_up_required');
      await stepUp(t, a.token, { password: PW });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(a.token), payload: { new_password: 'password1' } })).statusCode).toBe(400);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(a.token), payload: { new_password: 'a brand new passphrase' } })).statusCode).toBe(204);
      for (const tok of [b, c]) expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tok) })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(a.token) })).statusCode).toBe(200);
      expect((await login(t, 'erin@example.com', PW)).statusCode).toBe(401);
      const d = json<{ token: string }>(await login(t, 'erin@example.com', 'a brand new passphrase')).token;

      const frozen = await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(a.token), payload: {} });
      expect(frozen.statusCode).toBe(200);
      const user = json<{ user: { status: string; freezes: Array<{ reason: string; message: string; what_to_do: string[] }> } }>(frozen).user;
      expect(user.status).toBe('frozen');
      expect(user.freezes[0]).toMatchObject({ reason: 'user_request' });
      expect(user.freezes[0]!.what_to_do.join(' ')).toMatch(/password/i);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(d) })).statusCode).toBe(401);
      // The frozen user can still read and sign in.
      expect(json(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(a.token) })).status).toBe('frozen');
      expect((await login(t, 'erin@example.com', 'a brand new passphrase')).statusCode).toBe(200);
      const outbox = await t.platform.db.kysely.selectFrom('outbox_events').select(['type', 'aggregate_id']).where('type', '=', 'account.frozen').execute();
      expect(outbox).toEqual([{ type: 'account.frozen', aggregate_id: a.id }]);
    });
  });

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

  it('API keys: step-up, shown once, hashed, scoped, revocable; a key cannot act as a session', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'gina@example.com');
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop' } })).code).toBe('step_up_required');
      await stepUp(t, s.token, { password: PW });
      const bad = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop', scopes: ['admin:all'] } });
      expect(bad.statusCode).toBe(400);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop', scopes: ['invoices:write'] } });
      expect(res.statusCode).toBe(201);
      const key = json<{ id: string; key: string; prefix: string; scopes: string[] }>(res);
      expect(key.key).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
      expect(key.key.startsWith(key.prefix)).toBe(true);
      expect(key.scopes).toEqual(['invoices:write']);
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(s.token) });
      expect(list.body).not.toContain(key.key);
      const stored = await t.platform.db.kysely.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(key.key);
      const asKey = json<{ roles: string[] }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key.key) }));
      expect(asKey.roles).toContain('merchant');
      const p = await t.platform.accounts.authenticate({ headers: bearer(key.key), cookies: {}, method: 'GET' } as never);
      expect(p).toMatchObject({ kind: 'api_key', scopes: ['invoices:write'] });
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(key.key), payload: {} })).code).toBe('session_required');
      const other = await signedIn(t, 'hank@example.com');
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: bearer(other.token) })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: bearer(s.token) })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key.key) })).statusCode).toBe(401);
    });
  });

  it('a frozen owner\'s API keys are suspended (reads too) while a fresh sign-in still sees the money and asks to be unfrozen; they work again after', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'ivy@example.com');
      const agent = await staff(t, 'agent9@settle.test', 'agent');
      await stepUp(t, s.token, { password: PW });
      const key = json<{ key: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop' } })).key;
      const reads = ['/api/v1/balances', '/api/v1/payments', '/api/v1/me', '/api/v1/webhook-endpoints', '/api/v1/events'];
      for (const url of reads) expect((await t.app.inject({ method: 'GET', url, headers: bearer(key) })).statusCode, url).toBe(200);

      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(s.token), payload: {} })).statusCode).toBe(200);
      for (const url of reads) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(key) });
        expect(res.statusCode, url).toBe(403);
        expect(json(res).code).toBe('account_frozen');
      }
      const hook = await t.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: bearer(key), payload: { url: 'http://127.0.0.1:9/hook', events: ['payment.*'] } });
      expect(json(hook).code).toBe('account_frozen');
      expect(await t.platform.db.kysely.selectFrom('webhook_endpoints').selectAll().execute()).toEqual([]);
      const audit = await t.platform.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'account_frozen').executeTakeFirstOrThrow();
      expect(JSON.parse(audit.details)).toMatchObject({ api_keys_suspended: 1 });

      // The owner, signed in again, still sees the money and asks to be unfrozen.
      const again = json<{ token: string }>(await login(t, 'ivy@example.com')).token;
      const balances = await t.app.inject({ method: 'GET', url: '/api/v1/balances', headers: bearer(again) });
      expect(balances.statusCode).toBe(200);
      expect(Array.isArray(json<{ data: unknown[] }>(balances).data)).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/payments', headers: bearer(again) })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(again) })).statusCode).toBe(200);
      // Revoking a suspended key still works from a session.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(again) })).statusCode).toBe(200);

      t.clock.advance(60_000);
      await stepUp(t, again, { password: PW });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(again), payload: { new_password: 'a different passphrase' } })).statusCode).toBe(204);
      expect(json<{ user: { status: string } }>(await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${s.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'owner called' } })).user.status).toBe('active');
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/balances', headers: bearer(key) })).statusCode).toBe(200);
    });
  });

  it('cookie sessions: HttpOnly SameSite=Lax cookie, CSRF header required on unsafe methods', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'ivy@example.com');
      const res = await login(t, 'ivy@example.com');
      const cookies = res.cookies as Array<{ name: string; value: string; httpOnly?: boolean; sameSite?: string; secure?: boolean }>;
      const session = cookies.find((c) => c.name === 'settle_session')!;
      const csrf = cookies.find((c) => c.name === 'settle_csrf')!;
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(session.secure).toBeFalsy();
      expect(csrf.httpOnly).toBeFalsy();
      const jar = { settle_session: session.value, settle_csrf: csrf.value };
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: jar })).statusCode).toBe(200);
      const noHeader = await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', cookies: jar, payload: {} });
      expect(noHeader.statusCode).toBe(403);
      expect(json(noHeader).code).toBe('csrf_failed');
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', cookies: jar, headers: { 'x-csrf-token': 'nope' }, payload: {} });
      expect(wrong.statusCode).toBe(403);
      const ok = await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', cookies: jar, headers: { 'x-csrf-token': csrf.value }, payload: {} });
      expect(ok.statusCode).toBe(200);
    });
    const secure = await startTestPlatform(dialect, { SETTLE_PUBLIC_URL: 'https://pay.example.com' });
    try {
      await register(secure, 'jo@example.com');
      const res = await login(secure, 'jo@example.com');
      expect((res.cookies as Array<{ name: string; secure?: boolean }>).find((c) => c.name === 'settle_session')!.secure).toBe(true);
    } finally {
      await secure.close();
    }
  });

  it('a new device or network sends a real mail and an in-app alert whose one-time link asks, then freezes on the button', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'kim@example.com');
      const first = json<{ token: string }>(await login(t, 'kim@example.com', PW, {}, '192.0.2.10', UA_A)).token;
      await login(t, 'kim@example.com', PW, {}, '192.0.2.77', UA_A); // same /24, same browser: known
      await t.drainJobs();
      expect(t.platform.mailbox!.to('kim@example.com')).toHaveLength(0);
      await login(t, 'kim@example.com', PW, {}, '198.51.100.4', UA_B);
      await t.drainJobs();
      const mails = t.platform.mailbox!.to('kim@example.com');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('New sign-in to your Settle account');
      expect(mails[0]!.text).toContain('Firefox on Windows');
      const link = /https?:\/\/\S+\/api\/v1\/auth\/not-me\?token=[A-Za-z0-9_-]+/.exec(mails[0]!.text)![0];
      const notes = json<{ data: Array<{ kind: string; link: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/notifications', headers: bearer(first) }));
      expect(notes.data[0]).toMatchObject({ kind: 'new_device', link });
      const url = new URL(link);
      const token = url.searchParams.get('token')!;
      // A mail scanner fetching the link (any number of times) only gets the confirmation page.
      for (let i = 0; i < 3; i++) {
        const click = await t.app.inject({ method: 'GET', url: url.pathname + url.search, headers: { 'user-agent': 'LinkScanner/1.0' } });
        expect(click.statusCode).toBe(200);
        expect(click.headers['content-type']).toMatch(/^text\/html/);
        expect(click.headers['content-security-policy']).toContain("form-action 'self'");
        expect(click.headers['cache-control']).toBe('no-store');
        expect(click.body).toContain('Was this sign-in not you?');
        expect(click.body).toMatch(/<form method="post" action="\/api\/v1\/auth\/not-me">/);
        expect(click.body).toContain(`name="token" value="${token}"`);
      }
      expect(json(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(first) })).status).toBe('active');
      expect(await t.platform.db.kysely.selectFrom('freezes').selectAll().execute()).toEqual([]);
      // Bad input changes nothing: a malformed token is a 400, a wrong one the expired page.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/not-me?token=<script>' })).statusCode).toBe(400);
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/not-me', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${'B'.repeat(43)}` });
      expect(wrong.statusCode).toBe(404);
      expect(wrong.body).toContain('This link no longer works');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/not-me', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'nothing=here' })).statusCode).toBe(400);
      // The button: a form POST from a browser that still holds a session cookie (no CSRF header needed on this public form).
      const press = await t.app.inject({
        method: 'POST', url: '/api/v1/auth/not-me', cookies: { settle_session: first },
        headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${token}`,
      });
      expect(press.statusCode, press.body).toBe(200);
      expect(press.headers['content-type']).toMatch(/^text\/html/);
      expect(press.body).toContain('Your account is frozen');
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(first) })).statusCode).toBe(401);
      // Single use: the page and the button both say the link is spent.
      expect((await t.app.inject({ method: 'GET', url: url.pathname + url.search })).statusCode).toBe(404);
      const twice = await t.app.inject({ method: 'POST', url: '/api/v1/auth/not-me', payload: { token } });
      expect(twice.statusCode).toBe(404);
      expect(json(twice).code).toBe('link_expired');
      const freeze = await t.platform.db.kysely.selectFrom('freezes').selectAll().executeTakeFirstOrThrow();
      expect(freeze).toMatchObject({ reason: 'abnormal_login', actor_type: 'user' });
      await t.drainJobs();
      expect(t.platform.mailbox!.to('kim@example.com').map((m) => m.subject)).toContain('Your account is frozen');
    });
  });

  it('the "this wasn\'t me" page speaks the user\'s language; JSON clients can POST the token too', async () => {
    await withPlatform(dialect, async (t) => {
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'mei@example.com', password: PW, locale: 'zh-CN' } });
      await login(t, 'mei@example.com', PW, {}, '192.0.2.10', UA_A);
      await login(t, 'mei@example.com', PW, {}, '198.51.100.4', UA_B);
      await t.drainJobs();
      const mail = t.platform.mailbox!.to('mei@example.com')[0]!;
      const link = new URL(/https?:\/\/\S+\/api\/v1\/auth\/not-me\?token=[A-Za-z0-9_-]+/.exec(mail.text)![0]);
      const page = await t.app.inject({ method: 'GET', url: link.pathname + link.search });
      expect(page.body).toContain('<html lang="zh-CN">');
      expect(page.body).toContain('冻结我的账户');
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/not-me', payload: { token: link.searchParams.get('token') } });
      expect(res.statusCode).toBe(200);
      expect(json(res)).toMatchObject({ status: 'frozen', message: expect.stringContaining('冻结') });
      const audit = await t.platform.db.kysely.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'account_frozen').execute();
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.details)).toMatchObject({ reason: 'abnormal_login', note: 'not_me_link' });
      const expired = await t.app.inject({ method: 'GET', url: link.pathname + link.search, headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
      expect(expired.statusCode).toBe(404);
      expect(expired.body).toContain('此链接已失效');
    });
  });

  it('unfreeze is a workflow: requirements, staff approval, two different staff for compliance, 24 h withdrawal cool-down', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'lee@example.com');
      const agent = await staff(t, 'agent@settle.test', 'agent');
      const risk = await staff(t, 'risk@settle.test', 'risk');
      const admin = await staff(t, 'admin@settle.test', 'admin');
      const frozenByAgent = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(agent.token), payload: { reason: 'compliance' } });
      expect(frozenByAgent.statusCode).toBe(403);
      const f = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(risk.token), payload: { reason: 'compliance', note: 'sanctions screening hit' } });
      expect(f.statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(u.token) })).statusCode).toBe(401); // sessions ended
      const tok = json<{ token: string }>(await login(t, 'lee@example.com')).token;
      const me = json<{ status: string; freezes: Array<{ reason: string; by: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tok) }));
      expect(me).toMatchObject({ status: 'frozen', freezes: [{ reason: 'compliance', by: 'staff' }] });
      expect((await t.platform.accounts.canSend(u.id)).ok).toBe(false);

      const req = json<{ id: string; requirements: Array<{ code: string; met: boolean }>; approvals_required: number }>(
        await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(tok) }),
      );
      expect(req.requirements).toEqual([expect.objectContaining({ code: 'identity_verified', met: false })]);
      expect(req.approvals_required).toBe(2);
      const early = await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(risk.token), payload: {} });
      expect(early.statusCode).toBe(409);
      expect(json(early)).toMatchObject({ code: 'unfreeze_requirements_unmet', requirements: ['identity_verified'] });

      t.clock.advance(60_000);
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('passport scan pixels')]);
      const up = await t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents?kind=passport', headers: { ...bearer(tok), 'content-type': 'image/png' }, payload: png });
      expect(up.statusCode).toBe(201);
      const list = json<{ data: Array<{ id: string; reasons: string[] }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/admin/unfreeze-requests', headers: bearer(agent.token) }));
      expect(list.data.map((r) => r.id)).toEqual([req.id]);
      const one = await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(risk.token), payload: { note: 'passport checked' } });
      expect(one.statusCode).toBe(200);
      expect(json<{ user: { status: string }; unfreeze_request: { approvals: number } }>(one)).toMatchObject({ user: { status: 'frozen' }, unfreeze_request: { approvals: 1 } });
      const again = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(risk.token), payload: { reason: 'me again' } });
      expect(json(again).code).toBe('already_approved');
      const two = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(admin.token), payload: { reason: 'second pair of eyes' } });
      expect(two.statusCode).toBe(200);
      const after = json<{ user: { status: string; cooldown_until: string } }>(two).user;
      expect(after.status).toBe('active');
      expect(Date.parse(after.cooldown_until) - t.clock.now_ms()).toBe(24 * 3600_000);
      expect(await t.platform.accounts.canSend(u.id)).toEqual({ ok: true });
      expect(await t.platform.accounts.canWithdraw(u.id)).toMatchObject({ ok: false, code: 'cooldown' });
      t.clock.advance(24 * 3600_000);
      expect(await t.platform.accounts.canWithdraw(u.id)).toEqual({ ok: true });
      const events = await t.platform.db.kysely.selectFrom('outbox_events').select('type').orderBy('seq').execute();
      expect(events.map((e) => e.type).filter((x) => x.startsWith('account.'))).toEqual(['account.frozen', 'account.unfrozen']);
      expect((await t.platform.db.kysely.selectFrom('unfreeze_approvals').select('staff_id').execute()).map((r) => r.staff_id).sort()).toEqual([risk.id, admin.id].sort());
    });
  });

  it('a self-freeze needs a changed password before one staff approval lifts it; staff can restrict', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'max@example.com');
      const agent = await staff(t, 'agent2@settle.test', 'agent');
      const risk = await staff(t, 'risk2@settle.test', 'risk');
      t.clock.advance(60_000);
      await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(u.token), payload: { reason: 'user_request' } });
      const queued = json<{ id: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) }));
      expect(json(await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${queued.id}/approve`, headers: bearer(agent.token), payload: {} })).code).toBe('unfreeze_requirements_unmet');
      t.clock.advance(60_000);
      await stepUp(t, u.token, { password: PW });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(u.token), payload: { new_password: 'another fine passphrase' } })).statusCode).toBe(204);
      const r = json<{ requirements: Array<{ met: boolean }> }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) }));
      expect(r.requirements.every((x) => x.met)).toBe(true);
      const ok = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'called in' } });
      expect(json<{ user: { status: string } }>(ok).user.status).toBe('active');
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) })).code).toBe('not_frozen');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: bearer(agent.token), payload: { reason: 'x' } })).statusCode).toBe(403);
      const rs = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: bearer(risk.token), payload: { reason: 'chargeback review' } });
      expect(json<{ user: { status: string } }>(rs).user.status).toBe('restricted');
      expect(await t.platform.accounts.canSend(u.id)).toMatchObject({ ok: false, code: 'account_restricted' });
      expect((await t.platform.accounts.standing(u.id)).receive).toBe('credit');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/users/usr_0000000000zzzzzzzzzz/restrict', headers: bearer(risk.token), payload: { reason: 'x' } })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/users/nope/freeze', headers: bearer(risk.token), payload: { reason: 'compliance' } })).statusCode).toBe(400);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(risk.token), payload: { reason: 'because' } })).statusCode).toBe(400);
    });
  });

  it('POST /admin/users/{id}/unfreeze approves on the staff member\'s word: unmet requirements are waived and the waiver audited', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'ann@example.com');
      const agent = await staff(t, 'agent3@settle.test', 'agent');
      const risk = await staff(t, 'risk3@settle.test', 'risk');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(risk.token), payload: { reason: 'abnormal_activity' } })).statusCode).toBe(200);
      const tok = json<{ token: string }>(await login(t, 'ann@example.com')).token;
      const req = json<{ id: string; requirements: Array<{ code: string; met: boolean }> }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(tok) }));
      const unmet = req.requirements.filter((r) => !r.met).map((r) => r.code);
      expect(unmet.length).toBeGreaterThan(0);
      // The queue still insists on the requirements …
      expect(json(await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(agent.token), payload: {} })).code).toBe('unfreeze_requirements_unmet');
      // … the staff member's word is enough.
      const ok = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'verified on a video call' } });
      expect(ok.statusCode).toBe(200);
      expect(json<{ user: { status: string } }>(ok).user.status).toBe('active');
      const rows = await t.platform.db.kysely.selectFrom('audit_log').select(['actor_id', 'details']).where('action', '=', 'unfreeze_approved').where('subject_id', '=', u.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.actor_id).toBe(agent.id);
      expect(JSON.parse(rows[0]!.details as string)).toMatchObject({ note: 'verified on a video call', requirements_waived: unmet });
    });
  });

  it('staff cannot act on an account of equal or higher role unless admin; the refusal is audited and changes nothing', async () => {
    await withPlatform(dialect, async (t) => {
      const agent = await staff(t, 'agent5@settle.test', 'agent');
      const agent2 = await staff(t, 'agent6@settle.test', 'agent');
      const risk = await staff(t, 'risk5@settle.test', 'risk');
      const admin = await staff(t, 'admin5@settle.test', 'admin');
      const admin2 = await staff(t, 'admin6@settle.test', 'admin');
      const post = (who: { token: string }, path: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${path}`, headers: bearer(who.token), payload });
      const statusOf = async (id: string) => (await t.platform.db.kysely.selectFrom('users').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

      for (const [actor, target] of [[agent, admin], [agent, agent2], [agent, risk], [risk, admin], [risk, risk]] as const) {
        const res = await post(actor, `${target.id}/freeze`, { reason: 'abnormal_activity', note: 'looks odd' });
        expect(res.statusCode, `${actor.id} -> ${target.id}`).toBe(403);
        expect(json(res)).toMatchObject({ code: 'target_outranks_actor', action: 'freeze' });
        expect(await statusOf(target.id)).toBe('active');
      }
      expect(json(await post(risk, `${admin.id}/restrict`, { reason: 'x' })).code).toBe('target_outranks_actor');
      expect(json(await post(risk, `${admin.id}/kyc-level`, { level: 2 })).code).toBe('target_outranks_actor');
      expect(json(await post(agent, `${agent2.id}/unfreeze`, { reason: 'x' })).code).toBe('target_outranks_actor');
      expect((await t.platform.db.kysely.selectFrom('freezes').selectAll().execute())).toEqual([]);
      const refusals = await t.platform.db.kysely.selectFrom('audit_log').select(['actor_id', 'subject_id', 'details']).where('action', '=', 'staff_action_refused').orderBy('id').execute();
      expect(refusals).toHaveLength(8);
      const first = refusals.find((r) => r.actor_id === agent.id && r.subject_id === admin.id)!;
      expect(JSON.parse(first.details)).toMatchObject({ action: 'freeze', actor_roles: ['user', 'agent'], target_roles: ['user', 'admin'] });
      // The admin sees the refusals about them in their own security log.
      const adminLog = json<{ data: Array<{ action: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events', headers: bearer(admin.token) }));
      expect(adminLog.data.filter((e) => e.action === 'staff_action_refused')).toHaveLength(4);

      // Strictly below is allowed; admins act on anyone, another admin included.
      expect((await post(risk, `${agent.id}/freeze`, { reason: 'abnormal_activity' })).statusCode).toBe(200);
      expect((await post(admin, `${admin2.id}/freeze`, { reason: 'compliance', note: 'four eyes' })).statusCode).toBe(200);
      expect(await statusOf(admin2.id)).toBe('frozen');
      // Unknown targets stay a 404, not a refusal.
      expect((await post(risk, 'usr_0000000000zzzzzzzzzz/freeze', { reason: 'abnormal_activity' })).statusCode).toBe(404);
    });
  });

  it('KYC documents: type by content, size-limited, AES-256-GCM at rest, staff read them back', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'nia@example.com');
      const admin = await staff(t, 'admin3@settle.test', 'admin');
      const upload = (body: Buffer, type: string) => t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents?kind=id_card', headers: { ...bearer(u.token), 'content-type': type }, payload: body });
      const fakePng = await upload(Buffer.from('MZ this is an exe pretending'), 'image/png');
      expect(fakePng.statusCode).toBe(415);
      expect(json(fakePng).code).toBe('unsupported_document_type');
      const pdf = Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\nsecret identity number 123456789\n%%EOF');
      const ok = await upload(pdf, 'application/pdf');
      expect(ok.statusCode).toBe(201);
      const doc = json<{ id: string; content_type: string }>(ok);
      expect(doc.content_type).toBe('application/pdf');
      const jpegAsOctets = await upload(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'application/octet-stream');
      expect(json(jpegAsOctets).content_type).toBe('image/jpeg');
      const row = await t.platform.db.kysely.selectFrom('kyc_documents').select('ciphertext').where('id', '=', doc.id).executeTakeFirstOrThrow();
      expect(Buffer.from(row.ciphertext, 'base64').toString('latin1')).not.toContain('identity number');
      const back = await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${u.id}/kyc/documents/${doc.id}`, headers: bearer(admin.token) });
      expect(back.statusCode).toBe(200);
      expect(back.rawPayload.equals(pdf)).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${u.id}/kyc/documents/${doc.id}`, headers: bearer(u.token) })).statusCode).toBe(403);
      const big = Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(t.platform.config.limits.upload_bytes_max + 10)]);
      expect((await upload(big, 'application/pdf')).statusCode).toBe(413);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents', headers: { ...bearer(u.token), 'content-type': 'text/plain' }, payload: 'hello' })).statusCode).toBe(415);
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

describe('settle admin create', () => {
  it('creates a staff account from the command line', async () => {
    const t = await startTestPlatform('sqlite');
    const saved = { ...process.env };
    try {
      process.env.SETTLE_DATA_DIR = t.dir;
      process.env.SETTLE_DATABASE_URL = `${t.dir}/cli.db`;
      const out: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
      expect(await main(['admin', 'create', '--email', 'Root@Example.com', '--password', 'a long admin passphrase', '--role', 'admin'], io)).toBe(0);
      expect(out.join('\n')).toMatch(/created root@example.com .* roles user, admin/);
      expect(await main(['admin', 'create', '--email', 'weak@example.com', '--password', 'password'], io)).toBe(2);
      expect(out.join('\n')).toContain('weak_password');
      expect(await main(['admin', 'create', '--email', 'x@example.com', '--password', 'a long admin passphrase', '--role', 'king'], io)).toBe(2);
    } finally {
      process.env = saved;
      await t.close();
    }
  });
});
