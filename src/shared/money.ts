// Money is bigint in the asset's smallest unit everywhere; decimal strings exist only at the
// API edge. These helpers convert between the two without ever going through a float.

const DECIMAL_RE = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

export type ParseAmountResult =
  | { ok: true; amount_minor: bigint }
  | { ok: false; reason: 'malformed' | 'too_many_decimals' | 'too_large' };

/** Largest amount we accept anywhere: an EVM uint256. */
export const AMOUNT_MAX_MINOR = (1n << 256n) - 1n;

/** parseAmount('12.5', 6) -> { ok: true, amount_minor: 12500000n } */
export function parseAmount(text: string, decimals: number): ParseAmountResult {
  if (typeof text !== 'string' || text.length > 100 || !DECIMAL_RE.test(text)) return { ok: false, reason: 'malformed' };
  const [whole = '0', fraction = ''] = text.split('.');
  const frac = fraction.replace(/0+$/, '');
  if (frac.length > decimals) return { ok: false, reason: 'too_many_decimals' };
  const amount = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  if (amount > AMOUNT_MAX_MINOR) return { ok: false, reason: 'too_large' };
  return { ok: true, amount_minor: amount };
}

/** formatAmount(12500000n, 6) -> '12.5' */
export function formatAmount(amount_minor: bigint, decimals: number): string {
  const negative = amount_minor < 0n;
  const abs = negative ? -amount_minor : amount_minor;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = (abs % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
