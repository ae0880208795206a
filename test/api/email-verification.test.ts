// Goal (issue 16, finding 7): an email address receives transfers only once its owner has
// confirmed it with the code mailed to it (at registration, and again after an email change).
// A transfer to an unconfirmed address is refused exactly like one to an unknown address (no
// enumeration, docs/decisions/0007-transfers-recipient-enumeration.md), and the problem says what the
// sender should do. Codes are tried a few times at most; new codes are throttled.
// Method: a whole platform (real database, real in-process SMTP server: codes are read from the
// delivered mail), app.inject(), a ManualClock.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { PW, fund, mailedCode, signUp, verifiedMember, verifyEmail, withSecurityPlatform, type Member } from '../helpers/security-kit.ts';
import type { TestPlatform } from '../helpers/accounts-testkit.ts';

function send(t: TestPlatform, from: Member, to_email: string, key: string) {
  return t.app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...from.headers, 'idempotency-key': key }, payload: { to_email, asset: 'USDT', amount: '1' } });
}

const verified = async (t: TestPlatform, m: Member) => json<{ email_verified: boolean }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: m.headers })).email_verified;

describe.each(DIALECTS)('email verification on %s', (dialect) => {
  it('a transfer to an unconfirmed address is refused like one to an unknown address, and goes through once it is confirmed', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const alice = await verifiedMember(t, 'alice@example.test');
      await fund(t, alice.id, 'USDT', '100');
      const squatter = await signUp(t, 'boss@company.example');
      expect(await verified(t, squatter)).toBe(false);

      const unconfirmed = await send(t, alice, 'boss@company.example', 'k1');
      const unknown = await send(t, alice, 'nobody@company.example', 'k2');
      expect(unconfirmed.statusCode).toBe(422);
      const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined });
      expect(strip(json(unconfirmed))).toEqual(strip(json(unknown)));
      expect(json(unconfirmed)).toMatchObject({ code: 'recipient_not_found' });
      // The problem tells the sender what to do.
      expect(String(json(unconfirmed).detail)).toMatch(/confirm/i);
      const payments = json<{ data: unknown[] }>(await t.app.inject({ method: 'GET', url: '/api/v1/payments?kind=transfer', headers: alice.headers })).data;
      expect(payments).toEqual([]);

      await verifyEmail(t, squatter);
      expect(await verified(t, squatter)).toBe(true);
      const ok = await send(t, alice, 'boss@company.example', 'k3');
      expect(ok.statusCode, ok.body).toBe(201);
    });
  });

  it('a code is tried five times at most, new codes are throttled and replace the old one, and a used code is gone', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const u = await signUp(t, 'vic@example.test');
      const first = await mailedCode(t, u.email);
      const wrong = first === '000000' ? '111111' : '000000';
      const verify = (code: string) => t.app.inject({ method: 'POST', url: '/api/v1/me/email/verify', headers: u.headers, payload: { code } });
      const resend = () => t.app.inject({ method: 'POST', url: '/api/v1/me/email/verification', headers: u.headers });
      for (let i = 0; i < 5; i++) {
        const r = await verify(wrong);
        expect([r.statusCode, json(r).code]).toEqual([422, 'invalid_code']);
      }
      // Five wrong tries spend the code: even the right one no longer works.
      const spent = await verify(first);
      expect([spent.statusCode, json(spent).code]).toEqual([422, 'invalid_code']);
      expect(await verified(t, u)).toBe(false);

      const soon = await resend();
      expect([soon.statusCode, json(soon).code]).toEqual([429, 'rate_limited']);
      expect(Number(soon.headers['retry-after'])).toBeGreaterThan(0);
      t.clock.advance(61_000);
      expect((await resend()).statusCode).toBe(202);
      const second = await mailedCode(t, u.email);
      const done = await verify(second);
      expect(done.statusCode, done.body).toBe(200);
      expect(json<{ user: { email_verified: boolean } }>(done).user.email_verified).toBe(true);
      const again = await verify(second);
      expect([again.statusCode, json(again).code]).toEqual([409, 'email_already_verified']);
      t.clock.advance(61_000);
      const needless = await resend();
      expect([needless.statusCode, json(needless).code]).toEqual([409, 'email_already_verified']);
      // Mails in the user's language.
      const zh = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'mei@example.test', password: PW, locale: 'zh-CN' } });
      expect(zh.statusCode).toBe(201);
      await t.drainJobs();
      expect(t.platform.mailbox!.to('mei@example.test').map((m) => m.subject)).toEqual([expect.stringMatching(/确认/)]);
    });
  });

  it('after an email change the new address receives nothing until it is confirmed', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const alice = await verifiedMember(t, 'alice@example.test');
      await fund(t, alice.id, 'USDT', '100');
      const bob = await verifiedMember(t, 'bob@example.test');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bob.headers, payload: { password: PW } })).statusCode).toBe(204);
      const change = await t.app.inject({ method: 'POST', url: '/api/v1/me/email', headers: bob.headers, payload: { new_email: 'bob@new.example' } });
      expect(change.statusCode, change.body).toBe(200);
      expect(json<{ user: { email_verified: boolean } }>(change).user.email_verified).toBe(false);
      const refused = await send(t, alice, 'bob@new.example', 'n1');
      expect([refused.statusCode, json(refused).code]).toEqual([422, 'recipient_not_found']);
      await verifyEmail(t, { ...bob, email: 'bob@new.example' });
      expect((await send(t, alice, 'bob@new.example', 'n2')).statusCode).toBe(201);
    });
  });
});
