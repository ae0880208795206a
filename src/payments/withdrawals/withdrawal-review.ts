// Risk review: a withdrawal a review rule held (`review`, hold risk_review) waits for staff. An
// approval re-checks the account's standing and sends it on (-> `requested` + the job); at or
// above four_eyes_above_usd a second, different staff member must approve too. A rejection VOIDs
// the pending transfers (-> `failed` with the reason). Each decision is audited in the same
// database transaction.
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { enqueueJob } from '../../jobs/jobs.ts';
import { ProblemError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { getPayment, type Payment, type TimelineEntry } from '../payments.ts';
import { referenceCents } from '../payment-rules.ts';
import { decideReview, reviewApprovalsRequired, type WithdrawalStatus } from './withdrawal-rules.ts';
import { approversOf, getWithdrawal, insertApproval, reviewQueue, type WithdrawalRow } from './withdrawal-store.ts';
import { ADVANCE_JOB, move, resolveLedger, type WithdrawalContext } from './withdrawal-moves.ts';
import type { PendingReview, ReviewApprovals, StaffDecision } from './withdrawals.ts';

/**
 * The review queue with its evidence in a fixed number of queries whatever the page size: the
 * withdrawals with their payments' rules (one join), then the owners' registration times (one
 * query through accountFacts.createdAtOf; per distinct owner only for an AccountFacts without it).
 */
export async function reviews(c: WithdrawalContext, limit: number): Promise<PendingReview[]> {
  const { db } = c;
  const rows = await reviewQueue(db.kysely, limit);
  const created = await createdAtOf(c, [...new Set(rows.map((r) => r.withdrawal.user_id))]);
  return rows.map(({ withdrawal, payment_params }) => {
    const params = payment_params ? (JSON.parse(payment_params) as Record<string, unknown>) : {};
    const rules = String(params.rules ?? '').split(',').filter((r) => r.length > 0);
    return { withdrawal, rules, account_created_at_ms: created.get(withdrawal.user_id) ?? null };
  });
}

/** The owners' registration times, in one query when accountFacts can (createdAtOf). */
async function createdAtOf(c: WithdrawalContext, user_ids: string[]): Promise<Map<string, number>> {
  const { db, clock, deps } = c;
  const facts = deps.accountFacts;
  if (!facts || user_ids.length === 0) return new Map();
  if (facts.createdAtOf) return facts.createdAtOf(db.kysely, user_ids);
  const now = clock.now_ms();
  const out = new Map<string, number>();
  for (const u of user_ids) {
    const f = await facts(db.kysely, u, now);
    if (f.created_at_ms !== null) out.set(u, f.created_at_ms);
  }
  return out;
}

/** Loads the withdrawal, checks the decision may be taken, and audits it in the same transaction. */
async function decide<T extends Record<string, unknown>>(c: WithdrawalContext, id: string, by: StaffDecision, decision: 'approve' | 'reject', apply: (trx: Transaction<Database>, w: WithdrawalRow) => Promise<T>): Promise<{ payment: Payment; timeline: TimelineEntry[]; outcome: T }> {
  const { db, clock } = c;
  return db.transaction(async (trx) => {
    const w = await getWithdrawal(trx, id);
    if (!w) throw new ProblemError(404, 'not_found', 'No withdrawal has that id.');
    const d = decideReview(w.status as WithdrawalStatus, w.user_id, by.staff_id, decision);
    if (!d.ok) {
      throw d.code === 'own_withdrawal'
        ? new ProblemError(403, 'own_withdrawal', 'Staff cannot review their own withdrawal.')
        : new ProblemError(409, 'review_closed', `This withdrawal is not waiting for a review (it is ${w.status}).`);
    }
    const outcome = await apply(trx, w);
    const now = clock.now_ms();
    await trx
      .insertInto('audit_log')
      .values({
        id: newId('aud', now), at_ms: now, actor_type: 'staff', actor_id: by.staff_id, action: decision === 'approve' ? 'withdrawal_review_approved' : 'withdrawal_review_rejected',
        subject_type: 'withdrawal', subject_id: w.id, ip: by.meta.ip, user_agent: by.meta.user_agent, request_id: by.meta.request_id,
        details: JSON.stringify({ user_id: w.user_id, asset: w.asset, amount_minor: String(w.amount_minor), to_address: w.to_address, note: by.note, ...outcome }),
      })
      .execute();
    return { ...(await getPayment(trx, w.id))!, outcome };
  }).catch((e: unknown) => {
    // A concurrent decision moved it first: the fence in move() refused ours.
    if (e instanceof Error && /moved under us/.test(e.message)) throw new ProblemError(409, 'review_closed', 'This withdrawal is not waiting for a review any more.');
    throw e;
  });
}

/**
 * One staff approval. At or above `four_eyes_above_usd` (or for an asset without a US dollar
 * price) a second, different staff member must approve too: the first approval is recorded and
 * audited, and the withdrawal stays in review until the second.
 */
export async function approve(c: WithdrawalContext, id: string, by: StaffDecision): Promise<{ payment: Payment; timeline: TimelineEntry[]; approvals: ReviewApprovals }> {
  const { clock, deps, assets, fourEyesCents } = c;
  const r = await decide(c, id, by, 'approve', async (trx, w) => {
    const standing = deps.standing ? (await deps.standing(w.user_id, trx)).withdraw : ({ ok: true } as const);
    if (!standing.ok) {
      throw new ProblemError(409, standing.code, `The account cannot withdraw now (${standing.code.replace(/_/g, ' ')}): reject this withdrawal, or approve it once the account can withdraw again.`);
    }
    const asset = assets.get(w.asset);
    const required = reviewApprovalsRequired(asset ? referenceCents(asset, w.amount_minor) : null, fourEyesCents);
    if (!(await insertApproval(trx, { withdrawal_id: w.id, staff_id: by.staff_id, note: by.note, created_at_ms: clock.now_ms() }))) {
      throw new ProblemError(409, 'already_approved', 'You already approved this withdrawal; a different staff member must approve it next.');
    }
    const given = (await approversOf(trx, w.id)).length;
    if (given < required) return { approvals: given, approvals_required: required };
    await move(c, trx, w, 'requested', {}, `approved by ${by.staff_id}`, { status: 'requested', hold: null });
    await enqueueJob(trx, ADVANCE_JOB, { id: w.id }, { unique_key: `${ADVANCE_JOB}:${w.id}:approved` }, clock);
    return { approvals: given, approvals_required: required };
  });
  return { payment: r.payment, timeline: r.timeline, approvals: { given: r.outcome.approvals, required: r.outcome.approvals_required } };
}

/** Staff reject: the pending transfers voided, `failed` with the reason. */
export async function reject(c: WithdrawalContext, id: string, by: StaffDecision & { reason: string }): Promise<{ payment: Payment; timeline: TimelineEntry[] }> {
  const r = await decide(c, id, by, 'reject', async (trx, w) => {
    await resolveLedger(c, trx, w, 'void');
    await move(c, trx, w, 'failed', { failure_code: 'rejected', failure_reason: by.reason }, by.reason, { status: 'failed', hold: null, code: 'withdrawal_rejected', params: { reason: by.reason } });
    return { reason: by.reason };
  });
  return { payment: r.payment, timeline: r.timeline };
}
