// Registration and sign-in. A taken email gets the same answer as a free one, and an unknown email
// the same answer as a wrong password, at the same cost (docs/decisions/0005-accounts-security.md).
import { isUniqueViolation } from '../db/database.ts';
import { takeRegistration } from './registration-throttle.ts';
import type { DbExecutor } from '../db/database.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { pickLocale } from '../shared/i18n.ts';
import { newId } from '../shared/ids.ts';
import type { Role } from '../shared/principal.ts';
import { REGISTER_ATTEMPT_MAIL_MS, normalizeEmail } from './accounts-rules.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './accounts-crypto.ts';
import * as store from './accounts-store.ts';
import { issueEmailCode } from './email-verification.ts';
import type { UserRow } from './accounts-store.ts';
import { audit, checkNewPassword, notice, toDto, type AccountsContext, type RequestMeta, type UserDto } from './accounts-context.ts';
import { noteDevice } from './new-device.ts';
import { verifySecondFactor, type TotpInput } from './second-factor.ts';
import { issueSession } from './sessions.ts';
import { recordFailure, throttleWait, tooManyAttempts } from './sign-in-throttle.ts';
import { decideLogin } from './login-risk.ts';

type RegisterInput = { email: string; password: string; locale?: string | undefined };
type CreateResult = { created: true; user: UserDto } | { created: false; owner_id: string; lookalike: UserDto };

function invalidCredentials(): ProblemError {
  return new ProblemError(401, 'invalid_credentials', 'The email or password is not right.');
}

/**
 * Validates, hashes (always: both outcomes cost one argon2id hash) and inserts a user, or, when
 * the email is taken, records the attempt on the owner's account and tells them, in the same
 * kind of transaction, and returns what a new account would have looked like.
 */
async function createUser(ctx: AccountsContext, input: RegisterInput, meta: RequestMeta, roles: Role[], opts: { email_vouched?: boolean } = {}): Promise<CreateResult> {
  const { db, config, clock } = ctx;
  const email = normalizeEmail(input.email, config.limits.email_length_max);
  if (!email) throw new ProblemError(400, 'invalid_email', 'That is not an email address we can use.');
  const locale = pickLocale(input.locale ?? null);
  checkNewPassword(ctx, input.password, email, locale);
  const password_hash = await hashPassword(input.password);
  const now = clock.now_ms();
  const id = newId('usr', now);
  const row: UserRow = {
    id, email, password_hash, status: 'active', kyc_level: 0, locale, roles: JSON.stringify(roles), totp_secret_enc: null, totp_pending_secret_enc: null,
    totp_enabled: 0, totp_last_counter: null, totp_bound_at_ms: null, password_changed_at_ms: now, identity_verified_at_ms: null,
    cooldown_until_ms: null, created_at_ms: now, updated_at_ms: now,
    email_verified_at_ms: opts.email_vouched ? now : null, restricted_at_ms: null, restricted_by: null,
  };
  const attempt = async (): Promise<CreateResult> => db.transaction(async (trx): Promise<CreateResult> => {
    const owner = await store.userByEmail(trx, email);
    if (owner) {
      await noteRegistrationAttempt(ctx, trx, owner, meta);
      // What a fresh account looks like, with an id that was never stored: nothing of the owner.
      return { created: false, owner_id: owner.id, lookalike: await toDto(ctx, trx, row) };
    }
    await store.insertUser(trx, row);
    await audit(ctx, trx, 'registered', id, { type: 'user', id }, meta, { roles });
    // The address receives transfers once its owner sends back the code mailed to it.
    if (!opts.email_vouched) await issueEmailCode(ctx, trx, row);
    return { created: true, user: await toDto(ctx, trx, row) };
  });
  try {
    return await attempt();
  } catch (error) {
    // Two registrations of one new email at once: the loser sees the winner's row on retry.
    if (isUniqueViolation(error)) return attempt();
    throw error;
  }
}

/** A registration with a taken email: audited on the owner's account; the owner is mailed, at most once per interval. */
async function noteRegistrationAttempt(ctx: AccountsContext, ex: DbExecutor, owner: UserRow, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now_ms();
  const last = await store.lastAuditAt(ex, owner.id, 'registration_attempted');
  const mailed = last === null || now - last >= REGISTER_ATTEMPT_MAIL_MS;
  await audit(ctx, ex, 'registration_attempted', owner.id, { type: 'user', id: null }, meta, { mailed });
  if (mailed) await notice(ctx, ex, owner, 'registration_attempted', { at: isoTime(now), sign_in: `${ctx.config.public_url}/` });
}

