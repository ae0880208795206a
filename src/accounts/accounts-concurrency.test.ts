// Goal: login throttling and TOTP hold under parallel requests (issue 16, finding 3): every
// failed attempt is counted, however many arrive at once, and one TOTP code signs in (or steps
// up) once, never twice.
// Method: a whole platform per test on each dialect, real parallel requests (Promise.all of
// app.inject()), codes from an independent RFC 6238 generator; the throttle counters are read
// from their table.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, startTestPlatform, totpCode, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';

const PW = 'correct horse battery staple';
const PARALLEL = 8;

async function withPlatform(dialect: 'sqlite' | 'postgres', fn: (t: TestPlatform) => Promise<void>): Promise<void> {
  const t = await startTestPlatform(dialect);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

const login = (t: TestPlatform, email: string, password: string, extra: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password, ...extra }, remoteAddress: '10.0.0.7' });

async function userWithTotp(t: TestPlatform, email: string): Promise<{ token: string; secret: string }> {
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PW } })).statusCode).toBe(201);
  const token = json<{ token: string }>(await login(t, email, PW)).token;
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: { password: PW } })).statusCode).toBe(204);
  const { secret } = json<{ secret: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(token) }));
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(token), payload: { code: totpCode(secret, t.clock.now_ms()) } })).statusCode).toBe(200);
  // The enabling code's 30 s step is used: the codes below belong to the next one.
  t.clock.advance(30_000);
  return { token, secret };
}

describe.each(DIALECTS)('accounts under concurrency on %s', (dialect) => {
  it('counts every one of many parallel failed logins, per account and per IP', async () => {
    await withPlatform(dialect, async (t) => {
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'ann@example.com', password: PW } })).statusCode).toBe(201);
      const res = await Promise.all(Array.from({ length: PARALLEL }, () => login(t, 'ann@example.com', 'wrong password entirely')));
      expect(res.every((r) => r.statusCode === 401)).toBe(true);
      const rows = await t.platform.db.kysely.selectFrom('login_throttle').select(['key', 'failures']).where('key', 'in', ['acct:ann@example.com', 'ip:10.0.0.7']).orderBy('key').execute();
      expect(rows.map((r) => [r.key, Number(r.failures)])).toEqual([['acct:ann@example.com', PARALLEL], ['ip:10.0.0.7', PARALLEL]]);
      // Past the account's threshold: even the right password waits.
      expect((await login(t, 'ann@example.com', PW)).statusCode).toBe(429);
    });
  });

  it('accepts one TOTP code once when two logins send it at the same time', async () => {
    await withPlatform(dialect, async (t) => {
      const { secret } = await userWithTotp(t, 'tom@example.com');
      const code = totpCode(secret, t.clock.now_ms());
      const res = await Promise.all(Array.from({ length: PARALLEL }, () => login(t, 'tom@example.com', PW, { totp_code: code })));
      expect(res.filter((r) => r.statusCode === 200)).toHaveLength(1);
      // The others are refused (invalid_totp, or throttled once enough of them failed).
      expect(res.every((r) => [200, 401, 429].includes(r.statusCode))).toBe(true);
    });
  });

  it('accepts one TOTP code once when two step-ups send it at the same time', async () => {
    await withPlatform(dialect, async (t) => {
      const { token, secret } = await userWithTotp(t, 'tia@example.com');
      const code = totpCode(secret, t.clock.now_ms());
      const res = await Promise.all(Array.from({ length: PARALLEL }, () => t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: { totp_code: code } })));
      expect(res.filter((r) => r.statusCode === 204)).toHaveLength(1);
      expect(res.every((r) => [204, 401, 429].includes(r.statusCode))).toBe(true);
    });
  });
});
