// Goal: a singleton loop's lease has one holder at a time, its token increases with every
// acquisition, a holder whose lease was taken over cannot commit (fencing), a graceful stop hands
// the lease over at once, and the tick record proves that no loop ran twice at once.
// Method: the lease rules (pure) alone; then the store and the singleton worker over a real
// database on each dialect, with a ManualClock for expiries. The PostgreSQL-only block races two
// separate connection pools for one lease and holds a fenced transaction open while the other
// tries to take over.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, PG_URL, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { openDb, withTransactionFence, type Db } from '../db/database.ts';
import { ManualClock, systemClock } from '../shared/clock.ts';
import { heldLocally, leaseTiming, overlappingTicks, type Tick } from './lease-rules.ts';
import { leaseOf, renewLease, releaseLease, ticksOf } from './lease-store.ts';
import { acquireLease, createLeases, leaseFence, LeaseFencedError } from './leases.ts';
import { intervalWorker } from './interval-worker.ts';

const tick = (holder: string, token: number, started_at_ms: number, ended_at_ms: number, name = 'loop'): Tick => ({ name, holder, token, started_at_ms, ended_at_ms });

describe('lease rules', () => {
  it('renews every third of the lease and refuses a lease too short to renew', () => {
    expect(leaseTiming(15_000)).toEqual({ lease_ms: 15_000, renew_every_ms: 5_000 });
    expect(() => leaseTiming(10)).toThrow(/at least 30/);
    expect(heldLocally(1000, 999)).toBe(true);
    expect(heldLocally(1000, 1000)).toBe(false);
  });

  it('finds ticks of one loop by two holders that overlap, and only those', () => {
    expect(overlappingTicks([tick('a', 1, 0, 10), tick('a', 1, 10, 20), tick('b', 2, 25, 30), tick('a', 1, 5, 8, 'other')])).toEqual([]);
    expect(overlappingTicks([tick('a', 1, 0, 10), tick('b', 2, 9, 12)])).toEqual([[tick('a', 1, 0, 10), tick('b', 2, 9, 12)]]);
    // A long tick overlapping a later holder's tick after short ones of its own.
    expect(overlappingTicks([tick('a', 1, 0, 100), tick('a', 1, 100, 101), tick('b', 2, 50, 60)])).toHaveLength(1);
  });
});

describe.each(DIALECTS)('leases on %s', (dialect) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(async () => t.cleanup());

  async function counter(db: Db): Promise<number> {
    const r = await db.kysely.selectFrom('outbox_cursors').select('seq').where('consumer', '=', 'lease-test').executeTakeFirst();
    return r ? Number(r.seq) : 0;
  }
  async function bump(db: Db, now_ms: number): Promise<void> {
    await db.transaction(async (trx) => {
      const n = await trx.selectFrom('outbox_cursors').select('seq').where('consumer', '=', 'lease-test').executeTakeFirst();
      if (n) await trx.updateTable('outbox_cursors').set({ seq: Number(n.seq) + 1 }).where('consumer', '=', 'lease-test').execute();
      else await trx.insertInto('outbox_cursors').values({ consumer: 'lease-test', seq: 1, updated_at_ms: now_ms }).execute();
    });
  }

  it('one holder at a time; the token increases; an expired lease is taken over and its old holder is fenced out', async () => {
    const clock = new ManualClock(1_000_000);
    const a = await acquireLease(t.db, 'scanner:1', 'a', clock.now_ms(), 1000);
    expect(a).toEqual({ token: 1, expires_at_ms: 1_001_000 });
    expect(await acquireLease(t.db, 'scanner:1', 'b', clock.now_ms(), 1000)).toBeNull();
    // a renews; b still cannot take it.
    clock.advance(600);
    expect(await renewLease(t.db.kysely, 'scanner:1', 'a', 1, clock.now_ms() + 1000)).toBe(true);
    clock.advance(600);
    expect(await acquireLease(t.db, 'scanner:1', 'b', clock.now_ms(), 1000)).toBeNull();
    // a pauses past its expiry: b takes the lease with the next token.
    clock.advance(1001);
    const b = await acquireLease(t.db, 'scanner:1', 'b', clock.now_ms(), 1000);
    expect(b?.token).toBe(2);
    expect(await renewLease(t.db.kysely, 'scanner:1', 'a', 1, clock.now_ms() + 1000)).toBe(false);
    // a wakes and writes: its transaction is refused and leaves nothing; b's commits.
    await expect(withTransactionFence(leaseFence('scanner:1', 'a', 1), () => bump(t.db, clock.now_ms()))).rejects.toBeInstanceOf(LeaseFencedError);
    expect(await counter(t.db)).toBe(0);
    await withTransactionFence(leaseFence('scanner:1', 'b', 2), () => bump(t.db, clock.now_ms()));
    expect(await counter(t.db)).toBe(1);
    // Writes outside a fence are not checked (API requests, other loops).
    await bump(t.db, clock.now_ms());
    expect(await counter(t.db)).toBe(2);
    // A graceful release: the next process takes it at once, token 3.
    await releaseLease(t.db.kysely, 'scanner:1', 'b', 2);
    expect((await acquireLease(t.db, 'scanner:1', 'c', clock.now_ms(), 1000))?.token).toBe(3);
    expect((await leaseOf(t.db.kysely, 'scanner:1'))?.holder).toBe('c');
  });

  it('a singleton loop runs in one of two processes; a graceful stop hands it over at once; the tick record shows no overlap', async () => {
    const events: string[] = [];
    const make = (holder: string) =>
      createLeases(t.db, { holder, lease_ms: 3000, clock: systemClock, onChange: (name, held, d) => events.push(`${holder} ${held ? 'acquired' : 'gave up'} ${name} token ${d.token}`) });
    const ran = new Map<string, number>();
    const loop = (holder: string) =>
      make(holder).singleton('test-loop', (around) =>
        intervalWorker('test-loop', 20, () =>
          around(async () => {
            ran.set(holder, (ran.get(holder) ?? 0) + 1);
            await bump(t.db, Date.now());
          }),
        ),
      );
    const a = loop('a');
    const b = loop('b');
    a.start();
    await until(async () => (ran.get('a') ?? 0) >= 3);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(ran.get('b') ?? 0).toBe(0);
    await a.stop();
    // b takes over at its next attempt (a third of the lease), not after the lease's 3 s.
    const stoppedAt = Date.now();
    await until(async () => (ran.get('b') ?? 0) >= 3);
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    await b.stop();
    expect(events).toEqual(['a acquired test-loop token 1', 'a gave up test-loop token 1', 'b acquired test-loop token 2', 'b gave up test-loop token 2']);
    const ticks = await ticksOf(t.db.kysely, 10_000, 'test-loop');
    expect(ticks.length).toBe((ran.get('a') ?? 0) + (ran.get('b') ?? 0));
    expect(new Set(ticks.map((x) => `${x.holder}:${x.token}`))).toEqual(new Set(['a:1', 'b:2']));
    expect(overlappingTicks(ticks)).toEqual([]);
    expect(await counter(t.db)).toBe(ticks.length);
  });
});