/**
 * register({ email, password, locale }, meta) -> UserDto (201); 400 weak_password / invalid_email.
 * A taken email gets the same answer as a free one (docs/decisions/0005-accounts-security.md):
 * the same argon2id hash is paid, nothing is created, the DTO carries a fresh id that belongs to
 * nobody, and the owner is told by mail (at most one such mail per REGISTER_ATTEMPT_MAIL_MS).
 */
export async function register(ctx: AccountsContext, input: RegisterInput, meta: RequestMeta): Promise<UserDto> {
  await takeRegistration(ctx, meta.ip);
  const r = await createUser(ctx, input, meta, ['user']);
  return r.created ? r.user : r.lookalike;
}

/**
 * Creates a user with roles directly (the `settle admin create` command). Its email counts as
 * confirmed: the operator who types it at the command line vouches for the address.
 */
export async function createUserWithRoles(ctx: AccountsContext, email: string, password: string, roles: Role[]): Promise<UserDto> {
  const r = await createUser(ctx, { email, password }, { ip: null, user_agent: 'settle-cli', request_id: null }, [...new Set<Role>(['user', ...roles])], { email_vouched: true });
  // The operator at the command line owns the database: telling them is no leak.
  if (!r.created) throw new ProblemError(409, 'email_taken', 'An account with that email already exists.');
  return r.user;
}

/**
 * login({ email, password, totp_code? }, meta) -> { token, csrf_token, expires_at_ms, user }.
 * Unknown email and wrong password take the same path (one argon2 verify) and the same answer.
 */
export async function login(ctx: AccountsContext, input: { email: string; password: string } & TotpInput, meta: RequestMeta) {
  const { db, config } = ctx;
  const email = normalizeEmail(input.email, config.limits.email_length_max) ?? input.email.trim().toLowerCase().slice(0, config.limits.email_length_max);
  const wait = await throttleWait(ctx, email, meta.ip);
  if (wait > 0) throw tooManyAttempts(wait);
  const u = await store.userByEmail(db.kysely, email);
  const ok = await verifyPassword(u ? u.password_hash : await dummyPasswordHash(), input.password);
  if (!u || !ok) {
    await recordFailure(ctx, email, meta.ip);
    if (u) await audit(ctx, db.kysely, 'login_failed', u.id, { type: 'user', id: null }, meta, { factor: 'password' });
    throw invalidCredentials();
  }
  if (u.status === 'closed') throw new ProblemError(403, 'account_closed', 'This account is closed.');
  if (u.totp_enabled === 1) {
    if (!input.totp_code && !input.recovery_code) throw new ProblemError(401, 'totp_required', 'Enter the 6-digit code from your authenticator app, or a recovery code.', { factors: ['totp', 'recovery_code'] });
    const factor = await db.transaction((trx) => verifySecondFactor(ctx, trx, u, input));
    if (!factor) {
      await recordFailure(ctx, email, meta.ip);
      await audit(ctx, db.kysely, 'login_failed', u.id, { type: 'user', id: null }, meta, { factor: 'totp' });
      throw new ProblemError(401, 'invalid_totp', 'That code is not right (or was already used). Codes change every 30 seconds.');
    }
  }
  const risk = await decideLogin(ctx, u, meta);
  // A freeze decided at sign-in changed the account: the answer shows it frozen.
  const signedIn = risk?.frozen ? ((await store.userByEmail(db.kysely, email)) ?? u) : u;
  return db.transaction(async (trx) => {
    await store.clearThrottle(trx, `acct:${email}`);
    await risk?.record(trx);
    const fingerprint = await noteDevice(ctx, trx, signedIn, meta);
    const s = await issueSession(ctx, trx, signedIn.id, meta, fingerprint);
    await audit(ctx, trx, 'login', u.id, { type: 'user', id: u.id }, meta, { session_id: s.session_id, second_factor: u.totp_enabled === 1 });
    return { ...s, user: await toDto(ctx, trx, signedIn) };
  });
}
