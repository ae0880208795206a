// Goal: the database layer behaves the same on SQLite and PostgreSQL — migrations apply and are
// reported as current, `_minor` money columns round-trip as bigint (beyond 64 bits), transactions
// commit or roll back as a whole, and a unique violation is recognised on both.
// Method: a real database of each dialect (see test/helpers/db.ts), a scratch table per suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { isUniqueViolation } from './database.ts';
import { migrateToLatest, pendingMigrations } from './migrate.ts';

type Scratch = Kysely<{ scratch: { id: string; amount_minor: bigint; n: number } }>;

describe.each(DIALECTS)('database on %s', (dialect) => {
  let t: TestDb;
  let k: Scratch;
  beforeAll(async () => {
    t = await openTestDb(dialect);
    const amount = dialect === 'postgres' ? sql`numeric(78,0)` : sql`text`;
    await sql`create table scratch (id text primary key, amount_minor ${amount} not null, n bigint not null)`.execute(t.db.kysely);
    k = t.db.kysely as unknown as Scratch;
  });
  afterAll(async () => t.cleanup());

  it('applies every migration from empty, reports none pending, and a second run is a no-op', async () => {
    const fresh = await openTestDb(dialect, { migrate: false });
    try {
      const before = await pendingMigrations(fresh.db);
      expect(before.length).toBeGreaterThan(0);
      expect(before).toContain('2026-11-26T0100_core');
      const applied = await migrateToLatest(fresh.db);
      expect(applied).toEqual(before);
      expect(await pendingMigrations(fresh.db)).toEqual([]);
      expect(await migrateToLatest(fresh.db)).toEqual([]);
      // The core tables exist and are usable.
      const n = await fresh.db.kysely.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(0);
    } finally {
      await fresh.cleanup();
    }
  });

  it('returns _minor columns as bigint, also beyond 64 bits, and other integers as numbers', async () => {
    const big = 2n ** 200n + 12345n;
    await k.insertInto('scratch').values({ id: 'a', amount_minor: big, n: 1_700_000_000_000 }).execute();
    const row = await k.selectFrom('scratch').selectAll().where('amount_minor', '=', big).executeTakeFirstOrThrow();
    expect(row.amount_minor).toBe(big);
    expect(typeof row.amount_minor).toBe('bigint');
    expect(row.n).toBe(1_700_000_000_000);
  });

  it('rolls back the whole transaction when it throws', async () => {
    await expect(
      t.db.transaction(async (trx) => {
        await (trx as unknown as Scratch).insertInto('scratch').values({ id: 'b', amount_minor: 1n, n: 1 }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await k.selectFrom('scratch').select('id').where('id', '=', 'b').execute()).toEqual([]);
    await t.db.transaction(async (trx) => {
      await (trx as unknown as Scratch).insertInto('scratch').values({ id: 'c', amount_minor: 5n, n: 2 }).execute();
    });
    expect((await k.selectFrom('scratch').select('amount_minor').where('id', '=', 'c').executeTakeFirstOrThrow()).amount_minor).toBe(5n);
  });

  it('refuses a transaction opened inside another of the same database instead of deadlocking', async () => {
    await expect(t.db.transaction(async () => t.db.transaction(async () => 1))).rejects.toThrow(/inside a transaction/);
    // Side by side (not nested) is fine, and the outer transaction still works afterwards.
    const [a, b] = await Promise.all([t.db.transaction(async () => 'a'), t.db.transaction(async () => 'b')]);
    expect([a, b]).toEqual(['a', 'b']);
  });

  it('recognises a unique violation (primary key and unique index) and nothing else', async () => {
    await k.insertInto('scratch').values({ id: 'u', amount_minor: 1n, n: 1 }).execute();
    const pk = await k.insertInto('scratch').values({ id: 'u', amount_minor: 2n, n: 2 }).execute().catch((e: unknown) => e);
    expect(isUniqueViolation(pk)).toBe(true);
    await t.db.kysely.insertInto('jobs').values(job('j1', 'same')).execute();
    const uniq = await t.db.kysely.insertInto('jobs').values(job('j2', 'same')).execute().catch((e: unknown) => e);
    expect(isUniqueViolation(uniq)).toBe(true);
    const notNull = await sql`insert into scratch (id, amount_minor, n) values ('x', null, 1)`.execute(t.db.kysely).catch((e: unknown) => e);
    expect(notNull).toBeInstanceOf(Error);
    expect(isUniqueViolation(notNull)).toBe(false);
    expect(isUniqueViolation(new Error('unique'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });
});

function job(id: string, unique_key: string) {
  return { id, kind: 'k', payload: '{}', status: 'queued', unique_key, run_at_ms: 0, attempts: 0, max_attempts: 1, lease_until_ms: null, leased_by: null, last_error: null, created_at_ms: 0, updated_at_ms: 0 };
}

describe('SQLite deadlock guard', () => {
  it('refuses a query through db.kysely inside db.transaction instead of hanging', async () => {
    const t = await openTestDb('sqlite');
    try {
      await expect(t.db.transaction(async () => sql`select 1`.execute(t.db.kysely))).rejects.toThrow(/would deadlock/);
      // Outside the transaction the same query works, also from a flow that began inside one.
      let later: Promise<unknown> = Promise.resolve();
      await t.db.transaction(async (trx) => {
        later = new Promise((r) => setTimeout(r, 20)).then(() => sql`select 1 as one`.execute(t.db.kysely));
        await sql`select 1`.execute(trx);
      });
      await expect(later).resolves.toBeTruthy();
    } finally {
      await t.cleanup();
    }
  });
});
