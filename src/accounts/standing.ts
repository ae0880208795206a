// How an account stands: active, restricted, frozen or closed, its KYC level and limits, and the
// cool-down after an unfreeze; what it may do because of that (send, withdraw, receive), and the
// acts that change it — freeze (by the user, staff or the system), restrict, set the KYC level.
// Staff act only on accounts below their own role (requireOutranks). Unfreezing goes through
// requests and approvals: unfreeze-requests.ts. The pure rules of both: standing-rules.ts.
import type { DbExecutor } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Principal, UserStatus } from '../shared/principal.ts';
import { normalizeEmail } from './accounts-rules.ts';
import { explainFreeze, kycLimits, liftRankRequired, nextStatus, receiveMode, roleRank, sendPermission, staffMayActOn, withdrawPermission, type FreezeReason, type Imposed, type KycLimits, type Permission, type StatusAction } from './standing-rules.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';
import { audit, loadUser, notice, parseRoles, toDto, type AccountsContext, type Actor, type RequestMeta, type UserDto } from './accounts-context.ts';

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
  /** null when no account has that email; `email_verified` false until its owner confirmed it. */
  recipient: { email: string; email_verified: boolean; standing: AccountStanding } | null;
}

function standingOf(u: UserRow, now_ms: number): AccountStanding {
  const status = u.status as UserStatus;
  return {
    user_id: u.id, status, kyc_level: u.kyc_level, cooldown_until_ms: u.cooldown_until_ms,
    send: sendPermission(status), withdraw: withdrawPermission(status, u.cooldown_until_ms, now_ms), receive: receiveMode(status), limits: kycLimits(u.kyc_level),
  };
}

/** The status after `action`, or 409 invalid_account_state when the state machine refuses it. */
export function transition(current: UserStatus, action: StatusAction): UserStatus {
  const next = nextStatus(current, action);
  if (!next) throw new ProblemError(409, 'invalid_account_state', `An account that is ${current} cannot be changed that way (${action}).`, { status: current });
  return next;
}

/**
 * Staff act only on accounts below their own role, unless they are admins: an agent cannot
 * freeze an admin or another agent. A refusal is audited on the target's account and answers
 * 403 target_outranks_actor. Read before the caller's transaction (the audit must outlive the
 * refusal), and the target's roles change only through the CLI.
 */
export async function requireOutranks(ctx: AccountsContext, staff: Principal, user_id: string, action: string, meta: RequestMeta | null): Promise<void> {
  const { db } = ctx;
  const target = await loadUser(db.kysely, user_id);
  const target_roles = parseRoles(target.roles);
  if (staffMayActOn(staff.roles, target_roles)) return;
  await audit(ctx, db.kysely, 'staff_action_refused', target.id, { type: 'staff', id: staff.user_id }, meta, { action, actor_roles: staff.roles, target_roles });
  throw new ProblemError(403, 'target_outranks_actor', `Only an admin may ${action} an account whose role is as high as yours or higher.`, { action });
}

/**
 * Only a role at least the imposer's lifts what staff imposed (and only risk or admin a
 * restriction or a compliance freeze): an agent cannot undo a risk officer's decision. What is
 * lifted is the restriction when the account is restricted, else its active freezes. Read before
 * the caller's transaction, like requireOutranks; a refusal is audited and answers 403
 * imposer_outranks_actor.
 */
export async function requireImposerRank(ctx: AccountsContext, staff: Principal, user_id: string, meta: RequestMeta | null): Promise<void> {
  const { db } = ctx;
  const u = await loadUser(db.kysely, user_id);
  const imposed: Array<{ kind: Imposed['kind']; by: string | null }> = u.status === 'restricted'
    ? [{ kind: 'restriction', by: u.restricted_by }]
    : (await store.activeFreezes(db.kysely, u.id)).map((f) => ({ kind: f.reason as FreezeReason, by: f.actor_type === 'staff' ? f.actor_id : null }));
  const roles = await store.rolesOf(db.kysely, [...new Set(imposed.flatMap((i) => (i.by ? [i.by] : [])))]);
  const needed_rank = liftRankRequired(imposed.map((i) => ({ kind: i.kind, by_roles: i.by && roles.has(i.by) ? parseRoles(roles.get(i.by)!) : null })));
  if (roleRank(staff.roles) >= needed_rank) return;
  await audit(ctx, db.kysely, 'staff_action_refused', u.id, { type: 'staff', id: staff.user_id }, meta, { action: 'lift', actor_roles: staff.roles, needed_rank });
  throw new ProblemError(403, 'imposer_outranks_actor', 'This was imposed by a higher role than yours (restrictions and compliance freezes by risk or admin): only that role or a higher one may lift it.');
}

/** Freezes in the caller's transaction: ends sessions (but keep_session), tells payments (outbox), audits, tells the user. */
export async function applyFreeze(ctx: AccountsContext, ex: DbExecutor, u: UserRow, reason: FreezeReason, actor: Actor, keep_session: string | null, meta: RequestMeta | null, note: string | null): Promise<void> {
  const { clock } = ctx;
  const now = clock.now_ms();
  const next = transition(u.status as UserStatus, 'freeze');
  await store.insertFreeze(ex, { id: newId('frz', now), user_id: u.id, reason, actor_type: actor.type, actor_id: actor.id, note, created_at_ms: now, lifted_at_ms: null, lifted_by_request_id: null });
  await store.updateUser(ex, u.id, { status: next, updated_at_ms: now });
  const ended = await store.endSessionsOf(ex, u.id, keep_session, now, 'account_frozen');
  const api_keys_suspended = (await store.apiKeysOf(ex, u.id, 100)).filter((k) => k.revoked_at_ms === null).length;
  await emitEvent(ex, { type: 'account.frozen', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, reason, by: actor.type, at_ms: now } }, clock);
  await audit(ctx, ex, 'account_frozen', u.id, actor, meta, { reason, sessions_ended: ended, api_keys_suspended, note });
  // Both languages are kept, so that the notice reads in whichever the user has when reading it.
  const en = explainFreeze(reason, 'en');
  const zh = explainFreeze(reason, 'zh-CN');
  const steps = (e: typeof en) => e.what_to_do.map((s) => `- ${s}`).join('\n');
  await notice(ctx, ex, u, 'frozen', { message: { en: en.message, 'zh-CN': zh.message }, steps: { en: steps(en), 'zh-CN': steps(zh) } });
}

