// Pure rules of P2P orders: the status transition table with an exhaustive switch, who may do
// what and when (the windows at their edges), and whose move it is next. No I/O.
import { assertNever } from '../shared/assert.ts';

export const ORDER_STATUSES = ['pending_payment', 'paid', 'completed', 'cancelled', 'appeal', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const CANCEL_REASONS = ['buyer_cancelled', 'payment_window_elapsed'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  // A seller may release before the buyer marks paid (the fiat arrived first).
  pending_payment: ['paid', 'cancelled', 'completed'],
  // A buyer may still cancel after marking paid (it counts a strike); release and appeal end it otherwise.
  paid: ['completed', 'appeal', 'cancelled'],
  appeal: ['completed', 'refunded'],
  completed: [],
  cancelled: [],
  refunded: [],
};

/** canMove('paid', 'completed') -> true */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** A status nothing leaves. */
export function isFinal(status: OrderStatus): boolean {
  switch (status) {
    case 'completed':
    case 'cancelled':
    case 'refunded':
      return true;
    case 'pending_payment':
    case 'paid':
    case 'appeal':
      return false;
    default:
      return assertNever(status, 'order status');
  }
}

export type OrderAction = 'mark_paid' | 'cancel' | 'release' | 'auto_cancel' | 'appeal' | 'resolve_release' | 'resolve_refund';
export type Actor = 'buyer' | 'seller' | 'staff' | 'system';

export interface OrderFacts {
  status: OrderStatus;
  pay_by_ms: number;
  release_by_ms: number | null;
}

export type Decision =
  | { ok: true; to: OrderStatus; strike: boolean }
  /** Already where the action leads (a double click): answer with the order, change nothing. */
  | { ok: 'already' }
  | { ok: false; status: 403 | 409; code: string; detail: string };

const refuse = (code: string, detail: string, status: 403 | 409 = 409): Decision => ({ ok: false, status, code, detail });
const notYours = (): Decision => refuse('not_your_move', 'This step is for the other party of the order.', 403);

/**
 * Whether `actor` may take `action` on an order at `now_ms`, and where it leads.
 * decide({ status: 'pending_payment', pay_by_ms: 10, release_by_ms: null }, 'mark_paid', 'buyer', 9) -> { ok: true, to: 'paid', strike: false }
 */
export function decide(o: OrderFacts, action: OrderAction, actor: Actor, now_ms: number): Decision {
  switch (action) {
    case 'mark_paid':
      if (actor !== 'buyer') return notYours();
      if (o.status === 'paid') return { ok: 'already' };
      if (o.status !== 'pending_payment') return refuse('order_not_open', `The order is ${o.status}.`);
      if (now_ms >= o.pay_by_ms) return refuse('payment_window_elapsed', 'The payment window has ended; the order is being cancelled.');
      return { ok: true, to: 'paid', strike: false };
    case 'cancel':
      if (actor !== 'buyer') return notYours();
      if (o.status === 'cancelled') return { ok: 'already' };
      if (o.status === 'pending_payment') return { ok: true, to: 'cancelled', strike: false };
      if (o.status === 'paid') return { ok: true, to: 'cancelled', strike: true };
      return refuse('order_not_open', `The order is ${o.status}.`);
    case 'auto_cancel':
      if (actor !== 'system') return notYours();
      if (o.status !== 'pending_payment' || now_ms < o.pay_by_ms) return { ok: 'already' };
      return { ok: true, to: 'cancelled', strike: false };
    case 'release':
      if (actor !== 'seller') return notYours();
      if (o.status === 'completed') return { ok: 'already' };
      if (o.status !== 'paid' && o.status !== 'pending_payment') return refuse('order_not_open', `The order is ${o.status}.`);
      return { ok: true, to: 'completed', strike: false };
    case 'appeal':
      if (o.status === 'appeal') return { ok: 'already' };
      if (o.status !== 'paid') return refuse('appeal_not_open', 'An appeal opens once the buyer has marked the order paid.');
      if (actor === 'seller') return { ok: true, to: 'appeal', strike: false };
      if (actor !== 'buyer') return notYours();
      if (o.release_by_ms === null || now_ms < o.release_by_ms) return refuse('appeal_not_open', 'The buyer may appeal once the release window has ended.');
      return { ok: true, to: 'appeal', strike: false };
    case 'resolve_release':
    case 'resolve_refund':
      if (actor !== 'staff') return notYours();
      if (o.status !== 'appeal') return refuse('order_not_in_appeal', `The order is ${o.status}, not in appeal.`);
      return { ok: true, to: action === 'resolve_release' ? 'completed' : 'refunded', strike: false };
    default:
      return assertNever(action, 'order action');
  }
}

export type NextMove =
  | { whose: 'buyer'; what: 'pay'; until_ms: number }
  | { whose: 'seller'; what: 'release'; until_ms: number | null; appeal_from_ms: number | null }
  | { whose: 'staff'; what: 'resolve'; until_ms: null }
  | { whose: null; what: 'done'; until_ms: null };

/** Whose move it is and until when. */
export function nextMove(o: OrderFacts): NextMove {
  switch (o.status) {
    case 'pending_payment':
      return { whose: 'buyer', what: 'pay', until_ms: o.pay_by_ms };
    case 'paid':
      return { whose: 'seller', what: 'release', until_ms: o.release_by_ms, appeal_from_ms: o.release_by_ms };
    case 'appeal':
      return { whose: 'staff', what: 'resolve', until_ms: null };
    case 'completed':
    case 'cancelled':
    case 'refunded':
      return { whose: null, what: 'done', until_ms: null };
    default:
      return assertNever(o.status, 'order status');
  }
}

/** The outbox event of a status: 'trade.paid'. */
export function tradeEventType(status: OrderStatus): string {
  return `trade.${status}`;
}

/** Strikes in the window at which P2P buying stops, the window and how long it stops. */
export const STRIKES_MAX = 3;
export const STRIKE_WINDOW_MS = 30 * 86_400_000;
export const RESTRICTION_MS = 7 * 86_400_000;

/** Until when a buyer is restricted, from the times of their strikes (null: not restricted). */
export function restrictedUntil(strike_times_ms: readonly number[], now_ms: number): number | null {
  const sorted = [...strike_times_ms].sort((a, b) => a - b);
  // Any STRIKES_MAX strikes within one window restrict for RESTRICTION_MS from the last of them.
  for (let i = sorted.length - 1; i >= STRIKES_MAX - 1; i--) {
    const last = sorted[i]!;
    if (last - sorted[i - STRIKES_MAX + 1]! <= STRIKE_WINDOW_MS && last + RESTRICTION_MS > now_ms) return last + RESTRICTION_MS;
  }
  return null;
}
