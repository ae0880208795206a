// Rate limits that hold across API processes (issue 15). Each process keeps its exact token
// bucket (rate-limit.ts) and, on PostgreSQL, also counts each caller's requests per fixed window
// in the shared table rate_limit_windows: the hot path only reads and bumps this process's
// memory; a flush every SYNC_EVERY_MS adds the counts of its admitted requests to the table in one
// statement and reads back each caller's total across all processes. A caller whose window total
// (known total + what this process admitted since) reaches the burst is refused until the
// window ends, whichever process it asks. A caller can exceed the shared allowance by at most
// what the other processes admit during one flush interval. A failed flush keeps the counts for
// the next one (the per-process bucket still holds meanwhile): the database being slow never
// slows or fails a request here.
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { ProblemError } from '../shared/errors.ts';

export const SYNC_EVERY_MS = 100;
const CALLERS_MAX = 100_000;
const PRUNE_EVERY_MS = 60_000;

interface Window {
  start_ms: number;
  /** The total across processes as of the last flush (this process's flushed counts included). */
  known: number;
  /** Admitted here since the last flush. */
  pending: number;
}

/** const shared = new SharedRateWindows(db, 50, 200); shared.take('u:1', now); shared.start(); … await shared.stop() */
export class SharedRateWindows {
  private readonly windows = new Map<string, Window>();
  private readonly window_ms: number;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private last_prune_ms = 0;

  constructor(private readonly db: Db, per_second: number, private readonly burst: number, private readonly now_ms: () => number = Date.now) {
    // The window in which the burst is the allowance: 200 requests at 50/s -> 4 s.
    this.window_ms = Math.max(1000, Math.ceil((burst / per_second) * 1000));
  }

  /** Counts one request of `caller` or throws 429 rate_limited when its window's total is spent. */
  take(caller: string, now_ms: number): void {
    const start_ms = now_ms - (now_ms % this.window_ms);
    let w = this.windows.get(caller);
    if (!w || w.start_ms !== start_ms) {
      if (!w && this.windows.size >= CALLERS_MAX) this.evict(start_ms);
      // A window that ended with counts not yet flushed is dropped: they no longer limit anyone.
      w = { start_ms, known: 0, pending: 0 };
      this.windows.set(caller, w);
    }
    if (w.known + w.pending >= this.burst) {
      const retry_s = Math.max(1, Math.ceil((start_ms + this.window_ms - now_ms) / 1000));
      throw new ProblemError(429, 'rate_limited', `Too many requests; try again in ${retry_s} s.`, { retry_after_s: retry_s }, { 'retry-after': String(retry_s) });
    }
    w.pending++;
  }

  start(): void {
    if (this.timer) return;
    const loop = () => {
      this.flushing = this.flush()
        .catch(() => undefined)
        .finally(() => {
          this.flushing = null;
          if (this.timer) this.timer = setTimeout(loop, SYNC_EVERY_MS).unref();
        });
    };
    this.timer = setTimeout(loop, SYNC_EVERY_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
  }

  /** Adds this process's counts to the shared table and learns every flushed caller's total. */
  async flush(): Promise<void> {
    const now = this.now_ms();
    const batch = [...this.windows.entries()].filter(([, w]) => w.pending > 0 && w.start_ms + this.window_ms > now).slice(0, 1000);
    if (batch.length) {
      const sent = batch.map(([caller, w]) => ({ caller, window_start_ms: w.start_ms, count: w.pending }));
      for (const [, w] of batch) w.pending = 0;
      try {
        const rows = await this.db.kysely
          .insertInto('rate_limit_windows')
          .values(sent)
          .onConflict((oc) => oc.columns(['caller', 'window_start_ms']).doUpdateSet({ count: sql<number>`rate_limit_windows.count + excluded.count` }))
          .returning(['caller', 'window_start_ms', 'count'])
          .execute();
        for (const r of rows) {
          const w = this.windows.get(r.caller);
          // The total includes what was just sent; what arrived during the flush stays pending.
          if (w && w.start_ms === Number(r.window_start_ms)) w.known = Math.max(w.known, Number(r.count));
        }
      } catch (error) {
        // Kept for the next flush: nothing admitted is forgotten because the database hiccuped.
        for (const s of sent) {
          const w = this.windows.get(s.caller);
          if (w && w.start_ms === s.window_start_ms) w.pending += s.count;
        }
        throw error;
      }
    }
    if (now - this.last_prune_ms >= PRUNE_EVERY_MS) {
      this.last_prune_ms = now;
      await this.db.kysely.deleteFrom('rate_limit_windows').where('window_start_ms', '<', now - 2 * this.window_ms).execute();
    }
  }

  private evict(current_start_ms: number): void {
    for (const [caller, w] of this.windows) if (w.start_ms !== current_start_ms) this.windows.delete(caller);
    if (this.windows.size >= CALLERS_MAX) this.windows.clear();
  }
}
