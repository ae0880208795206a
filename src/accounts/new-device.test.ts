// Goal: prove new-device alerts through the HTTP API on both dialects — a real mail and an in-app
// alert whose one-time "this wasn't me" link shows a page in the user's language and freezes only
// on its button (or a JSON POST).
// Method: a whole platform per test (real database, real in-process SMTP server), app.inject(),
// mail delivered by running the durable jobs.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { PW, UA_A, UA_B, withPlatform, register, login } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('a new device or network sends a real mail and an in-app alert whose one-time link asks, then freezes on the button', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'kim@example.com');
      const first = json<{ token: string }>(await login(t, 'kim@example.com', PW, {}, '192.0.2.10', UA_A)).token;
      await login(t, 'kim@example.com', PW, {}, '192.0.2.77', UA_A); // same /24, same browser: known
      await t.drainJobs();
      // Only the email-confirmation code of the registration, no alert.
      const newDeviceMails = () => t.platform.mailbox!.to('kim@example.com').filter((m) => !/confirm/i.test(m.subject));
      expect(newDeviceMails()).toHaveLength(0);
      await login(t, 'kim@example.com', PW, {}, '198.51.100.4', UA_B);
      await t.drainJobs();
      const mails = newDeviceMails();
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('New sign-in to your Settle account');
      expect(mails[0]!.text).toContain('Firefox on Windows');
      const link = /https?:\/\/\S+\/api\/v1\/auth\/not-me\?token=[A-Za-z0-9_-]+/.exec(mails[0]!.text)![0];
      const notes = json<{ data: Array<{ kind: string; link: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/notifications', headers: bearer(first) }));
      expect(notes.data[0]).toMatchObject({ kind: 'security.new_device', link });
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
      const mail = t.platform.mailbox!.to('mei@example.com').find((m) => m.text.includes('/auth/not-me?token='))!;
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
});
