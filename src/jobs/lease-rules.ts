// Pure rules for singleton-loop leases (decision 0017): when a holder renews, when it must
// consider its lease gone without hearing from the database, and whether a record of ticks
// shows a loop running twice at once.

export interface LeaseTiming {
  /** How long an acquisition or renewal holds without another renewal. */
  lease_ms: number;
  /** How often the holder renews (and a non-holder tries to acquire): a third of lease_ms. */
  renew_every_ms: number;
}

/** leaseTiming(15_000) -> { lease_ms: 15000, renew_every_ms: 5000 } */
export function leaseTiming(lease_ms: number): LeaseTiming {
  if (!Number.isInteger(lease_ms) || lease_ms < 30) throw new Error(`lease_ms must be an integer of at least 30, got ${lease_ms}`);
  return { lease_ms, renew_every_ms: Math.max(10, Math.floor(lease_ms / 3)) };
}

/**
 * A holder that could not renew (database unreachable) stops its loop once its own view of the
 * lease has run out: by then another process may hold it. Fencing makes this a courtesy (the
 * stale holder's writes are refused anyway), but it stops the stale holder's outside calls.
 */
export function heldLocally(expires_at_ms: number, now_ms: number): boolean {
  return now_ms < expires_at_ms;
}

export interface Tick {
  name: string;
  holder: string;
  token: number;
  started_at_ms: number;
  ended_at_ms: number;
}

/**
 * Pairs of ticks of the same loop by different holders (or tokens) whose intervals overlap: proof
 * that the loop ran twice at once. Empty when the record is clean.
 * overlappingTicks([{ name: 'sweeper', holder: 'a', token: 1, started_at_ms: 0, ended_at_ms: 10 },
 *                   { name: 'sweeper', holder: 'b', token: 2, started_at_ms: 5, ended_at_ms: 12 }]) -> one pair
 */
export function overlappingTicks(ticks: readonly Tick[]): Array<[Tick, Tick]> {
  const byName = new Map<string, Tick[]>();
  for (const t of ticks) {
    const list = byName.get(t.name) ?? [];
    list.push(t);
    byName.set(t.name, list);
  }
  const out: Array<[Tick, Tick]> = [];
  for (const list of byName.values()) {
    const sorted = [...list].sort((a, b) => a.started_at_ms - b.started_at_ms || a.ended_at_ms - b.ended_at_ms);
    // Sweep in start order keeping the tick that reaches furthest: any later tick of another
    // holder that starts before that end overlaps it.
    let reach: Tick | null = null;
    for (const t of sorted) {
      if (reach && t.started_at_ms < reach.ended_at_ms && (t.holder !== reach.holder || t.token !== reach.token)) out.push([reach, t]);
      if (!reach || t.ended_at_ms > reach.ended_at_ms) reach = t;
    }
  }
  return out;
}
