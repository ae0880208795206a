// A user's own account as they see and change it — who they are, language, password, email,
// notifications and security log — and the same account as staff see it.
import { isUniqueViolation } from '../db/database.ts';
import type { DbExecutor } from '../db/database.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import type { Locale } from '../shared/i18n.ts';
import type { Principal } from '../shared/principal.ts';
import { normalizeEmail } from './accounts-rules.ts';
import { ownDetails } from './standing-rules.ts';
import { hashPassword } from './accounts-crypto.ts';
import * as store from './accounts-store.ts';
import { asLocale, audit, checkNewPassword, loadUser, notice, toDto, type AccountsContext, type RequestMeta, type UserDto } from './accounts-context.ts';
import { listKycDocuments } from './kyc-documents.ts';
import { requireStepUp } from './step-up.ts';
import { issueEmailCode } from './email-verification.ts';
import { latestNotifications } from '../notify/notify.ts';

export async function getUser(ctx: AccountsContext, id: string): Promise<UserDto | null> {
  const u = await store.userById(ctx.db.kysely, id);
  return u ? toDto(ctx, ctx.db.kysely, u) : null;
}

/** The user id for an email (transfers to_email), or null. Exact, case-insensitive. */
export async function findUserIdByEmail(ctx: AccountsContext, email: string, ex: DbExecutor = ctx.db.kysely): Promise<string | null> {
  const e = normalizeEmail(email, ctx.config.limits.email_length_max);
  if (!e) return null;
  return (await store.userByEmail(ex, e))?.id ?? null;
}

/** changePassword(p, new) — needs step-up; ends the user's other sessions. */
export async function changePassword(ctx: AccountsContext, p: Principal, new_password: string, meta: RequestMeta): Promise<void> {
  await requireStepUp(ctx, p);
  const u = await loadUser(ctx.db.kysely, p.user_id);
  checkNewPassword(ctx, new_password, u.email, asLocale(u.locale));
  const password_hash = await hashPassword(new_password);
  await ctx.db.transaction(async (trx) => {
    const now = ctx.clock.now_ms();
    await store.updateUser(trx, u.id, { password_hash, password_changed_at_ms: now, updated_at_ms: now });
    const ended = await store.endSessionsOf(trx, u.id, p.session_id, now, 'password_changed');
    await audit(ctx, trx, 'password_changed', u.id, { type: 'user', id: u.id }, meta, { sessions_ended: ended });
    await notice(ctx, trx, u, 'password_changed', { at: isoTime(now) });
  });
}

/** setLocale(p, 'zh-CN') — the language of explanations, notices and mail from now on. */
export async function setLocale(ctx: AccountsContext, p: Principal, locale: Locale, meta: RequestMeta): Promise<UserDto> {
  return ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    if (u.locale !== locale) {
      await store.updateUser(trx, u.id, { locale, updated_at_ms: ctx.clock.now_ms() });
      await audit(ctx, trx, 'locale_changed', u.id, { type: 'user', id: u.id }, meta, { from: u.locale, to: locale });
    }
    return toDto(ctx, trx, await loadUser(trx, u.id));
  });
}

/** changeEmail(p, new) — needs step-up; the old address is told, the new one gets a code to confirm it. 409 email_taken; 403 account_frozen. */
export async function changeEmail(ctx: AccountsContext, p: Principal, new_email: string, meta: RequestMeta): Promise<UserDto> {
  await requireStepUp(ctx, p);
  const email = normalizeEmail(new_email, ctx.config.limits.email_length_max);
  if (!email) throw new ProblemError(400, 'invalid_email', 'That is not an email address we can use.');
  try {
    return await ctx.db.transaction(async (trx) => {
      const u = await loadUser(trx, p.user_id);
      // A frozen account keeps its recovery channel: an intruder holding a session must not move
      // the email while the owner sorts the freeze out (issue 16).
      if (u.status === 'frozen') throw new ProblemError(403, 'account_frozen', 'Your account is frozen: its email cannot be changed until it is unfrozen.');
      const now = ctx.clock.now_ms();
      await store.updateUser(trx, u.id, { email, email_verified_at_ms: null, updated_at_ms: now });
      await audit(ctx, trx, 'email_changed', u.id, { type: 'user', id: u.id }, meta, { from: u.email, to: email });
      // Told at the OLD address (u still holds it): a hijacker who changes the email is seen.
      await notice(ctx, trx, u, 'email_changed', { at: isoTime(now), email });
      // The new address receives transfers only once confirmed with the code mailed to it.
      await issueEmailCode(ctx, trx, { id: u.id, email, locale: u.locale });
      return toDto(ctx, trx, await loadUser(trx, u.id));
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ProblemError(409, 'email_taken', 'Another account already uses that email.');
    throw error;
  }
}

/** My latest notifications, in my language (notify keeps them: GET /notifications pages them). */
export async function notifications(ctx: AccountsContext, user_id: string, limit: number) {
  const u = await store.userById(ctx.db.kysely, user_id);
  return u ? latestNotifications(ctx.db.kysely, user_id, asLocale(u.locale), limit) : [];
}

/**
 * Security events, newest first, cursor = last id: staff read all (or one user's) as written; a
 * user reading their own log (`own: true`) sees what happened to their account, but not the
 * notes staff wrote (issue 16).
 */
export async function securityEvents(ctx: AccountsContext, filter: { user_id?: string; cursor?: string; own?: boolean }, limit: number) {
  const rows = await store.auditPage(ctx.db.kysely, {
    ...(filter.user_id ? { subject_id: filter.user_id } : {}), ...(filter.cursor ? { before_id: filter.cursor } : {}),
  }, limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: page.map((r) => {
      const details = JSON.parse(r.details) as Record<string, unknown>;
      return {
        id: r.id, at: isoTime(r.at_ms), action: r.action, actor_type: r.actor_type, actor_id: r.actor_id, user_id: r.subject_type === 'user' ? r.subject_id : null,
        ip: r.ip, user_agent: r.user_agent, request_id: r.request_id, details: filter.own ? ownDetails(details) : details,
      };
    }),
    next_cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

/** A user as staff see it: the account, how many sessions are live, a pending unfreeze request, identity documents. */
export async function staffView(ctx: AccountsContext, user_id: string) {
  const { db, config } = ctx;
  const u = await loadUser(db.kysely, user_id);
  const sessions = await store.liveSessions(db.kysely, user_id, config.limits.sessions_per_user_max);
  const pending = await store.pendingUnfreezeRequestOf(db.kysely, user_id);
  return { user: await toDto(ctx, db.kysely, u), live_sessions: sessions.length, pending_unfreeze_request_id: pending?.id ?? null, kyc_documents: await listKycDocuments(ctx, user_id) };
}

/**
 * Staff search (GET /admin/users?q=): by email prefix, id prefix (an exact id included) or, when
 * the caller resolved `q` as a deposit address, the address's owners; newest first, cursor =
 * last id. searchUsers(ctx, { q: 'ann@', owner_ids: [], cursor: null }, 20) -> { data, next_cursor }
 */
export async function searchUsers(ctx: AccountsContext, input: { q: string | null; owner_ids: readonly string[]; cursor: string | null }, limit: number) {
  const text = input.q?.trim().toLowerCase() ?? '';
  const rows = await store.searchUsers(ctx.db.kysely, { prefix: text === '' ? null : text, ids: input.owner_ids, before_id: input.cursor }, limit + 1);
  const page = rows.slice(0, limit);
  return {
    data: await Promise.all(page.map((u) => toDto(ctx, ctx.db.kysely, u))),
    next_cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
