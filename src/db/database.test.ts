// Goal: the database layer behaves the same on SQLite and PostgreSQL — `_minor` money columns
// round-trip as bigint (beyond 64 bits), transactions commit or roll back as a whole.
// Method: a real database of each dialect (see test/helpers/db.ts), a scratch table per test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';

describe.each(DIALECTS)('database on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
    const amount = dialect === 'postgres' ? sql`numeric(78,0)` : sql`text`;
    await sql`create table scratch (id text primary key, amount_minor ${amount} not null, n bigint not null)`.execute(t.db.kysely);
  });
  afterAll(async () => t.cleanup());

  it('returns _minor columns as bigint, also beyond 64 bits, and other integers as numbers', async () => {
    const big = 2n ** 200n + 12345n;
    const k = t.db.kysely as unknown as import('kysely').Kysely<{ scratch: { id: string; amount_minor: bigint; n: number } }>;
    await k.insertInto('scratch').values({ id: 'a', amount_minor: big, n: 1_700_000_000_000 }).execute();
    const row = await k.selectFrom('scratch').selectAll().where('amount_minor', '=', big).executeTakeFirstOrThrow();
    expect(row.amount_minor).toBe(big);
    expect(typeof row.amount_minor).toBe('bigint');
    expect(row.n).toBe(1_700_000_000_000);
  });

  it('rolls back the whole transaction when it throws', async () => {
    const k = t.db.kysely as unknown as import('kysely').Kysely<{ scratch: { id: string; amount_minor: bigint; n: number } }>;
    await expect(
      t.db.transaction(async (trx) => {
        await (trx as unknown as typeof k).insertInto('scratch').values({ id: 'b', amount_minor: 1n, n: 1 }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await k.selectFrom('scratch').select('id').where('id', '=', 'b').execute()).toEqual([]);
    await t.db.transaction(async (trx) => {
      await (trx as unknown as typeof k).insertInto('scratch').values({ id: 'c', amount_minor: 5n, n: 2 }).execute();
    });
    expect((await k.selectFrom('scratch').select('amount_minor').where('id', '=', 'c').executeTakeFirstOrThrow()).amount_minor).toBe(5n);
  });
});
