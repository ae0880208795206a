// The withdrawal watch: no withdrawal rests in a non-final state unwatched. A withdrawal is
// driven by its durable job (withdrawal.advance); a job that fails for good (job_attempts_max
// failures: an RPC down for days, a bug) leaves its withdrawal `requested` or `broadcast` with
// nothing looking at it — the user's money reserved, or coins sent and never confirmed. Every
// pass finds such withdrawals, gives each a fresh job, and raises it to staff: an audit entry
// (GET /admin/audit) and a `withdrawal.stalled` event, in the same transaction as the new job.
import type { Db } from '../../db/database.ts';
import { writeAudit } from '../../db/audit-log.ts';
import { emitEvent, enqueueJob } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { WITHDRAWAL_STATUSES, nextStep } from './withdrawal-rules.ts';
import { lastJobError, undrivenWithdrawals } from './withdrawal-store.ts';
import { ADVANCE_JOB } from './withdrawal-moves.ts';

/** Statuses a job must be driving (not final, not waiting for a staff review). */
const DRIVEN = WITHDRAWAL_STATUSES.filter((s) => nextStep(s) === 'sign_and_broadcast' || nextStep(s) === 'track');
const PAGE = 100;
export const WATCH_EVERY_MS = 5 * 60_000;

/** watchStalledWithdrawals({ db, clock }) -> ids of the withdrawals it re-drove and raised. */
export async function watchStalledWithdrawals(deps: { db: Db; clock: Clock }): Promise<string[]> {
  const { db, clock } = deps;
  const raised: string[] = [];
  let after = '';
  for (;;) {
    const page = await undrivenWithdrawals(db.kysely, DRIVEN, ADVANCE_JOB, after, PAGE);
    for (const w of page) {
      const last_error = await lastJobError(db.kysely, ADVANCE_JOB, w.id);
      const now = clock.now_ms();
      const details = { payment_id: w.id, user_id: w.user_id, status: w.status, last_error };
      await db.transaction(async (trx) => {
        await enqueueJob(trx, ADVANCE_JOB, { id: w.id }, {}, clock);
        await writeAudit(trx, { actor: { type: 'system', id: null }, action: 'withdrawal_stalled', subject: { type: 'payment', id: w.id }, meta: null, details }, now);
        // A staff alert, not a payment event: no payment renderer turns it into a customer webhook.
        await emitEvent(trx, { type: 'withdrawal.stalled', aggregate_type: 'staff_alert', aggregate_id: w.id, payload: details }, clock);
      });
      raised.push(w.id);
    }
    if (page.length < PAGE) return raised;
    after = page[page.length - 1]!.id;
  }
}
