// What every part of the accounts module shares: the context built once by createAccounts
// (database, config, clock, encryption key, the prepared hot queries, the password blocklist),
// the DTOs and request metadata, and the few steps every part takes — audit a security event,
// tell the user (in-app and by mail), load a user, shape a user for the API. The parts (sign-in,
// sessions, TOTP, API keys, standing, unfreeze requests …) are plain functions that take this
// context first; the face (accounts.ts) binds them into one object.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import { notify, type NoticeParams, type Template } from '../notify/notify.ts';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { translate, type Locale } from '../shared/i18n.ts';
import { newId, sha256Hex } from '../shared/ids.ts';
import { ROLES, type Role, type UserStatus } from '../shared/principal.ts';
import { checkPassword, passwordMessages } from './accounts-rules.ts';
import { explainFreeze, type FreezeReason } from './standing-rules.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';
import type { LoginRiskHook } from './login-risk.ts';

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
  /** Whether the current email was confirmed with the mailed code (only then does it receive transfers). */
  email_verified: boolean;
  locale: Locale;
  roles: Role[];
  created_at: string;
  cooldown_until: string | null;
  freezes: Array<{ reason: FreezeReason; since: string; by: string; message: string; what_to_do: string[] }>;
}

export type Actor = { type: 'user' | 'staff' | 'system'; id: string | null };

/** What the parts of the module share; built once by createAccounts. */
export interface AccountsContext {
  db: Db;
  config: Config;
  clock: Clock;
  /** Seals TOTP secrets and identity documents. */
  key: Buffer;
  hot: ReturnType<typeof store.hotQueries>;
  /** The list of common passwords that checkPassword refuses, read from disk by the face. */
  common_passwords: ReadonlySet<string>;
  /** The risk engine's login decision (login-risk.ts), wired by the composition root; absent: no risk check at sign-in. */
  loginRisk?: LoginRiskHook | undefined;
}

type WithoutContext<F> = F extends (ctx: AccountsContext, ...args: infer A) => infer R ? (...args: A) => R : never;
export type BoundToContext<T> = { [K in keyof T]: WithoutContext<T[K]> };

/** bindContext(ctx, { login, logout }) -> { login(input, meta), logout(p, meta) }: each part's functions with the context given. */
export function bindContext<T extends Record<string, (ctx: AccountsContext, ...args: never) => unknown>>(ctx: AccountsContext, fns: T): BoundToContext<T> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) out[name] = (...args: never) => fn(ctx, ...args);
  return out as BoundToContext<T>;
}

export function parseRoles(text: string): Role[] {
  const list = JSON.parse(text) as string[];
  return list.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}

export function asLocale(text: string): Locale {
  return text === 'zh-CN' ? 'zh-CN' : 'en';
}

export function tokenHash(token: string): string {
  return sha256Hex(token);
}

/** Writes one security event to the core audit_log, in the caller's transaction. */
export async function audit(ctx: AccountsContext, ex: DbExecutor, action: string, user_id: string | null, actor: Actor, meta: RequestMeta | null, details: Record<string, unknown> = {}): Promise<void> {
  const now = ctx.clock.now_ms();
  await store.insertAudit(ex, {
    id: newId('aud', now), at_ms: now, actor_type: actor.type, actor_id: actor.id, action,
    subject_type: user_id ? 'user' : null, subject_id: user_id,
    ip: meta?.ip ?? null, user_agent: meta?.user_agent ?? null, request_id: meta?.request_id ?? null, details: JSON.stringify(details),
  });
}

/**
 * Tells the user (in-app and by mail: security notices cannot be turned off), in the caller's
 * transaction, through notify's one path; the words are notify's (notification-messages.ts).
 */
export async function notice(ctx: AccountsContext, ex: DbExecutor, user: UserRow, template: Template, params: NoticeParams, link: string | null = null): Promise<void> {
  await notify(ex, { clock: ctx.clock, public_url: ctx.config.public_url }, { id: user.id, email: user.email, locale: asLocale(user.locale) }, { template, params, link });
}

export async function loadUser(ex: DbExecutor, id: string): Promise<UserRow> {
  const u = await store.userById(ex, id);
  if (!u) throw problems.notFound('user');
  return u;
}

export async function toDto(ctx: AccountsContext, ex: DbExecutor, u: UserRow): Promise<UserDto> {
  const locale = asLocale(u.locale);
  const freezes = u.status === 'frozen' ? await store.activeFreezes(ex, u.id) : [];
  return {
    id: u.id, email: u.email, status: u.status as UserStatus, kyc_level: u.kyc_level, totp_enabled: u.totp_enabled === 1, email_verified: u.email_verified_at_ms !== null, locale,
    roles: parseRoles(u.roles), created_at: isoTime(u.created_at_ms),
    cooldown_until: u.cooldown_until_ms && u.cooldown_until_ms > ctx.clock.now_ms() ? isoTime(u.cooldown_until_ms) : null,
    freezes: freezes.map((f) => {
      const e = explainFreeze(f.reason as FreezeReason, locale);
      return { reason: e.reason, since: isoTime(f.created_at_ms), by: f.actor_type, message: e.message, what_to_do: e.what_to_do };
    }),
  };
}

/** Throws 400 weak_password, in the user's language, unless the policy accepts the password. */
export function checkNewPassword(ctx: AccountsContext, password: string, email: string, locale: Locale): void {
  const v = checkPassword(password, email, ctx.config.limits.password_length_max, ctx.common_passwords);
  if (!v.ok) {
    throw new ProblemError(400, 'weak_password', translate(passwordMessages, v.reason, locale, { max: ctx.config.limits.password_length_max }), { reason: v.reason });
  }
}
