// When a payment should move next, as pure rules: the ETA shown to its owner (recomputed from
// now, from measured block times, window ends and review service levels) and the duration its
// current state is expected to last in all (which payment-stuck.ts compares with how long it has
// lasted). Both read a hold through holdEndsAtMs, the one switch over hold reasons, so a new
// hold reason is decided once for both.
import { assertNever } from '../shared/assert.ts';
import type { Hold, HoldReason, PaymentStatus } from './payment-rules.ts';

/** What the ETA rules need to know, measured elsewhere (scanner, maintenance, risk). */
export interface EtaFacts {
  now_ms: number;
  status: PaymentStatus;
  hold: Hold | null;
  confirmations: { current: number; required: number } | null;
  /** Observed mean time between blocks on the payment's chain, null until measured. */
  block_time_ms: number | null;
  /** When the newest block was seen (the next one is due block_time_ms after it). */
  head_seen_at_ms: number | null;
  /** End of the maintenance window blocking this payment, if one does. */
  maintenance_ends_at_ms: number | null;
  /** Service level for a staff review. */
  review_sla_ms: number;
}

/**
 * When a hold that began at since_ms should end: at the maintenance window's end, one review
 * service level after it began for holds that staff review, or null where nobody can say (the
 * account's owner or staff must act first).
 * holdEndsAtMs('risk_review', { review_sla_ms: 3_600_000, … }, 10) -> 3 600 010
 */
function holdEndsAtMs(reason: HoldReason, f: EtaFacts, since_ms: number): number | null {
  switch (reason) {
    case 'maintenance':
      return f.maintenance_ends_at_ms;
    case 'risk_review':
    case 'amount_mismatch':
    case 'unattributed':
      return since_ms + f.review_sla_ms;
    case 'account_frozen':
    case 'account_restricted':
    case 'below_minimum':
    case 'kyc_limit':
      return null;
    default:
      return assertNever(reason, 'hold reason');
  }
}

/**
 * What a payment that is not held waits for in its status: blocks (on chain), the queue (a
 * worker picks it up), staff (a review, or a withdrawal whose fate is unknown: staff look into
 * it, and it is stuck past their service level), or nothing (terminal, or held without a hold
 * reason). The one switch over statuses both ETA functions read.
 */
function waitOf(status: PaymentStatus): 'blocks' | 'queue' | 'staff' | 'nothing' {
  switch (status) {
    case 'pending':
    case 'confirming':
    case 'broadcast':
      return 'blocks';
    case 'requested':
      return 'queue';
    case 'review':
    case 'unknown':
      return 'staff';
    case 'held':
    case 'credited':
    case 'dropped':
    case 'reversed':
    case 'refunded':
    case 'completed':
    case 'failed':
    case 'cancelled':
      return 'nothing';
    default:
      return assertNever(status, 'payment status');
  }
}

/**
 * When the payment should move next, epoch ms, or null when nobody can say (terminal, waiting
 * on a person, or no block time observed yet).
 * etaMs({status: 'confirming', confirmations: {current: 2, required: 6}, block_time_ms: 12000, …}) -> now + 48 s
 */
export function etaMs(f: EtaFacts): number | null {
  if (f.hold) return holdEndsAtMs(f.hold.reason, f, f.hold.since_ms);
  switch (waitOf(f.status)) {
    case 'blocks':
      return blocksEta(f, f.confirmations ? Math.max(0, f.confirmations.required - f.confirmations.current) : 1);
    case 'queue':
      return f.now_ms;
    case 'staff':
    case 'nothing':
      return null;
  }
}

function blocksEta(f: EtaFacts, blocks_left: number): number | null {
  if (f.block_time_ms === null) return null;
  // The next block is due one block time after the newest was seen; the rest follow at the same pace.
  const base = f.head_seen_at_ms !== null ? Math.max(f.now_ms, f.head_seen_at_ms) : f.now_ms;
  if (blocks_left === 0) return base;
  const next = f.head_seen_at_ms !== null ? Math.max(f.now_ms, f.head_seen_at_ms + f.block_time_ms) : f.now_ms + f.block_time_ms;
  return next + (blocks_left - 1) * f.block_time_ms;
}

/**
 * Block time from when blocks were seen (dev chains stamp several blocks in one second):
 * observedBlockTimeMs([{number: 10, seen_at_ms: 0}, {number: 12, seen_at_ms: 2000}]) -> 1000
 */
export function observedBlockTimeMs(samples: ReadonlyArray<{ number: number; seen_at_ms: number }>): number | null {
  if (samples.length < 2) return null;
  const sorted = [...samples].sort((a, b) => a.number - b.number);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const blocks = last.number - first.number;
  if (blocks <= 0 || last.seen_at_ms <= first.seen_at_ms) return null;
  return Math.round((last.seen_at_ms - first.seen_at_ms) / blocks);
}

/** A payment is stuck once it stays in a state this many times longer than expected. */
export const STUCK_FACTOR = 3;
/** Never call a state stuck before this long (ETAs of seconds would be noisy). */
export const STUCK_FLOOR_MS = 10 * 60_000;

/**
 * How long the current state is expected to last in all, measured from its start (unlike the
 * ETA, which is recomputed from now and so keeps moving while a chain stalls), or null when
 * nobody can say (waiting on a person, terminal, no block time measured).
 * expectedDurationMs({ status: 'confirming', confirmations: { current: 1, required: 6 }, block_time_ms: 12000, … }) -> 72 000
 */
export function expectedDurationMs(f: EtaFacts & { state_since_ms: number }): number | null {
  if (f.hold) {
    // Measured from the state's start: a window's remaining time (never negative), a review's
    // whole service level.
    const ends_at_ms = holdEndsAtMs(f.hold.reason, f, f.state_since_ms);
    return ends_at_ms === null ? null : Math.max(0, ends_at_ms - f.state_since_ms);
  }
  switch (waitOf(f.status)) {
    case 'blocks':
      return f.block_time_ms === null ? null : Math.max(1, f.confirmations?.required ?? 1) * f.block_time_ms;
    case 'queue':
      return 60_000;
    case 'staff':
      return f.review_sla_ms;
    case 'nothing':
      return null;
  }
}

/** stuckAfterMs(72_000) -> 600 000 (the floor); stuckAfterMs(3_600_000) -> 10 800 000 */
export function stuckAfterMs(expected_ms: number | null): number | null {
  return expected_ms === null ? null : Math.max(STUCK_FLOOR_MS, expected_ms * STUCK_FACTOR);
}
