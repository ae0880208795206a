// Per-caller rate limiting for the API (token bucket: default 50 requests/s, burst 200).
// The caller is the authenticated user when there is one, else the client IP. Buckets live in
// this process's memory with a bounded map; with several API processes each enforces its share.
import { ProblemError } from '../shared/errors.ts';

interface Bucket {
  tokens: number;
  updated_ms: number;
}

const BUCKETS_MAX = 100_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly per_second: number, private readonly burst: number) {}

  /** Takes one token for `caller` or throws 429 rate_limited with Retry-After. */
  take(caller: string, now_ms: number): void {
    let b = this.buckets.get(caller);
    if (!b) {
      if (this.buckets.size >= BUCKETS_MAX) this.evict(now_ms);
      b = { tokens: this.burst, updated_ms: now_ms };
      this.buckets.set(caller, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now_ms - b.updated_ms) / 1000) * this.per_second);
    b.updated_ms = now_ms;
    if (b.tokens < 1) {
      const retry_s = Math.max(1, Math.ceil((1 - b.tokens) / this.per_second));
      throw new ProblemError(429, 'rate_limited', `Too many requests; try again in ${retry_s} s.`, { retry_after_s: retry_s }, { 'retry-after': String(retry_s) });
    }
    b.tokens -= 1;
  }

  private evict(now_ms: number): void {
    for (const [key, b] of this.buckets) {
      if (now_ms - b.updated_ms > (this.burst / this.per_second) * 1000) this.buckets.delete(key);
    }
    if (this.buckets.size >= BUCKETS_MAX) this.buckets.clear();
  }
}
