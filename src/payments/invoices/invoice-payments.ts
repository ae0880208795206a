// How payments reach an invoice. The deposit scanner credits a payment into an invoice's address
// to the merchant and, in the same transaction, tells this module (onDepositChange): the deposit
// is mirrored into invoice_payments and the invoice's status recomputed from all its payments
// (invoice-rules.ts). The expiry job recomputes it once more at expires_at. Every change of an
// invoice emits `invoice.<status>` to the outbox, with the invoice's snapshot as payload.
import type { Db, DbExecutor } from '../../db/database.ts';
import { emitEvent } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { canMove, invoiceEventType, invoiceState, type InvoiceException, type InvoiceStatus } from './invoice-rules.ts';
import * as store from './invoice-store.ts';
import type { InvoiceRow } from './invoice-store.ts';

/** What the invoice service's parts share: the database and the clock. */
export interface InvoiceContext {
  db: Db;
  clock: Clock;
}

/** The outbox payload of an invoice event (the webhook dispatcher routes it by user_id). */
export function invoiceSnapshot(r: InvoiceRow): Record<string, unknown> {
  return {
    id: r.id,
    user_id: r.user_id,
    status: r.status,
    exception: r.exception,
    asset: r.asset,
    chain_id: r.chain_id,
    amount_due_minor: r.amount_due_minor.toString(),
    amount_paid_minor: r.amount_paid_minor.toString(),
    address: r.address,
    order_id: r.order_id,
    expires_at_ms: r.expires_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
}

/** Emits `invoice.<status>` for the invoice as it now is, in the caller's transaction. */
export async function emitInvoiceEvent(ctx: InvoiceContext, trx: DbExecutor, row: InvoiceRow): Promise<void> {
  await emitEvent(trx, { type: invoiceEventType(row.status as InvoiceStatus), aggregate_type: 'invoice', aggregate_id: row.id, payload: invoiceSnapshot(row) }, ctx.clock);
}

/** Recomputes an invoice's status from its payments now (idempotent); null for a missing invoice. */
export async function recomputeInvoice(ctx: InvoiceContext, trx: DbExecutor, id: string): Promise<InvoiceRow | null> {
  // Locked: the expiry job and the scanner may recompute the same invoice at once.
  const inv = await store.selectInvoiceForUpdate(trx, ctx.db.dialect, id);
  if (!inv) return null;
  const pays = await store.selectInvoicePayments(trx, id);
  const now = ctx.clock.now_ms();
  const marked = inv.exception === 'marked' ? (inv.status as 'settled' | 'invalid') : null;
  const next = invoiceState({ amount_due_minor: inv.amount_due_minor, expires_at_ms: inv.expires_at_ms, now_ms: now, marked }, pays);
  // A final status stays; later payments still show in amount_paid and the exception.
  const status = canMove(inv.status as InvoiceStatus, next.status) ? next.status : (inv.status as InvoiceStatus);
  const exception: InvoiceException | null = status === next.status ? next.exception : inv.exception === 'marked' ? 'marked' : next.amount_paid_minor > inv.amount_due_minor ? 'paid_over' : (inv.exception as InvoiceException | null);
  if (status === inv.status && exception === inv.exception && next.amount_paid_minor === inv.amount_paid_minor) return inv;
  const after: InvoiceRow = { ...inv, status, exception, amount_paid_minor: next.amount_paid_minor, status_since_ms: status === inv.status ? inv.status_since_ms : now, updated_at_ms: now };
  await store.updateInvoice(trx, id, { status, exception, amount_paid_minor: after.amount_paid_minor, status_since_ms: after.status_since_ms, updated_at_ms: now });
  await emitInvoiceEvent(ctx, trx, after);
  return after;
}

/**
 * The scanner's hook, inside its transaction: mirrors these deposits (if they pay invoice
 * addresses) and recomputes the invoices they pay. Deposits to other addresses are ignored.
 */
export async function mirrorDeposits(ctx: InvoiceContext, trx: DbExecutor, deposit_ids: readonly string[]): Promise<void> {
  if (deposit_ids.length === 0) return;
  const deposits = await store.selectDepositsPaying(trx, deposit_ids);
  const touched = new Set<string>();
  for (const d of deposits) {
    const inv = await store.selectInvoiceByAddress(trx, Number(d.chain_id), d.to_address);
    // Another asset sent to the invoice's address is still the merchant's deposit, but does not pay the invoice.
    if (!inv || inv.asset !== d.asset) continue;
    await store.upsertInvoicePayment(trx, {
      deposit_id: d.id,
      invoice_id: inv.id,
      payment_id: d.payment_id,
      amount_minor: d.amount_minor,
      status: d.status,
      block_time_ms: d.block_timestamp_s === null ? null : Number(d.block_timestamp_s) * 1000,
      first_seen_at_ms: Number(d.first_seen_at_ms),
      updated_at_ms: ctx.clock.now_ms(),
    });
    touched.add(inv.id);
  }
  for (const id of touched) await recomputeInvoice(ctx, trx, id);
}
