// Internal transfers as pure rules: the fee, the KYC limits in their reference unit, and the
// order in which refusals are decided.

/** Fee on an internal transfer, in basis points of the amount (rounded down): 0.1 %. */
export const TRANSFER_FEE_BPS = 10n;

/** transferFeeMinor(1_000_000n) -> 1_000n */
export function transferFeeMinor(amount_minor: bigint): bigint {
  return (amount_minor * TRANSFER_FEE_BPS) / 10_000n;
}

/**
 * Stablecoins count 1:1 against the KYC limits' reference unit (US dollar cents). Other assets
 * have no price here yet, so their transfers are not limited by the KYC amounts (see
 * docs/decisions/transfers-recipient-enumeration.md).
 */
export const USD_STABLECOINS = ['USDT', 'USDC', 'DAI', 'PYUSD', 'FDUSD', 'TUSD', 'USDP'] as const;

/** toReferenceCents('USDT', 12_345_678n, 6) -> 1234n (floor); null when the asset has no price. */
export function toReferenceCents(asset: string, amount_minor: bigint, decimals: number): bigint | null {
  if (!(USD_STABLECOINS as readonly string[]).includes(asset)) return null;
  return decimals >= 2 ? amount_minor / 10n ** BigInt(decimals - 2) : amount_minor * 10n ** BigInt(2 - decimals);
}

export type LimitRefusal = { limit: 'single_transfer' | 'daily'; limit_cents: bigint; used_cents: bigint };

/** checkLimits(...) -> null when allowed, else which limit is hit. */
export function checkLimits(amount_cents: bigint | null, sent_today_cents: bigint, limits: { single_transfer_minor: bigint; daily_minor: bigint }): LimitRefusal | null {
  if (amount_cents === null) return null;
  if (amount_cents > limits.single_transfer_minor) return { limit: 'single_transfer', limit_cents: limits.single_transfer_minor, used_cents: 0n };
  if (sent_today_cents + amount_cents > limits.daily_minor) return { limit: 'daily', limit_cents: limits.daily_minor, used_cents: sent_today_cents };
  return null;
}
