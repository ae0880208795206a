// Goal: ETAs come from measured block times and window ends. Method: call the rules on facts
// built by hand.
import { describe, expect, it } from 'vitest';
import { etaMs, observedBlockTimeMs, type EtaFacts } from './payment-eta-rules.ts';

describe('payment rules', () => {
  it('computes ETAs from measurement', () => {
    const base: EtaFacts = { now_ms: 1_000_000, status: 'confirming', hold: null, confirmations: { current: 2, required: 6 }, block_time_ms: 12_000, head_seen_at_ms: 995_000, maintenance_ends_at_ms: null, review_sla_ms: 3600_000 };
    // next block at 995 000 + 12 000 = 1 007 000, then 3 more.
    expect(etaMs(base)).toBe(1_007_000 + 3 * 12_000);
    expect(etaMs({ ...base, block_time_ms: null })).toBeNull();
    expect(etaMs({ ...base, hold: { reason: 'maintenance', since_ms: 0 }, maintenance_ends_at_ms: 5_000_000 })).toBe(5_000_000);
    expect(etaMs({ ...base, status: 'held', hold: { reason: 'risk_review', since_ms: 10 } })).toBe(10 + 3600_000);
    expect(etaMs({ ...base, status: 'credited' })).toBeNull();
    expect(observedBlockTimeMs([{ number: 10, seen_at_ms: 0 }, { number: 12, seen_at_ms: 2000 }])).toBe(1000);
    expect(observedBlockTimeMs([{ number: 10, seen_at_ms: 0 }])).toBeNull();
  });
});
