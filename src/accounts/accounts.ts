// The accounts module's face: the only file other modules import. It owns who people are
// (register, login, sessions, API keys, TOTP, step-up), how their account stands (active,
// restricted, frozen, closed; KYC level and limits; the cool-down after an unfreeze) and the
// unfreeze workflow. Every security event is written to the core audit_log with
// subject_type 'user' in the same transaction as the change; account.frozen / account.unfrozen
// go to the outbox so that payments can hold and release balances.
//
// Authentication (see docs/decisions/accounts-auth.md):
//   Authorization: Bearer <session token> | Bearer sk_<api key>, or the `settle_session` cookie.
//   Cookie-authenticated unsafe requests (not GET/HEAD/OPTIONS) must carry `x-csrf-token` equal
//   to the session's CSRF token (given at login in the body and the readable `settle_csrf`
//   cookie): the double-submit pattern, bound to the session because only its hash is stored.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import { isUniqueViolation } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { enqueueMail } from '../notify/mail.ts';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { translate, pickLocale, type Locale } from '../shared/i18n.ts';
import { newId, randomToken, sha256Hex } from '../shared/ids.ts';
import { ROLES, type Principal, type Role, type UserStatus } from '../shared/principal.ts';
import {
  API_KEY_SCOPES, COOLDOWN_MS, FREEZE_REASONS, NOT_ME_TOKEN_TTL_MS, RECOVERY_CODES_COUNT, REGISTER_ATTEMPT_MAIL_MS, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS,
  SESSION_TOUCH_MS, STAFF_ACTIONS, STEP_UP_WINDOW_MS, accountFailure, checkPassword, deviceFingerprint, explainFreeze, ipFailure,
  kycLimits, nextStatus, normalizeEmail, passwordMessages, receiveMode, requirementMessages, sendPermission, sniffContentType,
  staffMayActOn, throttleRetryAfterS, unfreezePlan, withdrawPermission,
  type ApiKeyScope, type FreezeReason, type KycLimits, type Permission, type StatusAction, type ThrottleState, type UserFacts,
} from './accounts-rules.ts';
import { dummyPasswordHash, hashPassword, newRecoveryCode, normalizeRecoveryCode, verifyPassword } from './accounts-crypto.ts';
import { loadEncryptionKey, open, openText, seal, sealText } from '../shared/encryption.ts';
import { noticeMessages } from './accounts-messages.ts';
import { commonPasswords } from './common-passwords.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';

export { kycLimits, sendPermission, withdrawPermission, receiveMode, FREEZE_REASONS, API_KEY_SCOPES, STAFF_ACTIONS };
export type { KycLimits, Permission, FreezeReason, ApiKeyScope };

export const SESSION_COOKIE = 'settle_session';
export const CSRF_COOKIE = 'settle_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Where a request came from, for the audit log and device detection. */
export interface RequestMeta {
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export function metaOf(req: FastifyRequest): RequestMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, user_agent: typeof ua === 'string' ? ua.slice(0, 512) : null, request_id: req.id };
}

export interface UserDto {
  id: string;
  email: string;
  status: UserStatus;
  kyc_level: number;
  totp_enabled: boolean;
  locale: Locale;
  roles: Role[];
  created_at: string;
  cooldown_until: string | null;
  freezes: Array<{ reason: FreezeReason; since: string; by: string; message: string; what_to_do: string[] }>;
}

/** How an account stands, for other modules (payments, trades, risk). */
export interface AccountStanding {
  user_id: string;
  status: UserStatus;
  kyc_level: number;
  cooldown_until_ms: number | null;
  send: Permission;
  withdraw: Permission;
  receive: 'credit' | 'hold' | 'refuse';
  limits: KycLimits;
}

/** The two parties of a transfer, read together (AccountsModule.transferParties). */
export interface TransferParties {
  sender: AccountStanding;
  /** null when no account has that email. */
  recipient: { email: string; standing: AccountStanding } | null;
}

function standingOf(u: UserRow, now_ms: number): AccountStanding {
  const status = u.status as UserStatus;
  return {
    user_id: u.id, status, kyc_level: u.kyc_level, cooldown_until_ms: u.cooldown_until_ms,
    send: sendPermission(status), withdraw: withdrawPermission(status, u.cooldown_until_ms, now_ms), receive: receiveMode(status), limits: kycLimits(u.kyc_level),
  };
}

export interface AccountsDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** Defaults to config.encryption_key, or a key generated into the data dir. */
  encryption_key?: Buffer;
}

export type Actor = { type: 'user' | 'staff' | 'system'; id: string | null };

interface TotpInput {
  totp_code?: string | undefined;
  recovery_code?: string | undefined;
}

function parseRoles(text: string): Role[] {
  const list = JSON.parse(text) as string[];
  return list.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}

function asLocale(text: string): Locale {
  return text === 'zh-CN' ? 'zh-CN' : 'en';
}

function tokenHash(token: string): string {
  return sha256Hex(token);
}

function invalidCredentials(): ProblemError {
  return new ProblemError(401, 'invalid_credentials', 'The email or password is not right.');
}

function apiKeySuspended(): ProblemError {
  return new ProblemError(403, 'account_frozen', 'The account that owns this API key is frozen, so its API keys are suspended until it is unfrozen. The owner can still sign in to see balances and payments and to ask to be unfrozen.');
}

function tooManyAttempts(retry_s: number): ProblemError {
  return new ProblemError(429, 'too_many_attempts', `Too many failed sign-in attempts; try again in ${retry_s} s.`, { retry_after_s: retry_s }, { 'retry-after': String(retry_s) });
}

