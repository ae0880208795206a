// The unfreeze workflow: a frozen user asks to be unfrozen (the request lists what they must do
// first, by freeze reason), staff approve — compliance freezes need two different staff — and
// the last approval lifts the freezes, starts the cool-down and tells payments (outbox).
import type { DbExecutor } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { translate, type Locale } from '../shared/i18n.ts';
import { newId } from '../shared/ids.ts';
import type { Principal, UserStatus } from '../shared/principal.ts';
import { COOLDOWN_MS, requirementMessages, statusAfterUnfreeze, unfreezePlan, type FreezeReason, type UserFacts } from './standing-rules.ts';
import * as store from './accounts-store.ts';
import type { UnfreezeRequestRow, UserRow } from './accounts-store.ts';
import { asLocale, audit, loadUser, notice, toDto, type AccountsContext, type RequestMeta } from './accounts-context.ts';
import { requireImposerRank, requireOutranks, transition } from './standing.ts';

async function factsOf(ex: DbExecutor, u: UserRow): Promise<UserFacts> {
  return {
    password_changed_at_ms: u.password_changed_at_ms, totp_enabled: u.totp_enabled === 1, totp_bound_at_ms: u.totp_bound_at_ms,
    identity_verified_at_ms: u.identity_verified_at_ms, last_kyc_document_at_ms: await store.lastKycDocumentAt(ex, u.id),
  };
}

/** What the user must do and who must approve, for the user's freezes as they are now. */
async function planFor(ex: DbExecutor, u: UserRow) {
  const freezes = await store.activeFreezes(ex, u.id);
  const plan = unfreezePlan(freezes.map((f) => ({ reason: f.reason as FreezeReason, created_at_ms: f.created_at_ms })), await factsOf(ex, u));
  return { freezes, plan };
}

async function unfreezeDto(ex: DbExecutor, req: UnfreezeRequestRow, locale: Locale) {
  const u = await loadUser(ex, req.user_id);
  const { freezes, plan } = await planFor(ex, u);
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

/** The user's pending request, or a new one (requested by the user or by staff), in the caller's transaction. */
async function pendingRequestOf(ctx: AccountsContext, ex: DbExecutor, user_id: string, requested_by: 'user' | 'staff'): Promise<{ req: UnfreezeRequestRow; created: boolean }> {
  const pending = await store.pendingUnfreezeRequestOf(ex, user_id);
  if (pending) return { req: pending, created: false };
  const now = ctx.clock.now_ms();
  const req: UnfreezeRequestRow = { id: newId('unf', now), user_id, status: 'pending', requested_by, created_at_ms: now, updated_at_ms: now, completed_at_ms: null };
  await store.insertUnfreezeRequest(ex, req);
  return { req, created: true };
}

export async function requestUnfreeze(ctx: AccountsContext, p: Principal, meta: RequestMeta) {
  return ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    if (u.status !== 'frozen') throw new ProblemError(409, 'not_frozen', 'Your account is not frozen.');
    const { req, created } = await pendingRequestOf(ctx, trx, u.id, 'user');
    if (created) await audit(ctx, trx, 'unfreeze_requested', u.id, { type: 'user', id: u.id }, meta, { request_id: req.id });
    return unfreezeDto(trx, req, asLocale(u.locale));
  });
}

export async function listUnfreezeRequests(ctx: AccountsContext, staff: Principal, limit: number) {
  const rows = await store.pendingUnfreezeRequests(ctx.db.kysely, limit);
  const out = [];
  for (const r of rows) out.push(await unfreezeDto(ctx.db.kysely, r, staff.locale));
  return out;
}

/** approveUnfreeze(staff, request_id) — requirements must be met; compliance needs two different staff. */
export async function approveUnfreeze(ctx: AccountsContext, staff: Principal, request_id: string, note: string | null, meta: RequestMeta) {
  const pending = await store.unfreezeRequestById(ctx.db.kysely, request_id);
  if (!pending) throw problems.notFound('unfreeze request');
  await requireOutranks(ctx, staff, pending.user_id, 'unfreeze', meta);
  await requireImposerRank(ctx, staff, pending.user_id, meta);
  return ctx.db.transaction(async (trx) => {
    const req = await store.unfreezeRequestById(trx, request_id);
    if (!req) throw problems.notFound('unfreeze request');
    return approve(ctx, trx, staff, req, note, meta);
  });
}

