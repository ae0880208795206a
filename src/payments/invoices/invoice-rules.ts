// Invoices as pure rules: the statuses and exceptions of API.md, the status an invoice has given
// what was paid into its address and when, which moves are allowed, and what a merchant may mark.
// No I/O: invoice-store.ts persists, invoices.ts orchestrates.
//
// The status is RECOMPUTED from the invoice's payments every time one of them changes (found,
// released, dropped after a reorg), so the answer never depends on the order in which the
// scanner reported them, and a replay changes nothing.
import { assertNever } from '../../shared/assert.ts';

export const INVOICE_STATUSES = ['new', 'processing', 'settled', 'expired', 'invalid'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const INVOICE_EXCEPTIONS = ['paid_partial', 'paid_over', 'paid_late', 'marked'] as const;
export type InvoiceException = (typeof INVOICE_EXCEPTIONS)[number];

/** Invoice lifetimes: `expires_in_s` ≥ 10 (API.md), default 15 minutes, at most 30 days. */
export const EXPIRES_IN_S_MIN = 10;
export const EXPIRES_IN_S_DEFAULT = 900;
export const EXPIRES_IN_S_MAX = 30 * 24 * 3600;
export const ORDER_ID_LENGTH_MAX = 128;
export const METADATA_BYTES_MAX = 4096;
export const MARK_REASON_LENGTH_MAX = 500;

/** One on-chain payment into the invoice's address, as the deposit scanner recorded it. */
export interface InvoicePaymentFact {
  amount_minor: bigint;
  /** confirming | held | credited | dropped | reversed | refunded (deposit statuses) */
  status: string;
  /** When the transaction was first on chain: its block's timestamp, in ms (null: not in a block now). */
  block_time_ms: number | null;
  /** When the platform first saw it (used only when the block time is unknown). */
  first_seen_at_ms: number;
}

export interface InvoiceState {
  status: InvoiceStatus;
  exception: InvoiceException | null;
  amount_paid_minor: bigint;
}

/** Dropped and reversed payments are no longer on chain: they count for nothing. */
function counts(p: InvoicePaymentFact): boolean {
  return p.status !== 'dropped' && p.status !== 'reversed';
}

/** Released at depth (credited, or held on the merchant's account: the coins are ours either way). */
function atDepth(p: InvoicePaymentFact): boolean {
  return p.status === 'credited' || p.status === 'held' || p.status === 'refunded';
}

/**
 * On time when its block was stamped at or before the expiry: a payment mined in time is never
 * late because the platform (or its scanner) was down when it happened.
 */
export function isOnTime(p: InvoicePaymentFact, expires_at_ms: number): boolean {
  return (p.block_time_ms ?? p.first_seen_at_ms) <= expires_at_ms;
}

/**
 * The invoice's state from its payments. `marked` invoices keep the merchant's decision.
 * invoiceState({ amount_due_minor: 10n, expires_at_ms: 1000, now_ms: 500, marked: null }, [{ amount_minor: 4n, status: 'confirming', block_time_ms: 400, … }])
 *   -> { status: 'new', exception: 'paid_partial', amount_paid_minor: 4n }
 */
export function invoiceState(
  inv: { amount_due_minor: bigint; expires_at_ms: number; now_ms: number; marked: 'settled' | 'invalid' | null },
  payments: readonly InvoicePaymentFact[],
): InvoiceState {
  const live = payments.filter(counts);
  const amount_paid_minor = live.reduce((s, p) => s + p.amount_minor, 0n);
  if (inv.marked) return { status: inv.marked, exception: 'marked', amount_paid_minor };
  const onTime = live.filter((p) => isOnTime(p, inv.expires_at_ms));
  const paidOnTime = onTime.reduce((s, p) => s + p.amount_minor, 0n);
  const confirmedOnTime = onTime.filter(atDepth).reduce((s, p) => s + p.amount_minor, 0n);
  const late = live.length > onTime.length;
  if (paidOnTime >= inv.amount_due_minor && inv.amount_due_minor > 0n) {
    const over = amount_paid_minor > inv.amount_due_minor ? 'paid_over' : null;
    if (confirmedOnTime >= inv.amount_due_minor) return { status: 'settled', exception: over, amount_paid_minor };
    return { status: 'processing', exception: over, amount_paid_minor };
  }
  if (inv.now_ms >= inv.expires_at_ms) {
    return { status: 'expired', exception: late ? 'paid_late' : paidOnTime > 0n ? 'paid_partial' : null, amount_paid_minor };
  }
  return { status: 'new', exception: paidOnTime > 0n ? 'paid_partial' : null, amount_paid_minor };
}

/**
 * Which status changes the recomputation may make. `expired -> processing | settled` is allowed
 * on purpose: a payment mined before the expiry but seen after it (scanner behind, platform
 * down) is on time. `processing -> new` happens when a reorg drops the payment that completed it.
 * `settled` and `invalid` are final except through nothing: later payments only change the
 * exception and amount_paid.
 */
export function canMove(from: InvoiceStatus, to: InvoiceStatus): boolean {
  if (from === to) return true;
  switch (from) {
    case 'new':
      return to === 'processing' || to === 'settled' || to === 'expired' || to === 'invalid';
    case 'processing':
      return to === 'new' || to === 'settled' || to === 'expired' || to === 'invalid';
    case 'expired':
      return to === 'processing' || to === 'settled' || to === 'invalid';
    case 'settled':
    case 'invalid':
      return false;
    default:
      return assertNever(from, 'invoice status');
  }
}

/** What a merchant may mark: settled or invalid, from any status that is not already final. */
export function markRefusal(current: InvoiceStatus, exception: InvoiceException | null): 'already_final' | null {
  if (exception === 'marked') return 'already_final';
  switch (current) {
    case 'new':
    case 'processing':
    case 'expired':
      return null;
    case 'settled':
    case 'invalid':
      return 'already_final';
    default:
      return assertNever(current, 'invoice status');
  }
}

/** The outbox event type of an invoice change: 'invoice.settled'. */
export function invoiceEventType(status: InvoiceStatus): string {
  return `invoice.${status}`;
}

export type CreateRefusal = 'expires_in_too_short' | 'expires_in_too_long' | 'amount_not_positive' | 'order_id_too_long' | 'metadata_too_large';

/** Validation of a new invoice beyond the route schema (limits named in this file). */
export function createRefusal(input: { amount_minor: bigint; expires_in_s: number; order_id: string | null; metadata_json: string | null }): CreateRefusal | null {
  if (input.amount_minor <= 0n) return 'amount_not_positive';
  if (input.expires_in_s < EXPIRES_IN_S_MIN) return 'expires_in_too_short';
  if (input.expires_in_s > EXPIRES_IN_S_MAX) return 'expires_in_too_long';
  if (input.order_id !== null && input.order_id.length > ORDER_ID_LENGTH_MAX) return 'order_id_too_long';
  if (input.metadata_json !== null && Buffer.byteLength(input.metadata_json) > METADATA_BYTES_MAX) return 'metadata_too_large';
  return null;
}

/**
 * The EIP-681 payment request a wallet understands:
 * eip681Uri({ chain_id: 1, token: '0xdac1…', to: '0xabc…', amount_minor: 12500000n }) ->
 *   'ethereum:0xdac1…@1/transfer?address=0xabc…&uint256=12500000'
 * and for the native coin 'ethereum:0xabc…@1?value=1000000000000000000'.
 */
export function eip681Uri(q: { chain_id: number; token: string | null; to: string; amount_minor: bigint }): string {
  if (q.token) return `ethereum:${q.token}@${q.chain_id}/transfer?address=${q.to}&uint256=${q.amount_minor}`;
  return `ethereum:${q.to}@${q.chain_id}?value=${q.amount_minor}`;
}
