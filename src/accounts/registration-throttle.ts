// Registration costs an argon2id hash whatever the answer (a taken email is answered like a free
// one, at the same cost), so an unthrottled /auth/register is a CPU lever for anyone. Each client
// IP may register config.registration_throttle.per_ip times per window; past that, 429
// too_many_attempts with Retry-After, before any hashing. The window's arithmetic is the login
// throttle's per-IP window (accounts-rules ipFailure), counted in the same table under `reg:`.
import { ProblemError } from '../shared/errors.ts';
import { ipFailure, throttleRetryAfterS } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import type { AccountsContext } from './accounts-context.ts';

/** Counts one registration for `ip`, or throws 429 when its window is used up. No IP (the CLI): no limit. */
export async function takeRegistration(ctx: AccountsContext, ip: string | null): Promise<void> {
  if (!ip) return;
  const { per_ip, window_s } = ctx.config.registration_throttle;
  const key = `reg:${ip}`;
  const wait_s = await ctx.db.transaction(async (trx) => {
    const now = ctx.clock.now_ms();
    const prev = (await store.throttleRow(trx, key)) ?? null;
    const wait = throttleRetryAfterS(prev, now);
    if (wait > 0) return wait;
    await store.saveThrottle(trx, { key, ...ipFailure(prev, now, per_ip, window_s * 1000) });
    return 0;
  });
  if (wait_s > 0) {
    throw new ProblemError(429, 'too_many_attempts', `Too many registrations from this address; try again in ${wait_s} s.`, { retry_after_s: wait_s }, { 'retry-after': String(wait_s) });
  }
}
