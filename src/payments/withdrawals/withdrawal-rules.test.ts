// Goal: the risk review rules of a withdrawal, pure: which rules fire for which facts, the
// thresholds (configured or default), the code that explains the review, and what a staff
// decision may do. Method: plain inputs, no database.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { dailyLimitRefusal, decideReview, NEW_ACCOUNT_MS, reviewCode, reviewRules, reviewThreshold, type ReviewFacts } from './withdrawal-rules.ts';
import { assetsFromChains, referenceCents } from '../payment-rules.ts';

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


describe('KYC daily withdrawal limit', () => {
  const assets = new Map([
    ['USDT', { decimals: 6, usd_price: '1' }],
    ['USDC', { decimals: 6, usd_price: '1' }],
    ['ETH', { decimals: 18, usd_price: '3000' }],
    ['MEME', { decimals: 18, usd_price: null }],
  ]);
  const level0 = { decimals: 2, daily_withdrawal_minor: 100_000n }; // 1,000 USD
  const usdt = (n: number) => BigInt(n) * 1_000_000n;

  it('counts every priced asset in US dollars, so splitting across assets does not multiply the limit', () => {
    expect(dailyLimitRefusal(assets, 'USDT', usdt(1000), [], level0)).toBeNull();
    expect(dailyLimitRefusal(assets, 'USDT', usdt(1000) + 1n, [], level0)).toEqual({ amount_cents: 100_001n, used_cents: 0n, limit_cents: 100_000n });
    const today = [{ asset: 'USDT', amount_minor: usdt(600) }, { asset: 'USDC', amount_minor: usdt(300) }];
    expect(dailyLimitRefusal(assets, 'USDC', usdt(100), today, level0)).toBeNull();
    expect(dailyLimitRefusal(assets, 'USDC', usdt(101), today, level0)).toMatchObject({ used_cents: 90_000n });
    // 0.04 ETH = 120 USD: over what is left (100 USD).
    expect(dailyLimitRefusal(assets, 'ETH', 4n * 10n ** 16n, today, level0)).toEqual({ amount_cents: 12_000n, used_cents: 90_000n, limit_cents: 100_000n });
    expect(dailyLimitRefusal(assets, 'USDT', usdt(1), [{ asset: 'ETH', amount_minor: 333n * 10n ** 15n }], level0)).toBeNull(); // 999 + 1 USD
    expect(dailyLimitRefusal(assets, 'USDT', usdt(2), [{ asset: 'ETH', amount_minor: 333n * 10n ** 15n }], level0)).toMatchObject({ used_cents: 99_900n });
  });

  it('leaves an asset without a price to the review rules, and counts it as nothing', () => {
    expect(dailyLimitRefusal(assets, 'MEME', 10n ** 30n, [], level0)).toBeNull();
    expect(dailyLimitRefusal(assets, 'USDT', usdt(1000), [{ asset: 'MEME', amount_minor: 10n ** 30n }], level0)).toBeNull();
    expect(dailyLimitRefusal(assets, 'DOGE', 1n, [], level0)).toBeNull();
  });

  it('rounds a dust amount up, never down to a free cent', () => {
    expect(dailyLimitRefusal(assets, 'ETH', 1n, [{ asset: 'USDT', amount_minor: usdt(1000) }], level0)).toEqual({ amount_cents: 1n, used_cents: 100_000n, limit_cents: 100_000n });
  });
});

describe('usd_price in the chains configuration', () => {
  const write = (chains: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-price-'));
    writeFileSync(join(dir, 'settle.config.json'), JSON.stringify({ chains }));
    return dir;
  };
  const chain = (native: Record<string, unknown>) => [{ chain_id: 1, name: 'main', rpc_url: 'http://127.0.0.1:1', native: { symbol: 'ETH', decimals: 18, ...native }, tokens: [{ symbol: 'USDT', decimals: 6, address: `0x${'11'.repeat(20)}` }] }];

  it('prices configured assets, stablecoins at 1, and refuses a malformed price', () => {
    const dir = write(chain({ usd_price: '2999.5' }));
    try {
      const config = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_CONFIG: join(dir, 'settle.config.json') }, dir);
      expect(assetsFromChains(config.chains).map((a) => [a.code, a.usd_price])).toEqual([['ETH', '2999.5'], ['USDT', '1']]);
      expect(referenceCents({ decimals: 18, usd_price: '2999.5' }, 10n ** 18n)).toBe(299_950n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = write(chain({ usd_price: '3,000' }));
    try {
      expect(() => loadConfig({ SETTLE_DATA_DIR: bad, SETTLE_CONFIG: join(bad, 'settle.config.json') }, bad)).toThrow(ConfigError);
      expect(() => loadConfig({ SETTLE_DATA_DIR: bad, SETTLE_CONFIG: join(bad, 'settle.config.json') }, bad)).toThrow(/usd_price/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
