// Time comes from a Clock so that tests can move it (expiries, leases, SLAs) without sleeping.

export interface Clock {
  now_ms(): number;
}

export const systemClock: Clock = { now_ms: () => Date.now() };

/** A clock tests can move: const clock = new ManualClock(0); clock.advance(60_000) */
export class ManualClock implements Clock {
  constructor(private current_ms: number = Date.UTC(2026, 0, 1)) {}
  now_ms(): number {
    return this.current_ms;
  }
  advance(ms: number): void {
    this.current_ms += ms;
  }
  set(ms: number): void {
    this.current_ms = ms;
  }
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
