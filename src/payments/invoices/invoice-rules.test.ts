// Goal: the invoice status rules of API.md hold for every mix of payments — short, exact, over,
// late (judged by block time, not by when the platform saw it), dropped by a reorg, marked — and
// the result does not depend on the order of the payments.
// Method: table cases on the pure functions, then a fast-check property (order independence,
// amount_paid = sum of live payments).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canMove, createRefusal, eip681Uri, invoiceState, markRefusal, type InvoicePaymentFact } from './invoice-rules.ts';

const EXP = 1_000_000;
const p = (amount: number, block_time_ms: number | null, status = 'credited', first_seen_at_ms = block_time_ms ?? 0): InvoicePaymentFact => ({ amount_minor: BigInt(amount), status, block_time_ms, first_seen_at_ms });
const at = (now_ms: number, payments: InvoicePaymentFact[], marked: 'settled' | 'invalid' | null = null) => invoiceState({ amount_due_minor: 100n, expires_at_ms: EXP, now_ms, marked }, payments);

describe('invoice rules', () => {
  it('new, paid_partial while short, processing until at depth, settled, paid_over', () => {
    expect(at(0, [])).toEqual({ status: 'new', exception: null, amount_paid_minor: 0n });
    expect(at(0, [p(40, 10)])).toEqual({ status: 'new', exception: 'paid_partial', amount_paid_minor: 40n });
    expect(at(0, [p(40, 10), p(60, 20, 'confirming')])).toEqual({ status: 'processing', exception: null, amount_paid_minor: 100n });
    expect(at(0, [p(40, 10), p(60, 20)])).toEqual({ status: 'settled', exception: null, amount_paid_minor: 100n });
    expect(at(0, [p(150, 10)])).toEqual({ status: 'settled', exception: 'paid_over', amount_paid_minor: 150n });
    // Held on the merchant's account (frozen merchant) is still received at depth.
    expect(at(0, [p(100, 10, 'held')]).status).toBe('settled');
  });

  it('expired (paid_partial if short, paid_late if something came after), lateness by block time', () => {
    expect(at(EXP, [])).toEqual({ status: 'expired', exception: null, amount_paid_minor: 0n });
    expect(at(EXP, [p(40, 10)]).exception).toBe('paid_partial');
    expect(at(EXP + 5, [p(100, EXP + 1)])).toEqual({ status: 'expired', exception: 'paid_late', amount_paid_minor: 100n });
    expect(at(EXP + 5, [p(40, 10), p(60, EXP + 1)]).exception).toBe('paid_late');
    // Mined before expiry, seen by the platform an hour later: on time.
    expect(at(EXP + 3600_000, [p(100, EXP - 1, 'credited', EXP + 3600_000)]).status).toBe('settled');
    // A transaction not in a block right now is judged by when it was first seen.
    expect(at(EXP + 10, [p(100, null, 'confirming', EXP + 1)]).exception).toBe('paid_late');
  });

  it('dropped and reversed payments count for nothing; marked keeps the merchant decision', () => {
    expect(at(0, [p(100, 10, 'dropped')])).toEqual({ status: 'new', exception: null, amount_paid_minor: 0n });
    expect(at(0, [p(100, 10, 'reversed'), p(30, 10)]).amount_paid_minor).toBe(30n);
    expect(at(EXP * 2, [p(10, 10)], 'settled')).toEqual({ status: 'settled', exception: 'marked', amount_paid_minor: 10n });
  });

  it('moves: final statuses stay; expired may become processing/settled (payment mined in time, seen late)', () => {
    expect(canMove('settled', 'new')).toBe(false);
    expect(canMove('invalid', 'settled')).toBe(false);
    expect(canMove('expired', 'settled')).toBe(true);
    expect(canMove('processing', 'new')).toBe(true);
    expect(markRefusal('expired', 'paid_late')).toBeNull();
    expect(markRefusal('settled', null)).toBe('already_final');
    expect(markRefusal('new', 'marked')).toBe('already_final');
  });

  it('validates creation limits and builds EIP-681 URIs', () => {
    expect(createRefusal({ amount_minor: 0n, expires_in_s: 900, order_id: null, metadata_json: null })).toBe('amount_not_positive');
    expect(createRefusal({ amount_minor: 1n, expires_in_s: 9, order_id: null, metadata_json: null })).toBe('expires_in_too_short');
    expect(createRefusal({ amount_minor: 1n, expires_in_s: 10, order_id: 'x'.repeat(129), metadata_json: null })).toBe('order_id_too_long');
    expect(createRefusal({ amount_minor: 1n, expires_in_s: 10, order_id: null, metadata_json: 'x'.repeat(5000) })).toBe('metadata_too_large');
    expect(eip681Uri({ chain_id: 1, token: '0xt', to: '0xa', amount_minor: 5n })).toBe('ethereum:0xt@1/transfer?address=0xa&uint256=5');
    expect(eip681Uri({ chain_id: 1, token: null, to: '0xa', amount_minor: 5n })).toBe('ethereum:0xa@1?value=5');
  });

  it('property: the state does not depend on the order of payments; amount_paid sums live payments', () => {
    const fact = fc.record({
      amount: fc.integer({ min: 1, max: 200 }),
      block: fc.option(fc.integer({ min: 0, max: 2 * EXP }), { nil: null }),
      status: fc.constantFrom('confirming', 'credited', 'held', 'dropped', 'reversed'),
    });
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 8 }), fc.integer({ min: 0, max: 2 * EXP }), (facts, now) => {
        const list = facts.map((f) => p(f.amount, f.block, f.status, f.block ?? now));
        const a = at(now, list);
        const b = at(now, [...list].reverse());
        expect(b).toEqual(a);
        const live = facts.filter((f) => f.status !== 'dropped' && f.status !== 'reversed').reduce((s, f) => s + f.amount, 0);
        expect(a.amount_paid_minor).toBe(BigInt(live));
        if (a.status === 'settled' || a.status === 'processing') expect(a.amount_paid_minor >= 100n).toBe(true);
      }),
    );
  });
});
