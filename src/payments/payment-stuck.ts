// Stuck detection: a payment that stays in a state longer than its ETA × STUCK_FACTOR raises a
// `payment.stuck` outbox event once per (payment, state), with its evidence (status, since,
// expected duration, confirmations, hold), for support to turn into a case.
import type { DbExecutor } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { isoTime } from '../shared/clock.ts';
import { blockingWindow } from './payment-dto.ts';
import { dtoContext, type PaymentViewDeps } from './payment-routes.ts';
import { etaMs, expectedDurationMs, stuckAfterMs } from './payment-eta-rules.ts';
import type { PaymentStatus } from './payment-rules.ts';
import { paymentFromRow } from './payments.ts';

export const STUCK_SCAN_MAX = 500;
/** Statuses that wait on something with an ETA (chains, maintenance, reviews). */
const WATCHED: PaymentStatus[] = ['pending', 'confirming', 'held', 'requested', 'review', 'broadcast'];

/**
 * One pass over every watched payment, a page of STUCK_SCAN_MAX at a time (oldest state first,
 * keyset on status_since_ms and id): the oldest ones may all be waiting on a person, and must
 * not hide a newer stuck one. Returns how many payments were newly reported stuck.
 */
export async function detectStuck(view: PaymentViewDeps): Promise<number> {
  let reported = 0;
  let after: { since_ms: number; id: string } | null = null;
  for (;;) {
    const rows = await watchedPage(view.db.kysely, after);
    reported += await checkPage(view, rows.map(paymentFromRow));
    const last = rows[rows.length - 1];
    if (!last || rows.length < STUCK_SCAN_MAX) return reported;
    after = { since_ms: Number(last.status_since_ms), id: last.id };
  }
}

type PaymentRow = Parameters<typeof paymentFromRow>[0];

async function watchedPage(ex: DbExecutor, after: { since_ms: number; id: string } | null): Promise<PaymentRow[]> {
  return ex
    .selectFrom('payments')
    .selectAll()
    .where('status', 'in', WATCHED)
    .$if(after !== null, (q) => q.where((eb) => eb.or([eb('status_since_ms', '>', after!.since_ms), eb.and([eb('status_since_ms', '=', after!.since_ms), eb('id', '>', after!.id)])])))
    .orderBy('status_since_ms')
    .orderBy('id')
    .limit(STUCK_SCAN_MAX)
    .execute();
}

async function checkPage(view: PaymentViewDeps, payments: ReturnType<typeof paymentFromRow>[]): Promise<number> {
  const { db, clock } = view;
  const ctx = await dtoContext(view, null, null, payments);
  let reported = 0;
  for (const p of payments) {
    const chain_id = p.chain?.chain_id ?? ctx.assets.get(p.asset)?.chain_id ?? null;
    const timing = chain_id !== null ? ctx.timing.get(chain_id) : undefined;
    const window = p.hold?.reason === 'maintenance' ? blockingWindow(ctx.windows, chain_id) : null;
    const since = p.hold && p.hold.since_ms > p.status_since_ms ? p.hold.since_ms : p.status_since_ms;
    const facts = { now_ms: ctx.now_ms, status: p.status, hold: p.hold, confirmations: p.confirmations, block_time_ms: timing?.block_time_ms ?? null, head_seen_at_ms: timing?.head_seen_at_ms ?? null, maintenance_ends_at_ms: window?.ends_at_ms ?? null, review_sla_ms: ctx.review_sla_ms };
    const expected = stuckAfterMs(expectedDurationMs({ ...facts, state_since_ms: since }));
    if (expected === null || ctx.now_ms - since < expected) continue;
    const eta = etaMs(facts);
    const isNew = await db.transaction(async (trx) => report(trx, p.id, p.status, since, ctx.now_ms, expected, {
      payment_id: p.id,
      user_id: p.user_id,
      kind: p.kind,
      status: p.status,
      since: isoTime(since),
      expected_ms: expected,
      eta: eta === null ? null : isoTime(eta),
      confirmations: p.confirmations,
      hold: p.hold,
      chain: p.chain,
    }, clock));
    if (isNew) reported++;
  }
  return reported;
}

async function report(trx: DbExecutor, payment_id: string, status: string, since_ms: number, now_ms: number, expected_ms: number, evidence: Record<string, unknown>, clock: PaymentViewDeps['clock']): Promise<boolean> {
  const seen = await trx.selectFrom('payment_stuck').select('payment_id').where('payment_id', '=', payment_id).where('status', '=', status).where('status_since_ms', '=', since_ms).executeTakeFirst();
  if (seen) return false;
  await trx.insertInto('payment_stuck').values({ payment_id, status, status_since_ms: since_ms, detected_at_ms: now_ms, expected_ms }).execute();
  await emitEvent(trx, { type: 'payment.stuck', aggregate_type: 'payment_stuck', aggregate_id: payment_id, payload: evidence }, clock);
  return true;
}
