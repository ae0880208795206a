// Email confirmation (issue 16): transfers go by email, so an address receives them only once its
// owner has shown they read it — a six-digit code mailed to it, sent back through
// POST /me/email/verify. A code is mailed at registration and after every email change (the new
// address starts unconfirmed); POST /me/email/verification mails a new one (throttled). The code
// travels by mail only, never as an in-app notice: a notice would let whoever holds a session
// confirm an address they cannot read. Sign-in and registration are unchanged (API.md).
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { DbExecutor } from '../db/database.ts';
import { enqueueMail } from '../notify/notify.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { translate } from '../shared/i18n.ts';
import type { Principal } from '../shared/principal.ts';
import type { UserRow } from './accounts-store.ts';
import { asLocale, audit, loadUser, toDto, type AccountsContext, type RequestMeta, type UserDto } from './accounts-context.ts';
import { EMAIL_CODE_ATTEMPTS_MAX, EMAIL_CODE_TTL_MS, codeUsable, resendWaitS, sendWindow } from './email-verification-rules.ts';
import { emailCodeMessages } from './accounts-messages.ts';
import * as store from './email-verification-store.ts';

/** Keyed with the platform's secret: a leaked table does not give the six digits away by brute force. */
function codeHash(ctx: AccountsContext, user_id: string, email: string, code: string): string {
  return createHmac('sha256', ctx.key).update(`email-code:${user_id}:${email}:${code}`).digest('hex');
}

function alreadyVerified(): ProblemError {
  return new ProblemError(409, 'email_already_verified', 'Your email address is already confirmed.');
}

/**
 * Mails a new code to the user's current address (voiding any earlier one), in the caller's
 * transaction: the mail leaves only if the change that asked for it commits.
 */
export async function issueEmailCode(ctx: AccountsContext, ex: DbExecutor, u: Pick<UserRow, 'id' | 'email' | 'locale'>): Promise<{ expires_at_ms: number }> {
  const now = ctx.clock.now_ms();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const window = sendWindow((await store.emailCodeOf(ex, u.id)) ?? null, now);
  const expires_at_ms = now + EMAIL_CODE_TTL_MS;
  await store.saveEmailCode(ex, {
    user_id: u.id, email: u.email, code_hash: codeHash(ctx, u.id, u.email, code), attempts: 0, sent_at_ms: now, expires_at_ms,
    sends_in_window: window.sends_in_window + 1, window_started_at_ms: window.window_started_at_ms,
  });
  const locale = asLocale(u.locale);
  const params = { code, until: isoTime(expires_at_ms), link: `${ctx.config.public_url}/security` };
  await enqueueMail(ex, { to: u.email, subject: translate(emailCodeMessages, 'email_code_title', locale, params), text: translate(emailCodeMessages, 'email_code_body', locale, params) }, ctx.clock);
  return { expires_at_ms };
}

/** POST /me/email/verification: a new code to the current address -> when it expires. 409 if confirmed; 429 rate_limited. */
export async function resendEmailCode(ctx: AccountsContext, p: Principal, meta: RequestMeta): Promise<{ email: string; expires_at: string }> {
  return ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    if (u.email_verified_at_ms !== null) throw alreadyVerified();
    const wait_s = resendWaitS((await store.emailCodeOf(trx, u.id)) ?? null, u.email, ctx.clock.now_ms());
    if (wait_s > 0) throw new ProblemError(429, 'rate_limited', `A code was mailed a moment ago; you may ask for another in ${wait_s} s.`, { retry_after_s: wait_s }, { 'retry-after': String(wait_s) });
    const { expires_at_ms } = await issueEmailCode(ctx, trx, u);
    await audit(ctx, trx, 'email_code_sent', u.id, { type: 'user', id: u.id }, meta, {});
    return { email: u.email, expires_at: isoTime(expires_at_ms) };
  });
}

/**
 * POST /me/email/verify {code}: confirms the current address. Each call spends one of the
 * code's tries before comparing (parallel guesses share none); 422 invalid_code for a wrong,
 * spent or expired code; 409 email_already_verified.
 */
export async function verifyEmailCode(ctx: AccountsContext, p: Principal, code: string, meta: RequestMeta): Promise<UserDto> {
  const { db, clock } = ctx;
  const u = await loadUser(db.kysely, p.user_id);
  if (u.email_verified_at_ms !== null) throw alreadyVerified();
  const now = clock.now_ms();
  const row = (await store.emailCodeOf(db.kysely, u.id)) ?? null;
  const usable = codeUsable(row, u.email, now) && (await store.spendEmailCodeTry(db.kysely, u.id, u.email, EMAIL_CODE_ATTEMPTS_MAX, now));
  const expected = Buffer.from(row?.code_hash ?? '', 'hex');
  const given = Buffer.from(codeHash(ctx, u.id, u.email, code), 'hex');
  if (!usable || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    await audit(ctx, db.kysely, 'email_verification_failed', u.id, { type: 'user', id: u.id }, meta, {});
    throw new ProblemError(422, 'invalid_code', 'That code is not right, or it has expired or been tried too often. Ask for a new one with POST /me/email/verification.');
  }
  return db.transaction(async (trx) => {
    // The address may have changed since the code was read: the update is conditional on it.
    if (!(await store.markEmailVerified(trx, u.id, u.email, clock.now_ms()))) throw new ProblemError(422, 'invalid_code', 'Your email address changed since this code was sent; use the code mailed to the new address.');
    await store.deleteEmailCode(trx, u.id);
    await audit(ctx, trx, 'email_verified', u.id, { type: 'user', id: u.id }, meta, { email: u.email });
    return toDto(ctx, trx, await loadUser(trx, u.id));
  });
}
