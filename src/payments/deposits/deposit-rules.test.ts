// Goal: the pure deposit rules (tiers, confirmations, where coins go, ids, status moves, block-time
// samples) say what API.md says. Method: table checks plus fast-check properties.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addHeadSample, assetSpecs, canMove, chainAssets, confirmationsAt, creditDecision, depositTransferIds, orphanOutcome, requiredConfirmations, SCANNER_TRANSITIONS } from './deposit-rules.ts';
import { testChainConfig } from '../../../test/helpers/deposit-testkit.ts';

const chain = testChainConfig('http://127.0.0.1:8545', '0x00000000000000000000000000000000000000AA');

describe('deposit rules', () => {
  it('read the chain configuration into assets with minor-unit tiers', () => {
    const [eth, usdt] = chainAssets(chain);
    expect(eth).toMatchObject({ code: 'ETH', token: null, min_deposit_minor: 10n ** 15n });
    expect(usdt).toMatchObject({ code: 'USDT', token: '0x00000000000000000000000000000000000000aa', decimals: 6, min_deposit_minor: 1_000_000n });
    expect(assetSpecs([chain])).toEqual([
      { code: 'ETH', decimals: 18, chain_id: 31337, contract_address: null },
      { code: 'USDT', decimals: 6, chain_id: 31337, contract_address: '0x00000000000000000000000000000000000000aa' },
    ]);
  });

  it('pick the USDT tier by amount, bounds inclusive (3 ≤ 1,000; 6 ≤ 5,000; 12 above)', () => {
    const tiers = chainAssets(chain)[1]!.tiers;
    expect(requiredConfirmations(tiers, 1n)).toBe(3);
    expect(requiredConfirmations(tiers, 1000_000000n)).toBe(3);
    expect(requiredConfirmations(tiers, 1000_000001n)).toBe(6);
    expect(requiredConfirmations(tiers, 5000_000000n)).toBe(6);
    expect(requiredConfirmations(tiers, 5000_000001n)).toBe(12);
    expect(requiredConfirmations([{ max_amount_minor: 10n, blocks: 2 }], 11n)).toBe(2);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.bigInt({ min: 0n, max: 10n ** 20n }), (x, y) => {
      const [lo, hi] = x <= y ? [x, y] : [y, x];
      return requiredConfirmations(tiers, lo) <= requiredConfirmations(tiers, hi);
    }));
  });

  it('count the inclusion block as 1', () => {
    expect(confirmationsAt(105, 100)).toBe(6);
    expect(confirmationsAt(100, 100)).toBe(1);
    expect(confirmationsAt(99, 100)).toBe(0);
    expect(confirmationsAt(99, null)).toBe(0);
  });

  it('hold coins for frozen or closed accounts and below the minimum, never refuse them', () => {
    expect(creditDecision('credit', 5n, 1n)).toEqual({ credit_kind: 'user_available', hold: null });
    expect(creditDecision('hold', 5n, 1n)).toEqual({ credit_kind: 'user_held', hold: 'account_frozen' });
    expect(creditDecision('refuse', 5n, 1n)).toEqual({ credit_kind: 'user_held', hold: 'account_restricted' });
    expect(creditDecision('credit', 0n, 1n)).toEqual({ credit_kind: 'user_held', hold: 'below_minimum' });
  });

  it('derive ledger transfer ids from chain, tx hash, log index and generation', () => {
    const a = depositTransferIds(31337, '0xABC', 2, 0);
    expect(a).toEqual(depositTransferIds(31337, '0xabc', 2, 0));
    expect(a.pending).not.toBe(depositTransferIds(31337, '0xabc', 3, 0).pending);
    expect(a.pending).not.toBe(depositTransferIds(1, '0xabc', 2, 0).pending);
    expect(a.pending).not.toBe(depositTransferIds(31337, '0xabc', 2, 1).pending);
  });

  it('move statuses only along the table; orphans are voided before release, reversed after', () => {
    expect(canMove('confirming', 'credited')).toBe(true);
    expect(canMove('credited', 'confirming')).toBe(false);
    expect(SCANNER_TRANSITIONS.reversed).toEqual([]);
    expect(orphanOutcome('confirming')).toBe('void');
    expect(orphanOutcome('credited')).toBe('reverse');
    expect(orphanOutcome('held')).toBe('reverse');
    expect(orphanOutcome('dropped')).toBe('none');
  });

  it('keep the first sighting of each head, restarting after a lower one', () => {
    const s: Array<{ number: number; seen_at_ms: number }> = [];
    addHeadSample(s, { number: 10, seen_at_ms: 0 });
    addHeadSample(s, { number: 10, seen_at_ms: 500 });
    addHeadSample(s, { number: 12, seen_at_ms: 2000 });
    expect(s).toEqual([{ number: 10, seen_at_ms: 0 }, { number: 12, seen_at_ms: 2000 }]);
    addHeadSample(s, { number: 11, seen_at_ms: 3000 });
    expect(s).toEqual([{ number: 11, seen_at_ms: 3000 }]);
    for (let i = 0; i < 100; i++) addHeadSample(s, { number: 20 + i, seen_at_ms: 4000 + i });
    expect(s.length).toBeLessThanOrEqual(32);
  });
});
