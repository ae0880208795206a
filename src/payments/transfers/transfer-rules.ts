// Internal transfers as pure rules: the fee, the KYC limits in their reference unit (US dollar
// cents, through payment-rules.ts referenceCents), and the order in which refusals are decided.

/** Fee on an internal transfer, in basis points of the amount (rounded down): 0.1 %. */
export const TRANSFER_FEE_BPS = 10n;

/** transferFeeMinor(1_000_000n) -> 1_000n */
export function transferFeeMinor(amount_minor: bigint): bigint {
  return (amount_minor * TRANSFER_FEE_BPS) / 10_000n;
}

export type LimitRefusal = { limit: 'single_transfer' | 'daily'; limit_cents: bigint; used_cents: bigint };

/** checkLimits(...) -> null when allowed, else which limit is hit. */
export function checkLimits(amount_cents: bigint | null, sent_today_cents: bigint, limits: { single_transfer_minor: bigint; daily_minor: bigint }): LimitRefusal | null {
  if (amount_cents === null) return null;
  if (amount_cents > limits.single_transfer_minor) return { limit: 'single_transfer', limit_cents: limits.single_transfer_minor, used_cents: 0n };
  if (sent_today_cents + amount_cents > limits.daily_minor) return { limit: 'daily', limit_cents: limits.daily_minor, used_cents: sent_today_cents };
  return null;
}
