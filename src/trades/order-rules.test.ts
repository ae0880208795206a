// Goal: the order state machine decides every action from every status exactly as API.md says,
// windows at their edges (one millisecond either side), and the ad rules compute prices and fiat
// amounts exactly (no floats). Method: exhaustive tables over the pure functions.
import { describe, expect, it } from 'vitest';
import { checkOrderAmount, fiatAmount, parsePrice, priceKey } from './ad-rules.ts';
import { canMove, decide, isFinal, nextMove, ORDER_STATUSES, restrictedUntil, RESTRICTION_MS, type Actor, type OrderAction, type OrderStatus } from './order-rules.ts';

const PAY_BY = 1_000_000;
const RELEASE_BY = 2_000_000;
const ACTIONS: OrderAction[] = ['mark_paid', 'cancel', 'release', 'auto_cancel', 'appeal', 'resolve_release', 'resolve_refund'];
const ACTORS: Actor[] = ['buyer', 'seller', 'staff', 'system'];

describe('order rules', () => {
  it('leads only along the transition table, from every status, by every actor', () => {
    for (const status of ORDER_STATUSES) {
      for (const action of ACTIONS) {
        for (const actor of ACTORS) {
          const d = decide({ status, pay_by_ms: PAY_BY, release_by_ms: status === 'pending_payment' ? null : RELEASE_BY }, action, actor, RELEASE_BY + 1);
          if (d.ok === true) expect(canMove(status, d.to), `${status} -${action}/${actor}-> ${d.to}`).toBe(true);
          if (isFinal(status)) expect(d.ok === true).toBe(false);
        }
      }
    }
  });

  it('takes each action from its own party only', () => {
    const open = { status: 'pending_payment' as OrderStatus, pay_by_ms: PAY_BY, release_by_ms: null };
    expect(decide(open, 'mark_paid', 'seller', 0)).toMatchObject({ ok: false, code: 'not_your_move' });
    expect(decide(open, 'cancel', 'seller', 0)).toMatchObject({ ok: false, code: 'not_your_move' });
    expect(decide({ ...open, status: 'paid' }, 'release', 'buyer', 0)).toMatchObject({ ok: false, code: 'not_your_move' });
    expect(decide({ ...open, status: 'appeal' }, 'resolve_release', 'seller', 0)).toMatchObject({ ok: false });
  });

  it('holds the payment window to the millisecond', () => {
    const o = { status: 'pending_payment' as OrderStatus, pay_by_ms: PAY_BY, release_by_ms: null };
    expect(decide(o, 'mark_paid', 'buyer', PAY_BY - 1)).toEqual({ ok: true, to: 'paid', strike: false });
    expect(decide(o, 'mark_paid', 'buyer', PAY_BY)).toMatchObject({ ok: false, code: 'payment_window_elapsed' });
    expect(decide(o, 'auto_cancel', 'system', PAY_BY - 1)).toEqual({ ok: 'already' });
    expect(decide(o, 'auto_cancel', 'system', PAY_BY)).toEqual({ ok: true, to: 'cancelled', strike: false });
    expect(decide({ ...o, status: 'paid', release_by_ms: RELEASE_BY }, 'auto_cancel', 'system', PAY_BY + 5)).toEqual({ ok: 'already' });
  });

  it('opens the buyer’s appeal at release_by, the seller’s at once, and strikes a cancel after paying', () => {
    const paid = { status: 'paid' as OrderStatus, pay_by_ms: PAY_BY, release_by_ms: RELEASE_BY };
    expect(decide(paid, 'appeal', 'buyer', RELEASE_BY - 1)).toMatchObject({ ok: false, code: 'appeal_not_open' });
    expect(decide(paid, 'appeal', 'buyer', RELEASE_BY)).toEqual({ ok: true, to: 'appeal', strike: false });
    expect(decide(paid, 'appeal', 'seller', PAY_BY)).toEqual({ ok: true, to: 'appeal', strike: false });
    expect(decide(paid, 'cancel', 'buyer', PAY_BY)).toEqual({ ok: true, to: 'cancelled', strike: true });
    expect(decide({ ...paid, status: 'completed' }, 'release', 'seller', 0)).toEqual({ ok: 'already' });
    expect(decide({ ...paid, status: 'appeal' }, 'resolve_refund', 'staff', 0)).toEqual({ ok: true, to: 'refunded', strike: false });
  });

  it('says whose move it is', () => {
    expect(nextMove({ status: 'pending_payment', pay_by_ms: PAY_BY, release_by_ms: null })).toEqual({ whose: 'buyer', what: 'pay', until_ms: PAY_BY });
    expect(nextMove({ status: 'paid', pay_by_ms: PAY_BY, release_by_ms: RELEASE_BY })).toMatchObject({ whose: 'seller', until_ms: RELEASE_BY });
    expect(nextMove({ status: 'appeal', pay_by_ms: PAY_BY, release_by_ms: RELEASE_BY }).whose).toBe('staff');
    expect(nextMove({ status: 'refunded', pay_by_ms: PAY_BY, release_by_ms: RELEASE_BY }).whose).toBeNull();
  });

  it('restricts after 3 strikes within 30 days, for 7 days from the third', () => {
    const day = 86_400_000;
    expect(restrictedUntil([0, day], 2 * day)).toBeNull();
    expect(restrictedUntil([0, day, 2 * day], 2 * day)).toBe(2 * day + RESTRICTION_MS);
    expect(restrictedUntil([0, day, 2 * day], 2 * day + RESTRICTION_MS)).toBeNull();
    expect(restrictedUntil([0, 20 * day, 31 * day], 31 * day)).toBeNull();
  });
});

describe('ad rules', () => {
  it('parses prices exactly and sorts them as text', () => {
    expect(parsePrice('7.25')).toBe(725_000_000n);
    expect(parsePrice('0')).toBeNull();
    expect(parsePrice('1.123456789')).toBeNull();
    expect(parsePrice('1e3')).toBeNull();
    expect(priceKey(parsePrice('10')!) > priceKey(parsePrice('9.99999999')!)).toBe(true);
  });

  it('computes the fiat amount in cents, half up, with no float', () => {
    expect(fiatAmount(1_500_000n, 6, parsePrice('7.25')!)).toBe('10.88');
    expect(fiatAmount(10n ** 18n / 3n, 18, parsePrice('3000')!)).toBe('1000.00');
    expect(fiatAmount(123_456_789_012_345_678_901n, 6, parsePrice('0.00000001')!)).toBe('1234567.89');
  });

  it('checks an order against the ad’s limits and remainder', () => {
    const ad = { min_minor: 10n, max_minor: 100n, available_minor: 50n };
    expect(checkOrderAmount(50n, ad)).toEqual({ ok: true });
    expect(checkOrderAmount(51n, ad)).toMatchObject({ status: 409, code: 'ad_insufficient_amount' });
    expect(checkOrderAmount(101n, ad)).toMatchObject({ status: 422 });
    expect(checkOrderAmount(9n, ad)).toMatchObject({ status: 422 });
    expect(checkOrderAmount(5n, { ...ad, available_minor: 5n })).toEqual({ ok: true });
  });
});
