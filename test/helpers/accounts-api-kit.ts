// Helpers of the accounts API tests (src/accounts/*.test.ts): a platform per test, and the steps
// many of them take — register, sign in, step up, make a staff member, turn TOTP on.
import { expect } from 'vitest';
import { bearer, json, startTestPlatform, totpCode, turnOnTotp, type TestPlatform } from './accounts-testkit.ts';

export const PW = 'correct horse battery staple';
export const UA_A = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
export const UA_B = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';

export async function withPlatform(dialect: 'sqlite' | 'postgres', fn: (t: TestPlatform) => Promise<void>): Promise<void> {
  const t = await startTestPlatform(dialect);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

export async function register(t: TestPlatform, email: string, password = PW) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password } });
}

export async function login(t: TestPlatform, email: string, password = PW, extra: Record<string, string> = {}, ip = '10.0.0.1', ua = UA_A) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password, ...extra }, remoteAddress: ip, headers: { 'user-agent': ua } });
}

export async function signedIn(t: TestPlatform, email: string, ip = '10.0.0.1') {
  expect((await register(t, email)).statusCode).toBe(201);
  const res = await login(t, email, PW, {}, ip);
  expect(res.statusCode).toBe(200);
  const body = json<{ token: string; csrf_token: string; user: { id: string } }>(res);
  return { token: body.token, csrf: body.csrf_token, id: body.user.id };
}

export async function stepUp(t: TestPlatform, token: string, body: Record<string, string>) {
  return t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: body });
}

export async function staff(t: TestPlatform, email: string, role: 'agent' | 'risk' | 'admin') {
  const u = await t.platform.accounts.createUserWithRoles(email, PW, [role]);
  const s = await t.platform.accounts.issueSessionForTests(u.id);
  // Staff routes answer only staff with 2FA on, stepped up for actions: turned on the real way.
  await turnOnTotp(t.app, s.token, PW, t.clock.now_ms());
  return { id: u.id, token: s.token };
}

export async function enableTotp(t: TestPlatform, token: string): Promise<{ secret: string; recovery: string[] }> {
  expect((await stepUp(t, token, { password: PW })).statusCode).toBe(204);
  const setup = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(token) });
  expect(setup.statusCode).toBe(200);
  const { secret, otpauth_url } = json<{ secret: string; otpauth_url: string }>(setup);
  expect(otpauth_url).toMatch(/^otpauth:\/\/totp\/Settle:.*secret=/);
  const enable = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(token), payload: { code: totpCode(secret, t.clock.now_ms()) } });
  expect(enable.statusCode).toBe(200);
  return { secret, recovery: json<{ recovery_codes: string[] }>(enable).recovery_codes };
}
