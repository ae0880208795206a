// Step-up: a signed-in user confirms it is them (a second factor when 2FA is on, else the
// password) and their session gets a 15-minute privileged window; security changes (TOTP, API
// keys, password, email, withdrawals) require that window.
import { ProblemError } from '../shared/errors.ts';
import type { Principal } from '../shared/principal.ts';
import { STEP_UP_WINDOW_MS } from './accounts-rules.ts';
import { verifyPassword } from './accounts-crypto.ts';
import * as store from './accounts-store.ts';
import { audit, loadUser, type AccountsContext, type RequestMeta } from './accounts-context.ts';
import { verifySecondFactor, type TotpInput } from './second-factor.ts';
import { recordFailure, throttleWait, tooManyAttempts } from './sign-in-throttle.ts';

/** Factors a step-up accepts for this user: a second factor when 2FA is on, else the password. */
export async function stepUpFactors(ctx: AccountsContext, user_id: string): Promise<string[]> {
  const u = await loadUser(ctx.db.kysely, user_id);
  return u.totp_enabled === 1 ? ['totp', 'recovery_code'] : ['password'];
}

/** Throws 401 step_up_required (with the accepted factors) unless this session's privileged window is open. */
export async function requireStepUp(ctx: AccountsContext, p: Principal): Promise<void> {
  if (p.kind !== 'session') throw new ProblemError(403, 'session_required', 'This needs a signed-in session, not an API key.');
  if (p.privileged_until_ms !== null && p.privileged_until_ms > ctx.clock.now_ms()) return;
  const factors = await stepUpFactors(ctx, p.user_id);
  throw new ProblemError(401, 'step_up_required', `Confirm it is you first: POST /api/v1/auth/step-up with ${factors.join(' or ')}.`, { factors });
}

/** stepUp(p, { password } | { totp_code }) opens a 15-minute privileged window for this session. */
export async function stepUp(ctx: AccountsContext, p: Principal, input: { password?: string | undefined } & TotpInput, meta: RequestMeta): Promise<{ privileged_until_ms: number }> {
  const { db, clock } = ctx;
  if (p.kind !== 'session' || !p.session_id) throw new ProblemError(403, 'session_required', 'Step-up needs a signed-in session, not an API key.');
  const wait = await throttleWait(ctx, p.email, meta.ip);
  if (wait > 0) throw tooManyAttempts(wait);
  const u = await loadUser(db.kysely, p.user_id);
  const factors = u.totp_enabled === 1 ? ['totp', 'recovery_code'] : ['password'];
  let used: string | null = null;
  if (u.totp_enabled === 1) {
    if (input.totp_code || input.recovery_code) used = await db.transaction((trx) => verifySecondFactor(ctx, trx, u, input));
  } else if (input.password !== undefined) {
    used = (await verifyPassword(u.password_hash, input.password)) ? 'password' : null;
  }
  if (!used) {
    if (input.password !== undefined || input.totp_code || input.recovery_code) await recordFailure(ctx, u.email, meta.ip);
    await audit(ctx, db.kysely, 'step_up_failed', u.id, { type: 'user', id: u.id }, meta, {});
    throw new ProblemError(401, 'step_up_failed', `That did not confirm it is you. Accepted: ${factors.join(', ')}.`, { factors });
  }
  const until = clock.now_ms() + STEP_UP_WINDOW_MS;
  await db.transaction(async (trx) => {
    await store.setSessionPrivileged(trx, p.session_id!, until);
    await audit(ctx, trx, 'step_up', u.id, { type: 'user', id: u.id }, meta, { factor: used });
  });
  return { privileged_until_ms: until };
}
