// Goal: the risk review rules of a withdrawal, pure: which rules fire for which facts, the
// thresholds (configured or default), the code that explains the review, and what a staff
// decision may do. Method: plain inputs, no database.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { decideReview, NEW_ACCOUNT_MS, reviewCode, reviewRules, reviewThreshold, type ReviewFacts } from './withdrawal-rules.ts';

const NOW = 1_800_000_000_000;
const old: ReviewFacts = {
  now_ms: NOW,
  amount_minor: 100_000000n,
  threshold_minor: 10_000_000000n,
  account_created_at_ms: NOW - 30 * NEW_ACCOUNT_MS,
  credentials_changed_at_ms: null,
  address_used_before: false,
  new_account_ms: NEW_ACCOUNT_MS,
};

describe('withdrawal review rules', () => {
  it('lets a small withdrawal by an old account through', () => {
    expect(reviewRules(old)).toEqual([]);
  });

  it('reviews amounts at or above the threshold, not below', () => {
    expect(reviewRules({ ...old, amount_minor: 10_000_000000n })).toEqual(['large_amount']);
    expect(reviewRules({ ...old, amount_minor: 9_999_999999n })).toEqual([]);
    expect(reviewRules({ ...old, amount_minor: 10n ** 30n, threshold_minor: null })).toEqual([]);
  });

  it('reviews accounts younger than 24 h, unless the rule is off or the age unknown', () => {
    expect(reviewRules({ ...old, account_created_at_ms: NOW - NEW_ACCOUNT_MS + 1 })).toEqual(['new_account']);
    expect(reviewRules({ ...old, account_created_at_ms: NOW - NEW_ACCOUNT_MS })).toEqual([]);
    expect(reviewRules({ ...old, account_created_at_ms: NOW, new_account_ms: null })).toEqual([]);
    expect(reviewRules({ ...old, account_created_at_ms: null })).toEqual([]);
  });

  it('reviews a new address soon after a password or email change, not a known one', () => {
    const changed = { ...old, credentials_changed_at_ms: NOW - 3600_000 };
    expect(reviewRules(changed)).toEqual(['new_address_after_credential_change']);
    expect(reviewRules({ ...changed, address_used_before: true })).toEqual([]);
    expect(reviewRules({ ...changed, credentials_changed_at_ms: NOW - NEW_ACCOUNT_MS })).toEqual([]);
  });

  it('lists every rule that fires, the heaviest first', () => {
    const all = { ...old, amount_minor: 20_000_000000n, account_created_at_ms: NOW - 60_000, credentials_changed_at_ms: NOW - 30_000 };
    expect(reviewRules(all)).toEqual(['large_amount', 'new_account', 'new_address_after_credential_change']);
    expect(reviewCode(reviewRules(all)[0]!)).toBe('withdrawal_review_large_amount');
    expect(reviewCode('new_account')).toBe('withdrawal_review_new_account');
    expect(reviewCode('new_address_after_credential_change')).toBe('withdrawal_review_new_address');
  });

  it('takes the configured threshold, else the default for the symbol, else none', () => {
    expect(reviewThreshold('USDT', 6, undefined)).toBe(10_000_000000n);
    expect(reviewThreshold('ETH', 18, undefined)).toBe(5n * 10n ** 18n);
    expect(reviewThreshold('USDT', 6, '250.5')).toBe(250_500000n);
    expect(reviewThreshold('XYZ', 8, undefined)).toBeNull();
  });

  it('lets staff decide only on a withdrawal in review, never their own', () => {
    expect(decideReview('review', 'usr_a', 'usr_staff', 'approve')).toEqual({ ok: true, to: 'requested' });
    expect(decideReview('review', 'usr_a', 'usr_staff', 'reject')).toEqual({ ok: true, to: 'failed' });
    expect(decideReview('review', 'usr_a', 'usr_a', 'approve')).toEqual({ ok: false, status: 403, code: 'own_withdrawal' });
    for (const s of ['requested', 'broadcast', 'confirming', 'completed', 'failed', 'cancelled'] as const) {
      expect(decideReview(s, 'usr_a', 'usr_staff', 'reject')).toEqual({ ok: false, status: 409, code: 'review_closed' });
    }
  });
});

describe('review_above in the chains configuration', () => {
  const load = (tokenPatch: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-review-'));
    try {
      const chain = {
        chain_id: 31337, name: 'dev', rpc_url: 'http://127.0.0.1:8545',
        native: { symbol: 'ETH', decimals: 18 },
        tokens: [{ symbol: 'USDT', address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', decimals: 6, ...tokenPatch }],
      };
      writeFileSync(join(dir, 'settle.config.json'), JSON.stringify({ chains: [chain] }));
      return loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_CONFIG: join(dir, 'settle.config.json') }, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('is optional, parsed per asset in minor units, and refused with more decimals than the asset has', () => {
    const [eth, usdt] = chainAssets(load({ review_above: '2500.5' }).chains[0]!);
    expect([eth!.review_above_minor, usdt!.review_above_minor]).toEqual([null, 2_500_500000n]);
    expect(() => load({ review_above: '1.0000001' })).toThrow(ConfigError);
    expect(() => load({ review_above: '1.0000001' })).toThrow(/tokens\.0\.review_above/);
    expect(() => load({ review_above: 'lots' })).toThrow(/review_above/);
  });
});

