// The second factor as sign-in and step-up check it: a TOTP code (RFC 6238, as authenticator
// apps make them) or a single-use recovery code. Binding and unbinding TOTP lives in totp.ts.
import { Secret, TOTP } from 'otpauth';
import type { DbExecutor } from '../db/database.ts';
import { openText } from '../shared/encryption.ts';
import { sha256Hex } from '../shared/ids.ts';
import { normalizeRecoveryCode } from './accounts-crypto.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';
import type { AccountsContext } from './accounts-context.ts';

export interface TotpInput {
  totp_code?: string | undefined;
  recovery_code?: string | undefined;
}

export function totpFor(secretB32: string, label: string): TOTP {
  return new TOTP({ issuer: 'Settle', label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretB32) });
}

/** Checks a TOTP code or a recovery code for a user with 2FA on; consumes it (no replay). */
export async function verifySecondFactor(ctx: AccountsContext, ex: DbExecutor, u: UserRow, input: TotpInput): Promise<'totp' | 'recovery_code' | null> {
  if (input.totp_code && u.totp_secret_enc) {
    const secret = openText(ctx.key, u.totp_secret_enc, `totp:${u.id}`);
    const now = ctx.clock.now_ms();
    const delta = totpFor(secret, u.email).validate({ token: input.totp_code, timestamp: now, window: 1 });
    if (delta === null) return null;
    const counter = Math.floor(now / 30_000) + delta;
    if (u.totp_last_counter !== null && counter <= u.totp_last_counter) return null;
    // `u` may have been read before a parallel request used this code: the claim decides.
    return (await store.claimTotpStep(ex, u.id, counter)) ? 'totp' : null;
  }
  if (input.recovery_code) {
    const ok = await store.useRecoveryCode(ex, u.id, sha256Hex(normalizeRecoveryCode(input.recovery_code)), ctx.clock.now_ms());
    return ok ? 'recovery_code' : null;
  }
  return null;
}
