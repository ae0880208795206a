// Pure rules of P2P ads: prices as exact decimals (never floats), their sort key, the fiat amount
// of an order, the checks of a new ad and of an order's amount against an ad. No I/O.
import { assertNever } from '../shared/assert.ts';

export const AD_SIDES = ['sell', 'buy'] as const;
export type AdSide = (typeof AD_SIDES)[number];
export const AD_STATUSES = ['active', 'paused', 'closed'] as const;
export type AdStatus = (typeof AD_STATUSES)[number];

/** Prices carry at most 8 decimals and 20 integer digits. */
export const PRICE_DECIMALS = 8;
const PRICE_RE = /^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$/;
/** Fiat amounts have 2 decimals (cents, fen). */
export const FIAT_DECIMALS = 2;

/** parsePrice('7.25') -> 725000000n (price × 10^8), or null when malformed or zero. */
export function parsePrice(text: string): bigint | null {
  if (!PRICE_RE.test(text)) return null;
  const [whole = '0', frac = ''] = text.split('.');
  const scaled = BigInt(whole) * 10n ** BigInt(PRICE_DECIMALS) + BigInt(frac.padEnd(PRICE_DECIMALS, '0'));
  return scaled > 0n ? scaled : null;
}

/** The text that sorts like the price on both dialects: priceKey(725000000n) -> '0000000000000000000725000000'. */
export function priceKey(price_e8: bigint): string {
  return price_e8.toString().padStart(28, '0');
}

/**
 * The fiat an order costs: amount × price, in fiat cents rounded half up, as a decimal string.
 * fiatAmount(1_500_000n, 6, 725000000n) -> '10.88' (1.5 USDT at 7.25)
 */
export function fiatAmount(amount_minor: bigint, decimals: number, price_e8: bigint): string {
  const den = 10n ** BigInt(decimals + PRICE_DECIMALS);
  const cents = (amount_minor * price_e8 * 100n * 2n + den) / (den * 2n);
  const whole = cents / 100n;
  return `${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** Whether a listing sorts best first ascending (sell: lowest price) or descending (buy: highest). */
export function bestFirstAscending(side: AdSide): boolean {
  switch (side) {
    case 'sell':
      return true;
    case 'buy':
      return false;
    default:
      return assertNever(side, 'ad side');
  }
}

export type AdCheck = { ok: true } | { ok: false; code: 'invalid_limits' | 'invalid_amount'; detail: string };

/** A new ad's amounts: 0 < min ≤ max, and something to trade. */
export function checkNewAd(a: { min_minor: bigint; max_minor: bigint; available_minor: bigint }): AdCheck {
  if (a.available_minor <= 0n) return { ok: false, code: 'invalid_amount', detail: 'The ad needs an amount above zero.' };
  if (a.min_minor <= 0n || a.max_minor < a.min_minor) return { ok: false, code: 'invalid_limits', detail: 'Limits per order need 0 < min_amount ≤ max_amount.' };
  return { ok: true };
}

export type OrderAmountCheck =
  | { ok: true }
  | { ok: false; status: 409 | 422; code: 'amount_out_of_limits' | 'ad_insufficient_amount'; detail: string };

/**
 * An order's amount against the ad: within its per-order limits (422), and no more than is left
 * (409: another order took it first). The last remainder below min_amount may still be bought whole.
 */
export function checkOrderAmount(amount_minor: bigint, ad: { min_minor: bigint; max_minor: bigint; available_minor: bigint }): OrderAmountCheck {
  const lastRemainder = amount_minor === ad.available_minor && amount_minor < ad.min_minor;
  if (amount_minor <= 0n || amount_minor > ad.max_minor || (amount_minor < ad.min_minor && !lastRemainder)) {
    return { ok: false, status: 422, code: 'amount_out_of_limits', detail: 'The amount is outside this ad’s limits per order.' };
  }
  if (amount_minor > ad.available_minor) return { ok: false, status: 409, code: 'ad_insufficient_amount', detail: 'The ad does not have that much left.' };
  return { ok: true };
}

/** Which status changes an owner may ask for: active <-> paused, and either -> closed (final). */
export function canSetAdStatus(from: AdStatus, to: AdStatus): boolean {
  switch (from) {
    case 'active':
      return to === 'paused' || to === 'closed' || to === 'active';
    case 'paused':
      return to === 'active' || to === 'closed' || to === 'paused';
    case 'closed':
      return to === 'closed';
    default:
      return assertNever(from, 'ad status');
  }
}
