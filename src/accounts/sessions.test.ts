// Goal: prove sessions through the HTTP API on both dialects — idle and absolute expiry, listing
// and ending them, a password change and a freeze ending the others, and cookie sessions
// (HttpOnly, SameSite=Lax) needing the CSRF header on unsafe methods.
// Method: a whole platform per test (real database), app.inject(), a ManualClock moved explicitly.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, startTestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, register, login, signedIn, stepUp } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
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
});