/** standing(user_id, trx?) -> how the account stands now; read it inside your transaction. */
export async function standing(ctx: AccountsContext, user_id: string, ex: DbExecutor = ctx.db.kysely): Promise<AccountStanding> {
  return standingOf(await loadUser(ex, user_id), ctx.clock.now_ms());
}

/**
 * A transfer's sender and its recipient (by email, as findUserIdByEmail finds it) with how
 * each stands, in one statement; read it inside your transaction.
 *   const { sender, recipient } = await accounts.transferParties('usr_a', 'Bob@x.test', trx);
 */
export async function transferParties(ctx: AccountsContext, sender_id: string, email: string, ex: DbExecutor = ctx.db.kysely): Promise<TransferParties> {
  const e = normalizeEmail(email, ctx.config.limits.email_length_max);
  const now = ctx.clock.now_ms();
  if (!e) return { sender: standingOf(await loadUser(ex, sender_id), now), recipient: null };
  const rows = (await ctx.hot.usersByIdOrEmail.execute(ex, [sender_id, e])).rows;
  const sender = rows.find((u) => u.id === sender_id);
  if (!sender) throw problems.notFound('user');
  const recipient = rows.find((u) => u.email === e);
  return { sender: standingOf(sender, now), recipient: recipient ? { email: recipient.email, email_verified: recipient.email_verified_at_ms !== null, standing: standingOf(recipient, now) } : null };
}

export async function canSend(ctx: AccountsContext, user_id: string, ex?: DbExecutor): Promise<Permission> {
  return (await standing(ctx, user_id, ex)).send;
}

export async function canWithdraw(ctx: AccountsContext, user_id: string, ex?: DbExecutor): Promise<Permission> {
  return (await standing(ctx, user_id, ex)).withdraw;
}

/** freeze(user_id, reason, actor, meta) — immediate; ends every session but `keep_session`. */
export async function freeze(ctx: AccountsContext, user_id: string, reason: FreezeReason, actor: Actor, meta: RequestMeta | null, opts: { keep_session?: string | null; note?: string | null } = {}): Promise<UserDto> {
  return ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, user_id);
    await applyFreeze(ctx, trx, u, reason, actor, opts.keep_session ?? null, meta, opts.note ?? null);
    return toDto(ctx, trx, await loadUser(trx, user_id));
  });
}

/** POST /admin/users/{id}/freeze: a staff freeze, refused on accounts of equal or higher role (unless admin). */
export async function staffFreeze(ctx: AccountsContext, staff: Principal, user_id: string, reason: FreezeReason, note: string | null, meta: RequestMeta): Promise<UserDto> {
  await requireOutranks(ctx, staff, user_id, 'freeze', meta);
  return freeze(ctx, user_id, reason, { type: 'staff', id: staff.user_id }, meta, { note });
}

export async function restrict(ctx: AccountsContext, staff: Principal, user_id: string, reason: string, meta: RequestMeta): Promise<UserDto> {
  const { db, clock } = ctx;
  await requireOutranks(ctx, staff, user_id, 'restrict', meta);
  return db.transaction(async (trx) => {
    const u = await loadUser(trx, user_id);
    if (u.restricted_at_ms !== null) throw new ProblemError(409, 'invalid_account_state', 'This account is already restricted.', { status: u.status });
    // A frozen account stays frozen; the restriction is recorded beside the freeze and outlives it.
    const next = transition(u.status as UserStatus, 'restrict');
    const now = clock.now_ms();
    await store.updateUser(trx, u.id, { status: next, restricted_at_ms: now, restricted_by: staff.user_id, updated_at_ms: now });
    await emitEvent(trx, { type: 'account.restricted', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, reason } }, clock);
    await audit(ctx, trx, 'account_restricted', u.id, { type: 'staff', id: staff.user_id }, meta, { reason });
    await notice(ctx, trx, u, 'restricted', { reason });
    return toDto(ctx, trx, await loadUser(trx, user_id));
  });
}

/** Staff sets the KYC level after reviewing documents; level >= 1 counts as identity verified. */
export async function setKycLevel(ctx: AccountsContext, staff: Principal, user_id: string, level: number, meta: RequestMeta): Promise<UserDto> {
  await requireOutranks(ctx, staff, user_id, 'set the KYC level of', meta);
  return ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, user_id);
    const now = ctx.clock.now_ms();
    await store.updateUser(trx, u.id, { kyc_level: level, identity_verified_at_ms: level >= 1 ? now : u.identity_verified_at_ms, updated_at_ms: now });
    await audit(ctx, trx, 'kyc_level_set', u.id, { type: 'staff', id: staff.user_id }, meta, { from: u.kyc_level, to: level });
    return toDto(ctx, trx, await loadUser(trx, user_id));
  });
}
