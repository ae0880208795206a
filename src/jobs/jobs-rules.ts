// Pure rules for durable jobs: when a failed attempt runs again.

/** backoffMs(3) -> about 8 s: 1 s × 2^(attempt-1), ±20 % jitter, capped. */
export function backoffMs(attempt: number, cap_ms: number, random: () => number = Math.random): number {
  const base = Math.min(cap_ms, 1000 * 2 ** Math.min(attempt - 1, 40));
  const jitter = base * 0.2 * (random() * 2 - 1);
  return Math.max(0, Math.min(cap_ms, Math.round(base + jitter)));
}
