// Singleton loops across processes (issue 15, decision 0017). A loop that must never run twice
// at once (a chain's deposit scanner, the sweeper, the reconciler, the hot-wallet refresh, the
// stuck detector …) runs only in the process holding its lease: a row in `leases` with a
// holder, a fencing token that increases with every acquisition, and an expiry the holder
// renews every third of the lease. A process that dies stops renewing; another takes the lease
// once it has expired. A graceful stop releases it at once.
//
// Timing alone cannot make this safe (a paused holder wakes after its lease was taken), so each
// tick runs under a fence: every db.transaction() of the tick first locks the lease row and
// checks that its token is still the row's (lease-store.ts lockIfCurrent), and a holder fenced
// out has its transaction refused (LeaseFencedError). The lock is held to the commit, so a
// takeover waits for a fenced transaction in flight. Each tick's interval is recorded in
// `lease_ticks` (kept LEASE_TICKS_KEPT_MS) as proof that no loop ran twice at once.
//
//   const leases = createLeases(db, { holder: 'host:pid', lease_ms: 15_000 });
//   platform.workers.push(leases.singleton('sweeper', (around) => sweepWorker(sweepers, 60_000, around)));
import type { Db } from '../db/database.ts';
import { withTransactionFence, type TransactionFence } from '../db/database.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { heldLocally, leaseTiming } from './lease-rules.ts';
import { insertLease, insertTick, lockIfCurrent, pruneTicks, releaseLease, renewLease, takeExpiredLease } from './lease-store.ts';
import type { IntervalWorker } from './interval-worker.ts';

/** How long the tick record is kept. */
export const LEASE_TICKS_KEPT_MS = 24 * 3600_000;

/** Wraps one tick of a singleton loop: runs it under the lease's fence and records its interval. */
export type TickAround = <T>(tick: () => Promise<T>) => Promise<T>;

export class LeaseFencedError extends Error {
  override name = 'LeaseFencedError';
}

export interface LeaseEvents {
  /** Acquired (true) or lost / released (false): for the log and the settle_lease_held gauge. */
  onChange?: (name: string, held: boolean, detail: { holder: string; token: number; reason: string }) => void;
  onError?: (name: string, error: unknown) => void;
}

export interface LeasesOptions extends LeaseEvents {
  holder: string;
  lease_ms?: number;
  clock?: Clock;
}

export interface Leases {
  readonly holder: string;
  /** A worker that runs `make(around)`'s loop only while this process holds the lease `name`. */
  singleton(name: string, make: (around: TickAround) => IntervalWorker): IntervalWorker;
}

export interface Held {
  token: number;
  expires_at_ms: number;
}

/** const leases = createLeases(db, { holder }); leases.singleton('reconciler', (around) => reconcileWorker(r, 60_000, onError, around)) */
export function createLeases(db: Db, opts: LeasesOptions): Leases {
  const timing = leaseTiming(opts.lease_ms ?? 15_000);
  const clock = opts.clock ?? systemClock;
  return {
    holder: opts.holder,
    singleton: (name, make) => singletonWorker({ db, name, holder: opts.holder, clock, ...timing, events: opts }, make),
  };
}

interface SingletonCtx {
  db: Db;
  name: string;
  holder: string;
  clock: Clock;
  lease_ms: number;
  renew_every_ms: number;
  events: LeaseEvents;
}

/** Tries to take `name` for `holder`: the first acquisition ever (token 1), or a takeover of an expired lease (next token). */
export async function acquireLease(db: Db, name: string, holder: string, now_ms: number, lease_ms: number): Promise<Held | null> {
  const expires_at_ms = now_ms + lease_ms;
  if (await insertLease(db.kysely, { name, holder, token: 1, expires_at_ms, acquired_at_ms: now_ms })) return { token: 1, expires_at_ms };
  const token = await takeExpiredLease(db.kysely, name, holder, now_ms, expires_at_ms);
  return token === null ? null : { token, expires_at_ms };
}

/** The fence of a tick: db.transaction() refuses (LeaseFencedError) unless `token` is still the lease's. */
export function leaseFence(name: string, holder: string, token: number): TransactionFence {
  return async (trx) => {
    if (!(await lockIfCurrent(trx, name, holder, token))) throw new LeaseFencedError(`lease ${name} (token ${token}) was taken over: this write is refused`);
  };
}

function singletonWorker(c: SingletonCtx, make: (around: TickAround) => IntervalWorker): IntervalWorker {
  let held: Held | null = null;
  let inner: IntervalWorker | null = null;
  let timer: NodeJS.Timeout | null = null;
  let step: Promise<void> | null = null;
  let stopped = true;

  const around = (token: number): TickAround => async (tick) => {
    const started_at_ms = c.clock.now_ms();
    try {
      return await withTransactionFence(leaseFence(c.name, c.holder, token), tick);
    } finally {
      await insertTick(c.db.kysely, { name: c.name, holder: c.holder, token, started_at_ms, ended_at_ms: c.clock.now_ms() }).catch((e: unknown) => c.events.onError?.(c.name, e));
    }
  };

  const lose = async (reason: string) => {
    const was = held;
    const loop = inner;
    held = null;
    inner = null;
    await loop?.stop();
    if (was) c.events.onChange?.(c.name, false, { holder: c.holder, token: was.token, reason });
  };

  const renewOrAcquire = async () => {
    const now = c.clock.now_ms();
    if (held) {
      const expires_at_ms = now + c.lease_ms;
      let renewed: boolean | null = null;
      try {
        renewed = await renewLease(c.db.kysely, c.name, c.holder, held.token, expires_at_ms);
      } catch (error) {
        c.events.onError?.(c.name, error);
      }
      if (renewed === true) held.expires_at_ms = expires_at_ms;
      else if (renewed === false) await lose('taken over');
      else if (!heldLocally(held.expires_at_ms, c.clock.now_ms())) await lose('not renewed in time');
      return;
    }
    const got = await acquireLease(c.db, c.name, c.holder, now, c.lease_ms);
    if (!got || stopped) {
      if (got) await releaseLease(c.db.kysely, c.name, c.holder, got.token);
      return;
    }
    held = got;
    c.events.onChange?.(c.name, true, { holder: c.holder, token: got.token, reason: 'acquired' });
    await pruneTicks(c.db.kysely, c.name, now - LEASE_TICKS_KEPT_MS).catch(() => undefined);
    inner = make(around(got.token));
    inner.start();
  };

  const loop = () => {
    timer = null;
    step = renewOrAcquire()
      .catch((error: unknown) => c.events.onError?.(c.name, error))
      .finally(() => {
        step = null;
        if (!stopped) timer = setTimeout(loop, c.renew_every_ms);
      });
  };

  return {
    name: c.name,
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(loop, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await step;
      const was = held;
      await lose('released');
      // Released at once, so that another process takes over without waiting for the expiry.
      if (was) await releaseLease(c.db.kysely, c.name, c.holder, was.token).catch((e: unknown) => c.events.onError?.(c.name, e));
    },
  };
}