describe.skipIf(!PG_URL)('leases under concurrency on PostgreSQL', () => {
  let t: TestDb;
  let other: Db;
  beforeEach(async () => {
    t = await openTestDb('postgres');
    other = openDb(t.target);
  });
  afterEach(async () => {
    await other.close();
    await t.cleanup();
  });

  it('two connection pools racing for a lease: exactly one wins each round, and tokens never repeat', async () => {
    const clock = new ManualClock(5_000_000);
    const tokens: number[] = [];
    for (let round = 0; round < 20; round++) {
      clock.advance(10_000); // the previous round's lease has expired
      const [x, y] = await Promise.all([acquireLease(t.db, 'race', 'x', clock.now_ms(), 1000), acquireLease(other, 'race', 'y', clock.now_ms(), 1000)]);
      expect([x, y].filter((h) => h !== null)).toHaveLength(1);
      tokens.push((x ?? y)!.token);
    }
    expect(tokens).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('a takeover waits for the holder fenced transaction in flight; once taken, the old holder commit is refused', async () => {
    const clock = new ManualClock(9_000_000);
    await acquireLease(t.db, 'sweeper', 'old', clock.now_ms(), 1000);
    clock.advance(5000); // expired, not yet taken
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let fencePassed!: () => void;
    const passed = new Promise<void>((r) => (fencePassed = r));
    const inFlight = withTransactionFence(leaseFence('sweeper', 'old', 1), () =>
      t.db.transaction(async (trx) => {
        fencePassed();
        await held;
        await sql`insert into outbox_cursors (consumer, seq, updated_at_ms) values ('fenced-write', 1, 0)`.execute(trx);
      }),
    );
    await passed;
    let takenAt = 0;
    const takeover = acquireLease(other, 'sweeper', 'new', clock.now_ms(), 1000).then((h) => ((takenAt = Date.now()), h));
    await new Promise((r) => setTimeout(r, 200));
    expect(takenAt).toBe(0); // blocked on the row lock the fence holds
    const committedAt = Date.now();
    release();
    await inFlight;
    expect((await takeover)?.token).toBe(2);
    expect(takenAt).toBeGreaterThanOrEqual(committedAt);
    // The old holder's next transaction is refused, and writes nothing.
    await expect(
      withTransactionFence(leaseFence('sweeper', 'old', 1), () => t.db.transaction(async (trx) => void (await sql`insert into outbox_cursors (consumer, seq, updated_at_ms) values ('late-write', 1, 0)`.execute(trx)))),
    ).rejects.toBeInstanceOf(LeaseFencedError);
    const rows = await t.db.kysely.selectFrom('outbox_cursors').select('consumer').execute();
    expect(rows.map((r) => r.consumer)).toEqual(['fenced-write']);
  });
});

async function until(cond: () => Promise<boolean>, timeout_ms = 10_000): Promise<void> {
  const end = Date.now() + timeout_ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