/** const accounts = createAccounts({ db, config, clock }); app hook: accounts.authenticate */
export function createAccounts(deps: AccountsDeps) {
  const { db, config, clock } = deps;
  const key = deps.encryption_key ?? loadEncryptionKey(config.encryption_key, config.data_dir);
  const policy = config.login_throttle;
  const secureCookie = config.public_url.startsWith('https://');
  const hot = store.hotQueries(db);
  const common_passwords = commonPasswords();

  // ---------------------------------------------------------------- helpers
  async function audit(ex: DbExecutor, action: string, user_id: string | null, actor: Actor, meta: RequestMeta | null, details: Record<string, unknown> = {}): Promise<void> {
    const now = clock.now_ms();
    await store.insertAudit(ex, {
      id: newId('aud', now), at_ms: now, actor_type: actor.type, actor_id: actor.id, action,
      subject_type: user_id ? 'user' : null, subject_id: user_id,
      ip: meta?.ip ?? null, user_agent: meta?.user_agent ?? null, request_id: meta?.request_id ?? null, details: JSON.stringify(details),
    });
  }

  /** In-app notification and mail, in the user's language, in the caller's transaction. */
  async function notice(ex: DbExecutor, user: UserRow, kind: string, title: keyof typeof noticeMessages, body: keyof typeof noticeMessages, params: Record<string, string>, link: string | null = null): Promise<void> {
    const locale = asLocale(user.locale);
    const t = translate(noticeMessages, title, locale, params);
    const b = translate(noticeMessages, body, locale, params);
    const now = clock.now_ms();
    await store.insertNotification(ex, { id: newId('ntf', now), user_id: user.id, kind, title: t, body: b, link, created_at_ms: now, read_at_ms: null });
    await enqueueMail(ex, { to: user.email, subject: t, text: b }, clock);
  }

  async function loadUser(ex: DbExecutor, id: string): Promise<UserRow> {
    const u = await store.userById(ex, id);
    if (!u) throw problems.notFound('user');
    return u;
  }

  async function toDto(ex: DbExecutor, u: UserRow): Promise<UserDto> {
    const locale = asLocale(u.locale);
    const freezes = u.status === 'frozen' ? await store.activeFreezes(ex, u.id) : [];
    return {
      id: u.id, email: u.email, status: u.status as UserStatus, kyc_level: u.kyc_level, totp_enabled: u.totp_enabled === 1, locale,
      roles: parseRoles(u.roles), created_at: isoTime(u.created_at_ms),
      cooldown_until: u.cooldown_until_ms && u.cooldown_until_ms > clock.now_ms() ? isoTime(u.cooldown_until_ms) : null,
      freezes: freezes.map((f) => {
        const e = explainFreeze(f.reason as FreezeReason, locale);
        return { reason: e.reason, since: isoTime(f.created_at_ms), by: f.actor_type, message: e.message, what_to_do: e.what_to_do };
      }),
    };
  }

  function checkNewPassword(password: string, email: string, locale: Locale): void {
    const v = checkPassword(password, email, config.limits.password_length_max, common_passwords);
    if (!v.ok) {
      throw new ProblemError(400, 'weak_password', translate(passwordMessages, v.reason, locale, { max: config.limits.password_length_max }), { reason: v.reason });
    }
  }

  function totpFor(secretB32: string, label: string): TOTP {
    return new TOTP({ issuer: 'Settle', label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretB32) });
  }

  /** Checks a TOTP code or a recovery code for a user with 2FA on; consumes it (no replay). */
  async function verifySecondFactor(ex: DbExecutor, u: UserRow, input: TotpInput): Promise<'totp' | 'recovery_code' | null> {
    if (input.totp_code && u.totp_secret_enc) {
      const secret = openText(key, u.totp_secret_enc, `totp:${u.id}`);
      const now = clock.now_ms();
      const delta = totpFor(secret, u.email).validate({ token: input.totp_code, timestamp: now, window: 1 });
      if (delta === null) return null;
      const counter = Math.floor(now / 30_000) + delta;
      if (u.totp_last_counter !== null && counter <= u.totp_last_counter) return null;
      await store.updateUser(ex, u.id, { totp_last_counter: counter });
      return 'totp';
    }
    if (input.recovery_code) {
      const ok = await store.useRecoveryCode(ex, u.id, sha256Hex(normalizeRecoveryCode(input.recovery_code)), clock.now_ms());
      return ok ? 'recovery_code' : null;
    }
    return null;
  }

  async function recordFailure(email: string, ip: string | null): Promise<void> {
    const now = clock.now_ms();
    await db.transaction(async (trx) => {
      const acctKey = `acct:${email}`;
      const a = await store.throttleRow(trx, acctKey);
      await store.saveThrottle(trx, { key: acctKey, ...accountFailure(a ?? null, now, policy) });
      if (ip) {
        const ipKey = `ip:${ip}`;
        const i = await store.throttleRow(trx, ipKey);
        await store.saveThrottle(trx, { key: ipKey, ...ipFailure(i ?? null, now) });
      }
    });
  }

  async function throttleWait(email: string, ip: string | null): Promise<number> {
    const now = clock.now_ms();
    const a = await store.throttleRow(db.kysely, `acct:${email}`);
    let wait = throttleRetryAfterS(a ?? null, now);
    if (ip) wait = Math.max(wait, throttleRetryAfterS((await store.throttleRow(db.kysely, `ip:${ip}`)) ?? null, now));
    return wait;
  }

  async function issueSession(ex: DbExecutor, user_id: string, meta: RequestMeta, fingerprint: string | null): Promise<{ session_id: string; token: string; csrf_token: string; expires_at_ms: number }> {
    const now = clock.now_ms();
    const token = randomToken(32);
    const csrf_token = randomToken(24);
    const session_id = newId('ses', now);
    const expires_at_ms = now + SESSION_ABSOLUTE_MS;
    await store.insertSession(ex, {
      id: session_id, user_id, token_hash: tokenHash(token), csrf_hash: tokenHash(csrf_token), created_at_ms: now, last_seen_at_ms: now,
      expires_at_ms, privileged_until_ms: null, user_agent: meta.user_agent, ip: meta.ip, device_fingerprint: fingerprint, ended_at_ms: null, ended_reason: null,
    });
    // Keep the number of live sessions bounded: the oldest ones end first.
    const live = (await store.liveSessions(ex, user_id, config.limits.sessions_per_user_max + 10)).filter((s) => s.id !== session_id);
    for (const s of live.slice(config.limits.sessions_per_user_max - 1)) await store.endSession(ex, user_id, s.id, now, 'too_many_sessions');
    return { session_id, token, csrf_token, expires_at_ms };
  }

  /** Records the device; alerts the user when it is new and not their very first. */
  async function noteDevice(ex: DbExecutor, u: UserRow, meta: RequestMeta): Promise<string> {
    const now = clock.now_ms();
    const d = deviceFingerprint(meta.user_agent, meta.ip);
    const known = await store.knownDevice(ex, u.id, d.fingerprint);
    if (known) {
      await store.touchKnownDevice(ex, known.id, now);
      return d.fingerprint;
    }
    const before = await store.countKnownDevices(ex, u.id);
    const device_id = newId('dev', now);
    await store.insertKnownDevice(ex, { id: device_id, user_id: u.id, fingerprint: d.fingerprint, ua_family: d.ua_family, network: d.network, first_seen_at_ms: now, last_seen_at_ms: now });
    if (before > 0) {
      const token = randomToken(32);
      await store.insertNotMeToken(ex, { token_hash: tokenHash(token), user_id: u.id, device_id, created_at_ms: now, expires_at_ms: now + NOT_ME_TOKEN_TTL_MS });
      const link = `${config.public_url}/api/v1/auth/not-me?token=${token}`;
      await notice(ex, u, 'new_device', 'new_device_title', 'new_device_body', { device: d.ua_family, network: d.network, at: isoTime(now), link }, link);
      await audit(ex, 'new_device', u.id, { type: 'user', id: u.id }, meta, { ua_family: d.ua_family, network: d.network });
    }
    return d.fingerprint;
  }

  async function applyFreeze(ex: DbExecutor, u: UserRow, reason: FreezeReason, actor: Actor, keep_session: string | null, meta: RequestMeta | null, note: string | null): Promise<void> {
    const now = clock.now_ms();
    const next = transition(u.status as UserStatus, 'freeze');
    await store.insertFreeze(ex, { id: newId('frz', now), user_id: u.id, reason, actor_type: actor.type, actor_id: actor.id, note, created_at_ms: now, lifted_at_ms: null, lifted_by_request_id: null });
    await store.updateUser(ex, u.id, { status: next, updated_at_ms: now });
    const ended = await store.endSessionsOf(ex, u.id, keep_session, now, 'account_frozen');
    const api_keys_suspended = (await store.apiKeysOf(ex, u.id, 100)).filter((k) => k.revoked_at_ms === null).length;
    await emitEvent(ex, { type: 'account.frozen', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, reason, by: actor.type, at_ms: now } }, clock);
    await audit(ex, 'account_frozen', u.id, actor, meta, { reason, sessions_ended: ended, api_keys_suspended, note });
    const e = explainFreeze(reason, asLocale(u.locale));
    await notice(ex, u, 'account_frozen', 'frozen_title', 'frozen_body', { message: e.message, steps: e.what_to_do.map((s) => `- ${s}`).join('\n') });
  }

  function transition(current: UserStatus, action: StatusAction): UserStatus {
    const next = nextStatus(current, action);
    if (!next) throw new ProblemError(409, 'invalid_account_state', `An account that is ${current} cannot be changed that way (${action}).`, { status: current });
    return next;
  }

  async function factsOf(ex: DbExecutor, u: UserRow): Promise<UserFacts> {
    return {
      password_changed_at_ms: u.password_changed_at_ms, totp_enabled: u.totp_enabled === 1, totp_bound_at_ms: u.totp_bound_at_ms,
      identity_verified_at_ms: u.identity_verified_at_ms, last_kyc_document_at_ms: await store.lastKycDocumentAt(ex, u.id),
    };
  }

  async function unfreezeDto(ex: DbExecutor, req: store.UnfreezeRequestRow, locale: Locale) {
    const u = await loadUser(ex, req.user_id);
    const freezes = await store.activeFreezes(ex, u.id);
    const plan = unfreezePlan(freezes.map((f) => ({ reason: f.reason as FreezeReason, created_at_ms: f.created_at_ms })), await factsOf(ex, u));
    const approvals = await store.approvalsOf(ex, req.id);
    return {
      id: req.id, user_id: req.user_id, status: req.status, created_at: isoTime(req.created_at_ms),
      completed_at: req.completed_at_ms ? isoTime(req.completed_at_ms) : null,
      reasons: freezes.map((f) => f.reason),
      requirements: plan.requirements.map((r) => ({ code: r.code, met: r.met, message: translate(requirementMessages, r.code, locale) })),
      approvals_required: plan.approvals_required,
      approvals: approvals.length,
      approved_by: approvals.map((a) => a.staff_id),
      cooldown_hours: COOLDOWN_MS / 3600_000,
    };
  }

  /**
   * Staff act only on accounts below their own role, unless they are admins: an agent cannot
   * freeze an admin or another agent. A refusal is audited on the target's account and answers
   * 403 target_outranks_actor. Read before the caller's transaction (the audit must outlive the
   * refusal), and the target's roles change only through the CLI.
   */
  async function requireOutranks(staff: Principal, user_id: string, action: string, meta: RequestMeta | null): Promise<void> {
    const target = await loadUser(db.kysely, user_id);
    const target_roles = parseRoles(target.roles);
    if (staffMayActOn(staff.roles, target_roles)) return;
    await audit(db.kysely, 'staff_action_refused', target.id, { type: 'staff', id: staff.user_id }, meta, { action, actor_roles: staff.roles, target_roles });
    throw new ProblemError(403, 'target_outranks_actor', `Only an admin may ${action} an account whose role is as high as yours or higher.`, { action });
  }

  type CreateResult = { created: true; user: UserDto } | { created: false; owner_id: string; lookalike: UserDto };

  /**
   * Validates, hashes (always: both outcomes cost one argon2id hash) and inserts a user, or, when
   * the email is taken, records the attempt on the owner's account and tells them, in the same
   * kind of transaction, and returns what a new account would have looked like.
   */
  async function createUser(input: { email: string; password: string; locale?: string | undefined }, meta: RequestMeta, roles: Role[]): Promise<CreateResult> {
    const email = normalizeEmail(input.email, config.limits.email_length_max);
    if (!email) throw new ProblemError(400, 'invalid_email', 'That is not an email address we can use.');
    const locale = pickLocale(input.locale ?? null);
    checkNewPassword(input.password, email, locale);
    const password_hash = await hashPassword(input.password);
    const now = clock.now_ms();
    const id = newId('usr', now);
    const row: UserRow = {
      id, email, password_hash, status: 'active', kyc_level: 0, locale, roles: JSON.stringify(roles), totp_secret_enc: null, totp_pending_secret_enc: null,
      totp_enabled: 0, totp_last_counter: null, totp_bound_at_ms: null, password_changed_at_ms: now, identity_verified_at_ms: null,
      cooldown_until_ms: null, created_at_ms: now, updated_at_ms: now,
    };
    const attempt = async (): Promise<CreateResult> => db.transaction(async (trx): Promise<CreateResult> => {
      const owner = await store.userByEmail(trx, email);
      if (owner) {
        await noteRegistrationAttempt(trx, owner, meta);
        // What a fresh account looks like, with an id that was never stored: nothing of the owner.
        return { created: false, owner_id: owner.id, lookalike: await toDto(trx, row) };
      }
      await store.insertUser(trx, row);
      await audit(trx, 'registered', id, { type: 'user', id }, meta, { roles });
      return { created: true, user: await toDto(trx, row) };
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
  async function noteRegistrationAttempt(ex: DbExecutor, owner: UserRow, meta: RequestMeta): Promise<void> {
    const now = clock.now_ms();
    const last = await store.lastAuditAt(ex, owner.id, 'registration_attempted');
    const mailed = last === null || now - last >= REGISTER_ATTEMPT_MAIL_MS;
    await audit(ex, 'registration_attempted', owner.id, { type: 'user', id: null }, meta, { mailed });
    if (mailed) await notice(ex, owner, 'registration_attempted', 'register_attempt_title', 'register_attempt_body', { at: isoTime(now), sign_in: `${config.public_url}/` });
  }

  // ---------------------------------------------------------------- the face
  const accounts = {
    encryption_key: key,

    /**
     * register({ email, password, locale }, meta) -> UserDto (201); 400 weak_password / invalid_email.
     * A taken email gets the same answer as a free one (docs/decisions/0005-accounts-security.md):
     * the same argon2id hash is paid, nothing is created, the DTO carries a fresh id that belongs to
     * nobody, and the owner is told by mail (at most one such mail per REGISTER_ATTEMPT_MAIL_MS).
     */
    async register(input: { email: string; password: string; locale?: string | undefined }, meta: RequestMeta): Promise<UserDto> {
      const r = await createUser(input, meta, ['user']);
      return r.created ? r.user : r.lookalike;
    },
    /**
     * login({ email, password, totp_code? }, meta) -> { token, csrf_token, expires_at_ms, user }.
     * Unknown email and wrong password take the same path (one argon2 verify) and the same answer.
     */
    async login(input: { email: string; password: string } & TotpInput, meta: RequestMeta) {
      const email = normalizeEmail(input.email, config.limits.email_length_max) ?? input.email.trim().toLowerCase().slice(0, config.limits.email_length_max);
      const wait = await throttleWait(email, meta.ip);
      if (wait > 0) throw tooManyAttempts(wait);
      const u = await store.userByEmail(db.kysely, email);
      const ok = await verifyPassword(u ? u.password_hash : await dummyPasswordHash(), input.password);
      if (!u || !ok) {
        await recordFailure(email, meta.ip);
        if (u) await audit(db.kysely, 'login_failed', u.id, { type: 'user', id: null }, meta, { factor: 'password' });
        throw invalidCredentials();
      }
      if (u.status === 'closed') throw new ProblemError(403, 'account_closed', 'This account is closed.');
      if (u.totp_enabled === 1) {
        if (!input.totp_code && !input.recovery_code) throw new ProblemError(401, 'totp_required', 'Enter the 6-digit code from your authenticator app, or a recovery code.', { factors: ['totp', 'recovery_code'] });
        const factor = await db.transaction((trx) => verifySecondFactor(trx, u, input));
        if (!factor) {
          await recordFailure(email, meta.ip);
          await audit(db.kysely, 'login_failed', u.id, { type: 'user', id: null }, meta, { factor: 'totp' });
          throw new ProblemError(401, 'invalid_totp', 'That code is not right (or was already used). Codes change every 30 seconds.');
        }
      }
      return db.transaction(async (trx) => {
        await store.clearThrottle(trx, `acct:${email}`);
        const fingerprint = await noteDevice(trx, u, meta);
        const s = await issueSession(trx, u.id, meta, fingerprint);
        await audit(trx, 'login', u.id, { type: 'user', id: u.id }, meta, { session_id: s.session_id, second_factor: u.totp_enabled === 1 });
        return { ...s, user: await toDto(trx, u) };
      });
    },

    /** The authenticate hook: resolves the caller or null; throws 403 csrf_failed for cookie requests without the token. */
    async authenticate(req: FastifyRequest): Promise<Principal | null> {
      const header = req.headers.authorization;
      let token: string | null = null;
      let viaCookie = false;
      if (typeof header === 'string' && /^Bearer\s+/i.test(header)) token = header.replace(/^Bearer\s+/i, '').trim();
      else if (req.cookies?.[SESSION_COOKIE]) {
        token = req.cookies[SESSION_COOKIE] ?? null;
        viaCookie = true;
      }
      if (!token || token.length > 200) return null;
      // A public form (the not-me page's button, sign-in, sign-up) posted from a browser that
      // holds a session cookie: the cookie is not used there, so it needs no CSRF token.
      if (viaCookie && !SAFE_METHODS.has(req.method) && req.routeOptions?.config?.auth === 'public') return null;
      const now = clock.now_ms();
      if (token.startsWith('sk_')) {
        // The key and its user in one statement (this runs on every request).
        const k = await store.apiKeyWithUserByHash(db.kysely, tokenHash(token));
        if (!k || k.revoked_at_ms !== null) return null;
        if (k.user_status === null || k.user_email === null || k.user_locale === null || k.user_status === 'closed') return null;
        // Freezing ends every session; a key cannot sign in again, so it is suspended instead
        // until the unfreeze. The owner still signs in to see the money and ask to be unfrozen.
        if (k.user_status === 'frozen') throw apiKeySuspended();
        if (!k.last_used_at_ms || now - k.last_used_at_ms > SESSION_TOUCH_MS) await store.touchApiKey(db.kysely, k.id, now);
        return {
          kind: 'api_key', user_id: k.user_id, email: k.user_email, roles: ['user', 'merchant'], status: k.user_status as UserStatus, locale: asLocale(k.user_locale),
          session_id: null, api_key_id: k.id, scopes: JSON.parse(k.scopes) as string[], privileged_until_ms: null,
        };
      }
      // The session and its user in one statement (this runs on every request).
      const [s] = (await hot.sessionWithUser.execute(db.kysely, [tokenHash(token)])).rows;
      if (!s || s.ended_at_ms !== null || s.expires_at_ms <= now || s.last_seen_at_ms + SESSION_IDLE_MS <= now) return null;
      if (viaCookie && !SAFE_METHODS.has(req.method)) {
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || tokenHash(sent) !== s.csrf_hash) {
          throw new ProblemError(403, 'csrf_failed', `Cookie-authenticated requests that change things must send the ${CSRF_HEADER} header (the token from sign-in).`);
        }
      }
      if (s.user_status === null || s.user_email === null || s.user_roles === null || s.user_locale === null || s.user_status === 'closed') return null;
      if (now - s.last_seen_at_ms > SESSION_TOUCH_MS) await store.touchSession(db.kysely, s.id, now);
      return {
        kind: 'session', user_id: s.user_id, email: s.user_email, roles: parseRoles(s.user_roles), status: s.user_status as UserStatus, locale: asLocale(s.user_locale),
        session_id: s.id, api_key_id: null, scopes: null, privileged_until_ms: s.privileged_until_ms,
      };
    },

    cookieOptions(max_age_s: number) {
      return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookie, maxAge: max_age_s };
    },

    async logout(p: Principal, meta: RequestMeta): Promise<void> {
      if (!p.session_id) return;
      await db.transaction(async (trx) => {
        await store.endSession(trx, p.user_id, p.session_id!, clock.now_ms(), 'logout');
        await audit(trx, 'logout', p.user_id, { type: 'user', id: p.user_id }, meta, { session_id: p.session_id });
      });
    },

    /** Factors a step-up accepts for this user: a second factor when 2FA is on, else the password. */
    async stepUpFactors(user_id: string): Promise<string[]> {
      const u = await loadUser(db.kysely, user_id);
      return u.totp_enabled === 1 ? ['totp', 'recovery_code'] : ['password'];
    },

    /** Throws 401 step_up_required (with the accepted factors) unless this session's privileged window is open. */
    async requireStepUp(p: Principal): Promise<void> {
      if (p.kind !== 'session') throw new ProblemError(403, 'session_required', 'This needs a signed-in session, not an API key.');
      if (p.privileged_until_ms !== null && p.privileged_until_ms > clock.now_ms()) return;
      const factors = await accounts.stepUpFactors(p.user_id);
      throw new ProblemError(401, 'step_up_required', `Confirm it is you first: POST /api/v1/auth/step-up with ${factors.join(' or ')}.`, { factors });
    },

    /** stepUp(p, { password } | { totp_code }) opens a 15-minute privileged window for this session. */
    async stepUp(p: Principal, input: { password?: string | undefined } & TotpInput, meta: RequestMeta): Promise<{ privileged_until_ms: number }> {
      if (p.kind !== 'session' || !p.session_id) throw new ProblemError(403, 'session_required', 'Step-up needs a signed-in session, not an API key.');
      const wait = await throttleWait(p.email, meta.ip);
      if (wait > 0) throw tooManyAttempts(wait);
      const u = await loadUser(db.kysely, p.user_id);
      const factors = u.totp_enabled === 1 ? ['totp', 'recovery_code'] : ['password'];
      let used: string | null = null;
      if (u.totp_enabled === 1) {
        if (input.totp_code || input.recovery_code) used = await db.transaction((trx) => verifySecondFactor(trx, u, input));
      } else if (input.password !== undefined) {
        used = (await verifyPassword(u.password_hash, input.password)) ? 'password' : null;
      }
      if (!used) {
        if (input.password !== undefined || input.totp_code || input.recovery_code) await recordFailure(u.email, meta.ip);
        await audit(db.kysely, 'step_up_failed', u.id, { type: 'user', id: u.id }, meta, {});
        throw new ProblemError(401, 'step_up_failed', `That did not confirm it is you. Accepted: ${factors.join(', ')}.`, { factors });
      }
      const until = clock.now_ms() + STEP_UP_WINDOW_MS;
      await db.transaction(async (trx) => {
        await store.setSessionPrivileged(trx, p.session_id!, until);
        await audit(trx, 'step_up', u.id, { type: 'user', id: u.id }, meta, { factor: used });
      });
      return { privileged_until_ms: until };
    },

    async getUser(id: string): Promise<UserDto | null> {
      const u = await store.userById(db.kysely, id);
      return u ? toDto(db.kysely, u) : null;
    },

    /** The user id for an email (transfers to_email), or null. Exact, case-insensitive. */
    async findUserIdByEmail(email: string, ex: DbExecutor = db.kysely): Promise<string | null> {
      const e = normalizeEmail(email, config.limits.email_length_max);
      if (!e) return null;
      return (await store.userByEmail(ex, e))?.id ?? null;
    },

    /** standing(user_id, trx?) -> how the account stands now; read it inside your transaction. */
    async standing(user_id: string, ex: DbExecutor = db.kysely): Promise<AccountStanding> {
      return standingOf(await loadUser(ex, user_id), clock.now_ms());
    },
    /**
     * A transfer's sender and its recipient (by email, as findUserIdByEmail finds it) with how
     * each stands, in one statement; read it inside your transaction.
     *   const { sender, recipient } = await accounts.transferParties('usr_a', 'Bob@x.test', trx);
     */
    async transferParties(sender_id: string, email: string, ex: DbExecutor = db.kysely): Promise<TransferParties> {
      const e = normalizeEmail(email, config.limits.email_length_max);
      const now = clock.now_ms();
      if (!e) return { sender: standingOf(await loadUser(ex, sender_id), now), recipient: null };
      const rows = (await hot.usersByIdOrEmail.execute(ex, [sender_id, e])).rows;
      const sender = rows.find((u) => u.id === sender_id);
      if (!sender) throw problems.notFound('user');
      const recipient = rows.find((u) => u.email === e);
      return { sender: standingOf(sender, now), recipient: recipient ? { email: recipient.email, standing: standingOf(recipient, now) } : null };
    },
    async canSend(user_id: string, ex?: DbExecutor): Promise<Permission> {
      return (await accounts.standing(user_id, ex)).send;
    },
    async canWithdraw(user_id: string, ex?: DbExecutor): Promise<Permission> {
      return (await accounts.standing(user_id, ex)).withdraw;
    },
    kycLimits,

    // -------------------------------------------------------------- TOTP
    async totpSetup(p: Principal, meta: RequestMeta): Promise<{ secret: string; otpauth_url: string }> {
      await accounts.requireStepUp(p);
      const u = await loadUser(db.kysely, p.user_id);
      const secret = new Secret({ size: 20 });
      const totp = new TOTP({ issuer: 'Settle', label: u.email, algorithm: 'SHA1', digits: 6, period: 30, secret });
      await db.transaction(async (trx) => {
        await store.updateUser(trx, u.id, { totp_pending_secret_enc: sealText(key, secret.base32, `totp:${u.id}`), updated_at_ms: clock.now_ms() });
        await audit(trx, 'totp_setup_started', u.id, { type: 'user', id: u.id }, meta, {});
      });
      return { secret: secret.base32, otpauth_url: totp.toString() };
    },

    async totpEnable(p: Principal, code: string, meta: RequestMeta): Promise<{ recovery_codes: string[] }> {
      await accounts.requireStepUp(p);
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
        await audit(trx, u.totp_enabled === 1 ? 'totp_rebound' : 'totp_enabled', u.id, { type: 'user', id: u.id }, meta, {});
        await notice(trx, u, 'totp_enabled', 'totp_enabled_title', 'totp_enabled_body', { at: isoTime(now) });
        return { recovery_codes: codes };
      });
    },

    async totpDisable(p: Principal, meta: RequestMeta): Promise<void> {
      await accounts.requireStepUp(p);
      await db.transaction(async (trx) => {
        const u = await loadUser(trx, p.user_id);
        if (u.totp_enabled !== 1) throw new ProblemError(409, 'totp_not_enabled', 'Two-factor authentication is not on.');
        const now = clock.now_ms();
        await store.updateUser(trx, u.id, { totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled: 0, totp_last_counter: null, updated_at_ms: now });
        await store.replaceRecoveryCodes(trx, u.id, [], now, []);
        await audit(trx, 'totp_disabled', u.id, { type: 'user', id: u.id }, meta, {});
        await notice(trx, u, 'totp_disabled', 'totp_disabled_title', 'totp_disabled_body', { at: isoTime(now) });
      });
    },

    // -------------------------------------------------------------- sessions and password
    async listSessions(p: Principal) {
      const rows = await store.liveSessions(db.kysely, p.user_id, config.limits.sessions_per_user_max);
      const now = clock.now_ms();
      return rows
        .filter((s) => s.expires_at_ms > now && s.last_seen_at_ms + SESSION_IDLE_MS > now)
        .map((s) => ({
          id: s.id, created_at: isoTime(s.created_at_ms), last_seen_at: isoTime(s.last_seen_at_ms), expires_at: isoTime(Math.min(s.expires_at_ms, s.last_seen_at_ms + SESSION_IDLE_MS)),
          user_agent: s.user_agent, ip: s.ip, current: s.id === p.session_id,
        }));
    },

    async endSession(p: Principal, id: string, meta: RequestMeta): Promise<void> {
      await db.transaction(async (trx) => {
        if (!(await store.endSession(trx, p.user_id, id, clock.now_ms(), 'ended_by_user'))) throw problems.notFound('session');
        await audit(trx, 'session_ended', p.user_id, { type: 'user', id: p.user_id }, meta, { session_id: id });
      });
    },

    /** changePassword(p, new) — needs step-up; ends the user's other sessions. */
    async changePassword(p: Principal, new_password: string, meta: RequestMeta): Promise<void> {
      await accounts.requireStepUp(p);
      const u = await loadUser(db.kysely, p.user_id);
      checkNewPassword(new_password, u.email, asLocale(u.locale));
      const password_hash = await hashPassword(new_password);
      await db.transaction(async (trx) => {
        const now = clock.now_ms();
        await store.updateUser(trx, u.id, { password_hash, password_changed_at_ms: now, updated_at_ms: now });
        const ended = await store.endSessionsOf(trx, u.id, p.session_id, now, 'password_changed');
        await audit(trx, 'password_changed', u.id, { type: 'user', id: u.id }, meta, { sessions_ended: ended });
        await notice(trx, u, 'password_changed', 'password_changed_title', 'password_changed_body', { at: isoTime(now) });
      });
    },

    /** setLocale(p, 'zh-CN') — the language of explanations, notices and mail from now on. */
    async setLocale(p: Principal, locale: Locale, meta: RequestMeta): Promise<UserDto> {
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, p.user_id);
        if (u.locale !== locale) {
          await store.updateUser(trx, u.id, { locale, updated_at_ms: clock.now_ms() });
          await audit(trx, 'locale_changed', u.id, { type: 'user', id: u.id }, meta, { from: u.locale, to: locale });
        }
        return toDto(trx, await loadUser(trx, u.id));
      });
    },

    /** changeEmail(p, new) — needs step-up; the old address is told. 409 email_taken. */
    async changeEmail(p: Principal, new_email: string, meta: RequestMeta): Promise<UserDto> {
      await accounts.requireStepUp(p);
      const email = normalizeEmail(new_email, config.limits.email_length_max);
      if (!email) throw new ProblemError(400, 'invalid_email', 'That is not an email address we can use.');
      try {
        return await db.transaction(async (trx) => {
          const u = await loadUser(trx, p.user_id);
          const now = clock.now_ms();
          await store.updateUser(trx, u.id, { email, updated_at_ms: now });
          await audit(trx, 'email_changed', u.id, { type: 'user', id: u.id }, meta, { from: u.email, to: email });
          // Told at the OLD address (u still holds it): a hijacker who changes the email is seen.
          await notice(trx, u, 'email_changed', 'email_changed_title', 'email_changed_body', { at: isoTime(now), email });
          return toDto(trx, await loadUser(trx, u.id));
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ProblemError(409, 'email_taken', 'Another account already uses that email.');
        throw error;
      }
    },

    // -------------------------------------------------------------- freezes
    /** freeze(user_id, reason, actor, meta) — immediate; ends every session but `keep_session`. */
    async freeze(user_id: string, reason: FreezeReason, actor: Actor, meta: RequestMeta | null, opts: { keep_session?: string | null; note?: string | null } = {}): Promise<UserDto> {
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, user_id);
        await applyFreeze(trx, u, reason, actor, opts.keep_session ?? null, meta, opts.note ?? null);
        return toDto(trx, await loadUser(trx, user_id));
      });
    },

    /** POST /admin/users/{id}/freeze: a staff freeze, refused on accounts of equal or higher role (unless admin). */
    async staffFreeze(staff: Principal, user_id: string, reason: FreezeReason, note: string | null, meta: RequestMeta): Promise<UserDto> {
      await requireOutranks(staff, user_id, 'freeze', meta);
      return accounts.freeze(user_id, reason, { type: 'staff', id: staff.user_id }, meta, { note });
    },

    /**
     * The "this wasn't me" link from a new-device mail only shows a page (GET: mail scanners
     * fetch links); it reads the token without using it. -> the user's locale, or null when the
     * link is used or expired.
     */
    async notMeLocale(token: string): Promise<Locale | null> {
      const user_id = await store.peekNotMeToken(db.kysely, tokenHash(token), clock.now_ms());
      if (!user_id) return null;
      const u = await store.userById(db.kysely, user_id);
      return u ? asLocale(u.locale) : null;
    },

    /** The page's button (POST): uses the token once and freezes (abnormal_login, by the user). 404 link_expired. */
    async notMe(token: string, meta: RequestMeta): Promise<UserDto> {
      return db.transaction(async (trx) => {
        const user_id = await store.useNotMeToken(trx, tokenHash(token), clock.now_ms());
        if (!user_id) throw new ProblemError(404, 'link_expired', 'This link was already used or has expired. Sign in and use "Freeze my account" instead.');
        const u = await loadUser(trx, user_id);
        if (u.status !== 'closed') await applyFreeze(trx, u, 'abnormal_login', { type: 'user', id: user_id }, null, meta, 'not_me_link');
        return toDto(trx, await loadUser(trx, user_id));
      });
    },

    async requestUnfreeze(p: Principal, meta: RequestMeta) {
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, p.user_id);
        if (u.status !== 'frozen') throw new ProblemError(409, 'not_frozen', 'Your account is not frozen.');
        let req = await store.pendingUnfreezeRequestOf(trx, u.id);
        if (!req) {
          const now = clock.now_ms();
          req = { id: newId('unf', now), user_id: u.id, status: 'pending', requested_by: 'user', created_at_ms: now, updated_at_ms: now, completed_at_ms: null };
          await store.insertUnfreezeRequest(trx, req);
          await audit(trx, 'unfreeze_requested', u.id, { type: 'user', id: u.id }, meta, { request_id: req.id });
        }
        return unfreezeDto(trx, req, asLocale(u.locale));
      });
    },

    async listUnfreezeRequests(staff: Principal, limit: number) {
      const rows = await store.pendingUnfreezeRequests(db.kysely, limit);
      const out = [];
      for (const r of rows) out.push(await unfreezeDto(db.kysely, r, staff.locale));
      return out;
    },

    /** approveUnfreeze(staff, request_id) — requirements must be met; compliance needs two different staff. */
    async approveUnfreeze(staff: Principal, request_id: string, note: string | null, meta: RequestMeta) {
      const pending = await store.unfreezeRequestById(db.kysely, request_id);
      if (!pending) throw problems.notFound('unfreeze request');
      await requireOutranks(staff, pending.user_id, 'unfreeze', meta);
      return db.transaction(async (trx) => {
        const req = await store.unfreezeRequestById(trx, request_id);
        if (!req) throw problems.notFound('unfreeze request');
        return approve(trx, staff, req, note, meta);
      });
    },

    /** POST /admin/users/{id}/unfreeze: an approval on the staff member's word (creates the request if needed). */
    async staffUnfreeze(staff: Principal, user_id: string, note: string, meta: RequestMeta) {
      await requireOutranks(staff, user_id, 'unfreeze', meta);
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, user_id);
        if (u.status === 'restricted') {
          const next = transition('restricted', 'lift_restriction');
          await store.updateUser(trx, u.id, { status: next, updated_at_ms: clock.now_ms() });
          await audit(trx, 'restriction_lifted', u.id, { type: 'staff', id: staff.user_id }, meta, { note });
          return { user: await toDto(trx, await loadUser(trx, user_id)), unfreeze_request: null };
        }
        if (u.status !== 'frozen') throw new ProblemError(409, 'not_frozen', 'This account is not frozen or restricted.');
        let req = await store.pendingUnfreezeRequestOf(trx, u.id);
        if (!req) {
          const now = clock.now_ms();
          req = { id: newId('unf', now), user_id: u.id, status: 'pending', requested_by: 'staff', created_at_ms: now, updated_at_ms: now, completed_at_ms: null };
          await store.insertUnfreezeRequest(trx, req);
        }
        return approve(trx, staff, req, note, meta, { waive_requirements: true });
      });
    },

    async restrict(staff: Principal, user_id: string, reason: string, meta: RequestMeta): Promise<UserDto> {
      await requireOutranks(staff, user_id, 'restrict', meta);
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, user_id);
        const next = transition(u.status as UserStatus, 'restrict');
        await store.updateUser(trx, u.id, { status: next, updated_at_ms: clock.now_ms() });
        await emitEvent(trx, { type: 'account.restricted', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, reason } }, clock);
        await audit(trx, 'account_restricted', u.id, { type: 'staff', id: staff.user_id }, meta, { reason });
        await notice(trx, u, 'account_restricted', 'restricted_title', 'restricted_body', { reason });
        return toDto(trx, await loadUser(trx, user_id));
      });
    },

    /** Staff sets the KYC level after reviewing documents; level >= 1 counts as identity verified. */
    async setKycLevel(staff: Principal, user_id: string, level: number, meta: RequestMeta): Promise<UserDto> {
      await requireOutranks(staff, user_id, 'set the KYC level of', meta);
      return db.transaction(async (trx) => {
        const u = await loadUser(trx, user_id);
        const now = clock.now_ms();
        await store.updateUser(trx, u.id, { kyc_level: level, identity_verified_at_ms: level >= 1 ? now : u.identity_verified_at_ms, updated_at_ms: now });
        await audit(trx, 'kyc_level_set', u.id, { type: 'staff', id: staff.user_id }, meta, { from: u.kyc_level, to: level });
        return toDto(trx, await loadUser(trx, user_id));
      });
    },

    // -------------------------------------------------------------- API keys
    async createApiKey(p: Principal, name: string, scopes: ApiKeyScope[] | undefined, meta: RequestMeta) {
      await accounts.requireStepUp(p);
      if (p.status !== 'active') throw new ProblemError(403, p.status === 'frozen' ? 'account_frozen' : 'account_restricted', 'Only an active account can create API keys.');
      const now = clock.now_ms();
      const keyText = `sk_${randomToken(32)}`;
      const prefix = keyText.slice(0, 11);
      const list = scopes && scopes.length ? [...new Set(scopes)] : [...API_KEY_SCOPES];
      const id = newId('key', now);
      await db.transaction(async (trx) => {
        const u = await loadUser(trx, p.user_id);
        await store.insertApiKey(trx, { id, user_id: p.user_id, name, prefix, key_hash: tokenHash(keyText), scopes: JSON.stringify(list), created_at_ms: now, last_used_at_ms: null, revoked_at_ms: null });
        const roles = parseRoles(u.roles);
        if (!roles.includes('merchant')) await store.updateUser(trx, u.id, { roles: JSON.stringify([...roles, 'merchant']), updated_at_ms: now });
        await audit(trx, 'api_key_created', u.id, { type: 'user', id: u.id }, meta, { api_key_id: id, prefix, scopes: list });
        await notice(trx, u, 'api_key_created', 'api_key_created_title', 'api_key_created_body', { name, prefix, at: isoTime(now) });
      });
      return { id, name, key: keyText, prefix, scopes: list, created_at: isoTime(now) };
    },

    async listApiKeys(p: Principal) {
      const rows = await store.apiKeysOf(db.kysely, p.user_id, 100);
      return rows.map((k) => ({
        id: k.id, name: k.name, prefix: k.prefix, scopes: JSON.parse(k.scopes) as string[], created_at: isoTime(k.created_at_ms),
        last_used_at: k.last_used_at_ms ? isoTime(k.last_used_at_ms) : null, revoked_at: k.revoked_at_ms ? isoTime(k.revoked_at_ms) : null,
      }));
    },

    async revokeApiKey(p: Principal, id: string, meta: RequestMeta): Promise<void> {
      await db.transaction(async (trx) => {
        if (!(await store.revokeApiKey(trx, p.user_id, id, clock.now_ms()))) throw problems.notFound('API key');
        await audit(trx, 'api_key_revoked', p.user_id, { type: 'user', id: p.user_id }, meta, { api_key_id: id });
      });
    },

    // -------------------------------------------------------------- KYC, notifications, events
    async uploadKycDocument(p: Principal, kind: string, bytes: Buffer, meta: RequestMeta) {
      if (bytes.length === 0) throw new ProblemError(400, 'empty_document', 'The document is empty.');
      if (bytes.length > config.limits.upload_bytes_max) throw new ProblemError(413, 'body_too_large', `Documents may be at most ${config.limits.upload_bytes_max} bytes.`);
      const content_type = sniffContentType(bytes);
      if (!content_type) throw new ProblemError(415, 'unsupported_document_type', 'Upload a JPEG, PNG or WebP image, or a PDF (checked by content, not by name).');
      const now = clock.now_ms();
      const id = newId('kyc', now);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const ciphertext = seal(key, bytes, `kyc:${p.user_id}:${id}`).toString('base64');
      await db.transaction(async (trx) => {
        await store.insertKycDocument(trx, { id, user_id: p.user_id, kind, content_type, size_bytes: bytes.length, sha256: sha, ciphertext, status: 'submitted', created_at_ms: now });
        await audit(trx, 'kyc_document_uploaded', p.user_id, { type: 'user', id: p.user_id }, meta, { document_id: id, content_type, size_bytes: bytes.length });
      });
      return { id, kind, content_type, size_bytes: bytes.length, sha256: sha, status: 'submitted', created_at: isoTime(now) };
    },

    async listKycDocuments(user_id: string) {
      const rows = await store.kycDocumentsOf(db.kysely, user_id, 100);
      return rows.map((d) => ({ id: d.id, kind: d.kind, content_type: d.content_type, size_bytes: d.size_bytes, sha256: d.sha256, status: d.status, created_at: isoTime(d.created_at_ms) }));
    },

    /** Decrypts one document for staff review (the caller has checked the role and audits the read). */
    async readKycDocument(staff: Principal, user_id: string, id: string, meta: RequestMeta): Promise<{ content_type: string; bytes: Buffer }> {
      await requireOutranks(staff, user_id, 'read the identity documents of', meta);
      const row = await store.kycDocumentCipher(db.kysely, user_id, id);
      if (!row) throw problems.notFound('document');
      await audit(db.kysely, 'kyc_document_read', user_id, { type: 'staff', id: staff.user_id }, meta, { document_id: id });
      return { content_type: row.content_type, bytes: open(key, Buffer.from(row.ciphertext, 'base64'), `kyc:${user_id}:${id}`) };
    },

    async notifications(user_id: string, limit: number) {
      const rows = await store.notificationsOf(db.kysely, user_id, limit);
      return rows.map((n) => ({ id: n.id, kind: n.kind, title: n.title, body: n.body, link: n.link, created_at: isoTime(n.created_at_ms), read_at: n.read_at_ms ? isoTime(n.read_at_ms) : null }));
    },

    /** Security events: a user's own (user_id given) or all (staff), newest first, cursor = last id. */
    async securityEvents(filter: { user_id?: string; cursor?: string }, limit: number) {
      const rows = await store.auditPage(db.kysely, { ...(filter.user_id ? { subject_id: filter.user_id } : {}), ...(filter.cursor ? { before_id: filter.cursor } : {}) }, limit + 1);
      const page = rows.slice(0, limit);
      return {
        data: page.map((r) => ({
          id: r.id, at: isoTime(r.at_ms), action: r.action, actor_type: r.actor_type, actor_id: r.actor_id, user_id: r.subject_type === 'user' ? r.subject_id : null,
          ip: r.ip, user_agent: r.user_agent, request_id: r.request_id, details: JSON.parse(r.details) as Record<string, unknown>,
        })),
        next_cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },

    async staffView(user_id: string) {
      const u = await loadUser(db.kysely, user_id);
      const sessions = await store.liveSessions(db.kysely, user_id, config.limits.sessions_per_user_max);
      const pending = await store.pendingUnfreezeRequestOf(db.kysely, user_id);
      return { user: await toDto(db.kysely, u), live_sessions: sessions.length, pending_unfreeze_request_id: pending?.id ?? null, kyc_documents: await accounts.listKycDocuments(user_id) };
    },

    // -------------------------------------------------------------- CLI and tests
    /** Creates a user with roles directly (the `settle admin create` command). */
    async createUserWithRoles(email: string, password: string, roles: Role[]): Promise<UserDto> {
      const r = await createUser({ email, password }, { ip: null, user_agent: 'settle-cli', request_id: null }, [...new Set<Role>(['user', ...roles])]);
      // The operator at the command line owns the database: telling them is no leak.
      if (!r.created) throw new ProblemError(409, 'email_taken', 'An account with that email already exists.');
      return r.user;
    },

    /** Issues a session without a password (tests and the authorization walk only). */
    async issueSessionForTests(user_id: string): Promise<{ token: string; csrf_token: string; session_id: string }> {
      return db.transaction((trx) => issueSession(trx, user_id, { ip: '127.0.0.1', user_agent: 'test', request_id: null }, null));
    },

    /** Marks this session as stepped-up (tests only). */
    async grantStepUpForTests(session_id: string): Promise<void> {
      await store.setSessionPrivileged(db.kysely, session_id, clock.now_ms() + STEP_UP_WINDOW_MS);
    },

    /** Where development keeps mail and uploads. */
    dataPath(...parts: string[]): string {
      return join(config.data_dir, ...parts);
    },
  };

  /**
   * One staff approval of an unfreeze request. Through the request queue the user's requirements
   * must be met; `POST /admin/users/{id}/unfreeze` approves on the staff member's word (API.md),
   * so there they are waived and the waiver is audited. Compliance still needs two staff.
   */
  async function approve(trx: DbExecutor, staff: Principal, req: store.UnfreezeRequestRow, note: string | null, meta: RequestMeta, opts: { waive_requirements?: boolean } = {}) {
    if (req.status !== 'pending') throw new ProblemError(409, 'request_closed', `This request is already ${req.status}.`);
    if (req.user_id === staff.user_id) throw new ProblemError(403, 'own_account', 'Staff cannot approve their own unfreeze.');
    const u = await loadUser(trx, req.user_id);
    const freezes = await store.activeFreezes(trx, u.id);
    const plan = unfreezePlan(freezes.map((f) => ({ reason: f.reason as FreezeReason, created_at_ms: f.created_at_ms })), await factsOf(trx, u));
    const unmet = plan.requirements.filter((r) => !r.met).map((r) => r.code);
    if (unmet.length && !opts.waive_requirements) {
      throw new ProblemError(409, 'unfreeze_requirements_unmet', `The user has not yet done: ${unmet.join(', ')}.`, { requirements: unmet });
    }
    const now = clock.now_ms();
    if (!(await store.insertApproval(trx, { id: newId('apr', now), request_id: req.id, staff_id: staff.user_id, note, created_at_ms: now }))) {
      throw new ProblemError(409, 'already_approved', 'You already approved this request; a different staff member must approve next.');
    }
    await audit(trx, 'unfreeze_approved', u.id, { type: 'staff', id: staff.user_id }, meta, { request_id: req.id, note, ...(unmet.length ? { requirements_waived: unmet } : {}) });
    const approvals = await store.approvalsOf(trx, req.id);
    if (approvals.length >= plan.approvals_required) {
      const next = transition(u.status as UserStatus, 'unfreeze');
      const cooldown_until_ms = now + COOLDOWN_MS;
      await store.liftFreezes(trx, u.id, req.id, now);
      await store.updateUser(trx, u.id, { status: next, cooldown_until_ms, updated_at_ms: now });
      await store.setUnfreezeRequestStatus(trx, req.id, 'completed', now);
      await emitEvent(trx, { type: 'account.unfrozen', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, request_id: req.id, cooldown_until_ms } }, clock);
      await audit(trx, 'account_unfrozen', u.id, { type: 'staff', id: staff.user_id }, meta, { request_id: req.id, approvers: approvals.map((a) => a.staff_id), cooldown_until_ms });
      await notice(trx, u, 'account_unfrozen', 'unfrozen_title', 'unfrozen_body', { until: isoTime(cooldown_until_ms) });
    }
    const fresh = (await store.unfreezeRequestById(trx, req.id))!;
    return { user: await toDto(trx, await loadUser(trx, u.id)), unfreeze_request: await unfreezeDto(trx, fresh, staff.locale) };
  }

  return accounts;
}

export type Accounts = ReturnType<typeof createAccounts>;
export type { ThrottleState };
