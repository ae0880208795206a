// Release at depth, one part of the deposit scanner (deposit-scanner.ts): deposits that reached
// their required depth below the verified tip are released as one batch — one transaction, one
// ledger call posting every pending transfer, deposits and payments (timeline + outbox) moved in
// bulk — unless a maintenance window blocks the chain, which holds them (`maintenance`) until a
// tick finds no window. The shown confirmations of deposits still counting are refreshed too.
import { LIMITS } from '../../config.ts';
import { isoTime } from '../../shared/clock.ts';
import type { PaymentChange } from '../payments.ts';
import type { DepositStatus, HoldReason } from '../payment-rules.ts';
import { transitionPaymentsBulk } from './deposit-payments.ts';
import { confirmationsAt, depositTransferIds } from './deposit-rules.ts';
import { applyTransfers, type BlockingWindow, type ScanContext } from './deposit-scan-context.ts';
import * as store from './deposit-store.ts';

/** Deposits released per tick: one transaction and one ledger call (within the ledger's batch bound). */
const RELEASE_PER_TICK_MAX = Math.min(5000, LIMITS.ledger_batch_max);
/** Confirming payments whose shown confirmation count is refreshed per tick. */
const CONFIRMATION_REFRESH_MAX = 500;

/**
 * Releases deposits at depth below the verified tip, in chain order, as ONE batch (releaseDue),
 * or holds them while a maintenance window blocks the chain. At most RELEASE_PER_TICK_MAX per
 * tick; `more` says the tick was full, so the worker ticks again at once. Then refreshes the
 * shown confirmations of the deposits still counting.
 */
export async function releaseAtDepth(s: ScanContext, tip: number, refresh: boolean): Promise<{ released: number; more: boolean }> {
  const { chain_id, deps } = s;
  // A maintenance window on the chain holds releases back; once it is over, they go in chain order.
  const window = (await deps.maintenanceBlocking?.(chain_id)) ?? null;
  let released = 0;
  let more = false;
  if (window) await holdForMaintenance(s, tip, window);
  else {
    const r = await releaseDue(s, tip);
    released = r.released;
    more = r.due === RELEASE_PER_TICK_MAX;
  }
  if (refresh) await refreshConfirmations(s, tip);
  return { released, more };
}

/**
 * One transaction, one ledger call posting every pending transfer, the deposits marked in bulk
 * (only those still confirming: a concurrent release finds nothing left to move), their
 * payments moved in bulk (timeline + outbox), invoices told once.
 */
async function releaseDue(s: ScanContext, tip: number): Promise<{ released: number; due: number }> {
  const { db, clock, chain_id, deps } = s;
  return db.transaction(async (trx) => {
    const due = await store.selectDue(trx, chain_id, tip, RELEASE_PER_TICK_MAX);
    if (due.length === 0) return { released: 0, due: 0 };
    await applyTransfers(
      s,
      trx,
      due.map((d) => ({ id: depositTransferIds(chain_id, d.tx_hash, d.log_index, d.generation).post, post_pending_id: d.pending_transfer_id, reason: 'deposit_released', reference: d.id })),
      'deposit release',
    );
    const now = clock.now_ms();
    const byStatus = (status: DepositStatus) => due.filter((d) => (d.credit_kind === 'user_held' ? 'held' : 'credited') === status).map((d) => d.id);
    const moved = new Set([...(await store.markReleased(trx, byStatus('credited'), 'credited', now)), ...(await store.markReleased(trx, byStatus('held'), 'held', now))]);
    const ready = due.filter((d) => moved.has(d.id));
    await transitionPaymentsBulk(
      trx,
      ready.map((d) => ({
        id: d.payment_id,
        change: { status: d.credit_kind === 'user_held' ? 'held' : 'credited', hold: d.hold_reason as HoldReason | null, confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } },
      })),
      clock,
    );
    if (ready.length) await deps.onDepositChange?.(trx, ready.map((d) => d.id)); // extension point (invoices)
    for (const user_id of new Set(ready.filter((d) => d.hold_reason === 'account_frozen').map((d) => d.user_id))) await deps.releaseHeld?.(trx, user_id);
    return { released: ready.length, due: due.length };
  });
}

/**
 * Bounded: the shown count of the oldest deposits is refreshed first; the rest catch up on
 * later blocks (their release never depends on it).
 */
async function refreshConfirmations(s: ScanContext, tip: number): Promise<void> {
  const { db, clock, chain_id } = s;
  const counting = await store.selectCounting(db.kysely, chain_id, tip, CONFIRMATION_REFRESH_MAX);
  if (counting.length) {
    await db.transaction((trx) =>
      transitionPaymentsBulk(trx, counting.map((d) => ({ id: d.payment_id, change: { status: 'confirming', confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } } })), clock),
    );
  }
}

/**
 * A maintenance window blocks the chain: deposits at depth are not released. The deposit row
 * stays `confirming` (its ledger transfer is still pending, as reconciliation expects); its
 * payment shows `held` / `maintenance` (ETA: the window's end) with its confirmations still
 * counted, and is released by the first tick that finds no window.
 */
async function holdForMaintenance(s: ScanContext, tip: number, window: BlockingWindow): Promise<void> {
  const { db, clock, chain_id } = s;
  // Kept with the hold, so the timeline still says which window and until when after it ended.
  const params = { message: window.message, ...(window.message_zh ? { message_zh: window.message_zh } : {}), ends_at: isoTime(window.ends_at_ms) };
  await db.transaction(async (trx) => {
    const atDepth = await store.selectDue(trx, chain_id, tip, RELEASE_PER_TICK_MAX);
    const changes: Array<{ id: string; change: PaymentChange }> = atDepth.map((d) => ({
      id: d.payment_id,
      change: { status: 'held', hold: 'maintenance', params, confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } },
    }));
    await transitionPaymentsBulk(trx, changes, clock);
  });
}
