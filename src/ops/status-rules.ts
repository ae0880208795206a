// The status page as pure rules: each chain's deposits and withdrawals state from its figures,
// percentiles of confirmation times, and the history's buckets. No I/O.
export const CHAIN_STATES = ['operational', 'delayed', 'maintenance', 'halted'] as const;
export type ChainState = (typeof CHAIN_STATES)[number];

/** A chain this many blocks behind is delayed; this many, or no head seen for HEAD_STALE_MS, halted. */
export const LAG_BLOCKS_DELAYED = 50;
export const LAG_BLOCKS_HALTED = 1000;
export const HEAD_STALE_MS = 15 * 60_000;
/** A withdrawal waiting longer than this makes withdrawals delayed. */
export const WITHDRAWAL_WAIT_DELAYED_MS = 30 * 60_000;

/** What the status needs of one chain, measured now. */
export interface ChainFigures {
  chain_id: number;
  head: number | null;
  lag_blocks: number | null;
  /** When the scanner last saw the chain's head (null: never). */
  head_seen_at_ms: number | null;
  maintenance: boolean;
  deposits_confirming: number;
  withdrawals_queued: number;
  /** The oldest withdrawal still waiting (requested / review / broadcast / confirming), or null. */
  oldest_withdrawal_ms: number | null;
  /** Seconds from seen to credited, for deposits credited in the last hour. */
  confirm_durations_s: number[];
}

/** depositsState({ maintenance: false, lag_blocks: 70, … }, now) -> 'delayed' */
export function depositsState(f: ChainFigures, now_ms: number): ChainState {
  if (f.maintenance) return 'maintenance';
  if (f.head === null || f.head_seen_at_ms === null || now_ms - f.head_seen_at_ms > HEAD_STALE_MS || (f.lag_blocks ?? 0) >= LAG_BLOCKS_HALTED) return 'halted';
  if ((f.lag_blocks ?? 0) > LAG_BLOCKS_DELAYED) return 'delayed';
  return 'operational';
}

export function withdrawalsState(f: ChainFigures, now_ms: number): ChainState {
  if (f.maintenance) return 'maintenance';
  if (f.oldest_withdrawal_ms !== null && now_ms - f.oldest_withdrawal_ms > WITHDRAWAL_WAIT_DELAYED_MS) return 'delayed';
  return 'operational';
}

/** percentile([3, 1, 2], 50) -> 2 (nearest rank); null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function stateOrdinal(s: ChainState): number {
  return CHAIN_STATES.indexOf(s);
}

export function stateOf(ordinal: number): ChainState {
  return CHAIN_STATES[Math.min(CHAIN_STATES.length - 1, Math.max(0, Math.round(ordinal)))]!;
}

export const HISTORY_DAYS = [1, 2, 3, 4, 5, 6, 7, 30] as const;

/** The width of one point of the history: about 100 points whatever the span. historyBucketMs(1) -> 15 min */
export function historyBucketMs(days: number): number {
  if (days <= 1) return 15 * 60_000;
  if (days <= 7) return days * 15 * 60_000;
  return 6 * 3600_000;
}