/**
 * POST /admin/users/{id}/unfreeze: an approval on the staff member's word (creates the request if
 * needed); on a restricted account, the restriction's lift. Either needs a role at least the imposer's.
 */
export async function staffUnfreeze(ctx: AccountsContext, staff: Principal, user_id: string, note: string, meta: RequestMeta) {
  const { db, clock } = ctx;
  await requireOutranks(ctx, staff, user_id, 'unfreeze', meta);
  await requireImposerRank(ctx, staff, user_id, meta);
  return db.transaction(async (trx) => {
    const u = await loadUser(trx, user_id);
    if (u.status === 'restricted') {
      const next = transition('restricted', 'lift_restriction');
      await store.updateUser(trx, u.id, { status: next, restricted_at_ms: null, restricted_by: null, updated_at_ms: clock.now_ms() });
      await audit(ctx, trx, 'restriction_lifted', u.id, { type: 'staff', id: staff.user_id }, meta, { note });
      return { user: await toDto(ctx, trx, await loadUser(trx, user_id)), unfreeze_request: null };
    }
    if (u.status !== 'frozen') throw new ProblemError(409, 'not_frozen', 'This account is not frozen or restricted.');
    const { req } = await pendingRequestOf(ctx, trx, u.id, 'staff');
    return approve(ctx, trx, staff, req, note, meta, { waive_requirements: true });
  });
}

/**
 * One staff approval of an unfreeze request. Through the request queue the user's requirements
 * must be met; `POST /admin/users/{id}/unfreeze` approves on the staff member's word (API.md),
 * so there they are waived and the waiver is audited. Compliance still needs two staff.
 */
async function approve(ctx: AccountsContext, trx: DbExecutor, staff: Principal, req: UnfreezeRequestRow, note: string | null, meta: RequestMeta, opts: { waive_requirements?: boolean } = {}) {
  if (req.status !== 'pending') throw new ProblemError(409, 'request_closed', `This request is already ${req.status}.`);
  if (req.user_id === staff.user_id) throw new ProblemError(403, 'own_account', 'Staff cannot approve their own unfreeze.');
  const u = await loadUser(trx, req.user_id);
  const { plan } = await planFor(trx, u);
  const unmet = plan.requirements.filter((r) => !r.met).map((r) => r.code);
  if (unmet.length && !opts.waive_requirements) {
    throw new ProblemError(409, 'unfreeze_requirements_unmet', `The user has not yet done: ${unmet.join(', ')}.`, { requirements: unmet });
  }
  const now = ctx.clock.now_ms();
  if (!(await store.insertApproval(trx, { id: newId('apr', now), request_id: req.id, staff_id: staff.user_id, note, created_at_ms: now }))) {
    throw new ProblemError(409, 'already_approved', 'You already approved this request; a different staff member must approve next.');
  }
  await audit(ctx, trx, 'unfreeze_approved', u.id, { type: 'staff', id: staff.user_id }, meta, { request_id: req.id, note, ...(unmet.length ? { requirements_waived: unmet } : {}) });
  const approvals = await store.approvalsOf(trx, req.id);
  if (approvals.length >= plan.approvals_required) {
    transition(u.status as UserStatus, 'unfreeze');
    // A restriction outlives the freeze: only its own lift ends it.
    const next = statusAfterUnfreeze(u.restricted_at_ms !== null);
    const cooldown_until_ms = now + COOLDOWN_MS;
    await store.liftFreezes(trx, u.id, req.id, now);
    await store.updateUser(trx, u.id, { status: next, cooldown_until_ms, updated_at_ms: now });
    await store.setUnfreezeRequestStatus(trx, req.id, 'completed', now);
    await emitEvent(trx, { type: 'account.unfrozen', aggregate_type: 'user', aggregate_id: u.id, payload: { user_id: u.id, request_id: req.id, cooldown_until_ms } }, ctx.clock);
    await audit(ctx, trx, 'account_unfrozen', u.id, { type: 'staff', id: staff.user_id }, meta, { request_id: req.id, approvers: approvals.map((a) => a.staff_id), cooldown_until_ms });
    await notice(ctx, trx, u, 'unfrozen', { until: isoTime(cooldown_until_ms) });
  }
  const fresh = (await store.unfreezeRequestById(trx, req.id))!;
  return { user: await toDto(ctx, trx, await loadUser(trx, u.id)), unfreeze_request: await unfreezeDto(trx, fresh, staff.locale) };
}

