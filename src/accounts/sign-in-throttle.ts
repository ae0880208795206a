// The brake on guessing (Keycloak's model, arithmetic in accounts-rules.ts): failures of sign-in
// and step-up count per account and per IP; while either must wait, attempts get 429.
import { serialiseOn } from '../db/database.ts';
import { ProblemError } from '../shared/errors.ts';
import { accountFailure, ipFailure, throttleRetryAfterS } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import type { AccountsContext } from './accounts-context.ts';

export function tooManyAttempts(retry_s: number): ProblemError {
  return new ProblemError(429, 'too_many_attempts', `Too many failed sign-in attempts; try again in ${retry_s} s.`, { retry_after_s: retry_s }, { 'retry-after': String(retry_s) });
}

/** Counts one failure against the account and the IP. */
export async function recordFailure(ctx: AccountsContext, email: string, ip: string | null): Promise<void> {
  const now = ctx.clock.now_ms();
  await ctx.db.transaction(async (trx) => {
    // Each counter is read and written under its key's lock (always account, then IP), so
    // parallel failures each count: none is lost to a read of the same old value.
    const acctKey = `acct:${email}`;
    await serialiseOn(trx, ctx.db.dialect, `throttle:${acctKey}`);
    const a = await store.throttleRow(trx, acctKey);
    await store.saveThrottle(trx, { key: acctKey, ...accountFailure(a ?? null, now, ctx.config.login_throttle) });
    if (ip) {
      const ipKey = `ip:${ip}`;
      await serialiseOn(trx, ctx.db.dialect, `throttle:${ipKey}`);
      const i = await store.throttleRow(trx, ipKey);
      await store.saveThrottle(trx, { key: ipKey, ...ipFailure(i ?? null, now) });
    }
  });
}

/** Seconds to wait before the next attempt for this account or IP, or 0. */
export async function throttleWait(ctx: AccountsContext, email: string, ip: string | null): Promise<number> {
  const { db } = ctx;
  const now = ctx.clock.now_ms();
  const a = await store.throttleRow(db.kysely, `acct:${email}`);
  let wait = throttleRetryAfterS(a ?? null, now);
  if (ip) wait = Math.max(wait, throttleRetryAfterS((await store.throttleRow(db.kysely, `ip:${ip}`)) ?? null, now));
  return wait;
}
