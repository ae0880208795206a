// Test support for the security findings of issue 16 (accounts and staff): a whole platform with
// one configured chain (ETH + USDT, never contacted: nothing here is broadcast), users who sign
// up and confirm their email through the mailed code (read from the in-process SMTP server),
// staff who turn TOTP on through the real flow and step up with a fresh code, and balances
// credited from the outside world through the ledger. Used only by tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Dialect } from '../../src/db/database.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { parseAmount } from '../../src/shared/money.ts';
import { bearer, json, startTestPlatform, totpCode, type TestPlatform } from './accounts-testkit.ts';

export const PW = 'correct horse battery staple';
export const TEST_USDT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
export const WITHDRAW_TO = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

export interface Member {
  id: string;
  email: string;
  token: string;
  headers: Record<string, string>;
}

export interface StaffMember extends Member {
  secret: string;
  /** Steps up with a fresh TOTP code (the clock moves one 30 s step so that the code is new). */
  stepUp(): Promise<void>;
}

/**
 * A platform whose config has one chain with USDT (review above 10 USDT, four-eyes above 50 USD
 * unless `file` says otherwise). const t = await securityPlatform('sqlite')
 */
export async function securityPlatform(dialect: Dialect, file: Record<string, unknown> = {}): Promise<TestPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-sec-'));
  const path = join(dir, 'settle.config.json');
  writeFileSync(path, JSON.stringify({
    rate_limit: { per_second: 100_000, burst: 100_000 },
    registration_throttle: { per_ip: 100_000, window_s: 60 },
    chains: [{
      chain_id: 31337, name: 'Test chain', rpc_url: 'http://127.0.0.1:1',
      native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 3 }] },
      tokens: [{ symbol: 'USDT', address: TEST_USDT, decimals: 6, min_deposit: '1', review_above: '10', confirmations: [{ max_amount: null, blocks: 3 }] }],
    }],
    ...file,
  }));
  return startTestPlatform(dialect, { SETTLE_CONFIG: path });
}

export async function withSecurityPlatform(dialect: Dialect, fn: (t: TestPlatform) => Promise<void>, file: Record<string, unknown> = {}): Promise<void> {
  const t = await securityPlatform(dialect, file);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** POST /auth/register then /auth/login: a real session (the email is not confirmed yet). */
export async function signUp(t: TestPlatform, email: string): Promise<Member> {
  const reg = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PW } });
  expect(reg.statusCode, reg.body).toBe(201);
  const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: PW } });
  expect(login.statusCode, login.body).toBe(200);
  const body = json<{ token: string; user: { id: string; email: string } }>(login);
  return { id: body.user.id, email: body.user.email, token: body.token, headers: bearer(body.token) };
}

/** The newest email-confirmation code mailed to `email`, delivered through the real SMTP path. */
export async function mailedCode(t: TestPlatform, email: string): Promise<string> {
  await t.drainJobs();
  const mails = t.platform.mailbox!.to(email).filter((m) => /confirm|确认/i.test(m.subject));
  const last = mails[mails.length - 1];
  expect(last, `no confirmation mail to ${email}`).toBeDefined();
  const code = /\b(\d{6})\b/.exec(last!.text)?.[1];
  expect(code, last!.text).toBeDefined();
  return code!;
}

/** Confirms a member's email the way a person does: reads the mailed code and sends it back. */
export async function verifyEmail(t: TestPlatform, m: Member): Promise<void> {
  const code = await mailedCode(t, m.email);
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/me/email/verify', headers: m.headers, payload: { code } });
  expect(res.statusCode, res.body).toBe(200);
}

/** signUp + verifyEmail. */
export async function verifiedMember(t: TestPlatform, email: string): Promise<Member> {
  const m = await signUp(t, email);
  await verifyEmail(t, m);
  return m;
}

async function stepUpWith(t: TestPlatform, token: string, body: Record<string, string>): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: body });
  expect(res.statusCode, res.body).toBe(204);
}

/**
 * A staff member as the operator makes one (`settle admin create`), who then turns TOTP on
 * through /me/totp/setup and /me/totp/enable and signs in with it. Not stepped up yet.
 */
export async function staffMember(t: TestPlatform, email: string, role: 'agent' | 'risk' | 'admin', opts: { totp?: boolean } = {}): Promise<StaffMember> {
  const u = await t.platform.accounts.createUserWithRoles(email, PW, [role]);
  let secret = '';
  if (opts.totp !== false) {
    const first = await t.platform.accounts.issueSessionForTests(u.id);
    await stepUpWith(t, first.token, { password: PW });
    const setup = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(first.token) });
    expect(setup.statusCode, setup.body).toBe(200);
    secret = json<{ secret: string }>(setup).secret;
    const enable = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(first.token), payload: { code: totpCode(secret, t.clock.now_ms()) } });
    expect(enable.statusCode, enable.body).toBe(200);
  }
  const s = await t.platform.accounts.issueSessionForTests(u.id);
  return {
    id: u.id, email: u.email, token: s.token, headers: bearer(s.token), secret,
    async stepUp() {
      t.clock.advance(30_000);
      await stepUpWith(t, s.token, secret ? { totp_code: totpCode(secret, t.clock.now_ms()) } : { password: PW });
    },
  };
}

/** staffMember, stepped up. */
export async function steppedUpStaff(t: TestPlatform, email: string, role: 'agent' | 'risk' | 'admin'): Promise<StaffMember> {
  const s = await staffMember(t, email, role);
  await s.stepUp();
  return s;
}

/** Credits a user's available balance from the outside world (a booked deposit, without a chain). */
export async function fund(t: TestPlatform, user_id: string, asset: 'USDT', amount: string): Promise<void> {
  const parsed = parseAmount(amount, 6);
  if (!parsed.ok) throw new Error('bad amount');
  const ext = ledgerAccountId('platform', 'platform', asset, 'external');
  const avail = ledgerAccountId('user', user_id, asset, 'user_available');
  const { ledger } = t.platform;
  await ledger.ensureAccounts([
    { id: ext, asset, owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
    { id: avail, asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
  ]);
  const [r] = await ledger.createTransfers([{ id: `fund:${user_id}:${asset}:${Math.random().toString(36).slice(2)}`, debit_account_id: ext, credit_account_id: avail, amount_minor: parsed.amount_minor, asset, reason: 'test.fund', reference: null }]);
  if (r?.result !== 'ok') throw new Error(`fund failed: ${r?.result}`);
}

/** The audit rows of one action, oldest first. */
export async function auditRows(t: TestPlatform, action: string): Promise<Array<{ actor_id: string | null; subject_id: string | null; details: string }>> {
  return t.platform.db.kysely.selectFrom('audit_log').select(['actor_id', 'subject_id', 'details']).where('action', '=', action).orderBy('at_ms').execute();
}
