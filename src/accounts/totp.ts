// Binding an authenticator app (TOTP) to an account, re-binding it and turning it off; each needs
// a stepped-up session. Checking a code at sign-in lives in second-factor.ts.
import { Secret, TOTP } from 'otpauth';
import { isoTime } from '../shared/clock.ts';
import { openText, sealText } from '../shared/encryption.ts';
import { ProblemError } from '../shared/errors.ts';
import { newId, sha256Hex } from '../shared/ids.ts';
import type { Principal } from '../shared/principal.ts';
import { RECOVERY_CODES_COUNT } from './accounts-rules.ts';
import { newRecoveryCode, normalizeRecoveryCode } from './accounts-crypto.ts';
import * as store from './accounts-store.ts';
import { audit, loadUser, notice, type AccountsContext, type RequestMeta } from './accounts-context.ts';
import { totpFor } from './second-factor.ts';
import { requireStepUp } from './step-up.ts';

export async function totpSetup(ctx: AccountsContext, p: Principal, meta: RequestMeta): Promise<{ secret: string; otpauth_url: string }> {
  const { db, clock, key } = ctx;
  await requireStepUp(ctx, p);
  const u = await loadUser(db.kysely, p.user_id);
  const secret = new Secret({ size: 20 });
  const totp = new TOTP({ issuer: 'Settle', label: u.email, algorithm: 'SHA1', digits: 6, period: 30, secret });
  await db.transaction(async (trx) => {
    await store.updateUser(trx, u.id, { totp_pending_secret_enc: sealText(key, secret.base32, `totp:${u.id}`), updated_at_ms: clock.now_ms() });
    await audit(ctx, trx, 'totp_setup_started', u.id, { type: 'user', id: u.id }, meta, {});
  });
  return { secret: secret.base32, otpauth_url: totp.toString() };
}

export async function totpEnable(ctx: AccountsContext, p: Principal, code: string, meta: RequestMeta): Promise<{ recovery_codes: string[] }> {
  const { db, clock, key } = ctx;
  await requireStepUp(ctx, p);
  return db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    if (!u.totp_pending_secret_enc) throw new ProblemError(409, 'totp_setup_required', 'Start with POST /me/totp/setup.');
    const secret = openText(key, u.totp_pending_secret_enc, `totp:${u.id}`);
    const now = clock.now_ms();
    const delta = totpFor(secret, u.email).validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) throw new ProblemError(422, 'invalid_totp', 'That code is not right. Check the time on your phone, and type the current code.');
    const codes = Array.from({ length: RECOVERY_CODES_COUNT }, () => newRecoveryCode());
    await store.updateUser(trx, u.id, {
      totp_secret_enc: u.totp_pending_secret_enc, totp_pending_secret_enc: null, totp_enabled: 1, totp_bound_at_ms: now,
      totp_last_counter: Math.floor(now / 30_000) + delta, updated_at_ms: now,
    });
    await store.replaceRecoveryCodes(trx, u.id, codes.map((c) => sha256Hex(normalizeRecoveryCode(c))), now, codes.map(() => newId('rc', now)));
    await audit(ctx, trx, u.totp_enabled === 1 ? 'totp_rebound' : 'totp_enabled', u.id, { type: 'user', id: u.id }, meta, {});
    await notice(ctx, trx, u, 'totp_enabled', { at: isoTime(now) });
    return { recovery_codes: codes };
  });
}

export async function totpDisable(ctx: AccountsContext, p: Principal, meta: RequestMeta): Promise<void> {
  await requireStepUp(ctx, p);
  await ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    if (u.totp_enabled !== 1) throw new ProblemError(409, 'totp_not_enabled', 'Two-factor authentication is not on.');
    const now = ctx.clock.now_ms();
    await store.updateUser(trx, u.id, { totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled: 0, totp_last_counter: null, updated_at_ms: now });
    await store.replaceRecoveryCodes(trx, u.id, [], now, []);
    await audit(ctx, trx, 'totp_disabled', u.id, { type: 'user', id: u.id }, meta, {});
    await notice(ctx, trx, u, 'totp_disabled', { at: isoTime(now) });
  });
}
