// Goal: exactSums adds `_minor` money exactly on both dialects, past 2^53 and past 2^63 (wei
// amounts), across many rows and per group. Method: a scratch table with a money column typed as
// the migrations type it (text on SQLite, numeric(78,0) on PostgreSQL), summed by SQL and
// compared with the bigint sum of what was inserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { exactSumOf, exactSums } from './exact-sum.ts';

describe.each(DIALECTS)('exact sums of money on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
    await sql`create table scratch_money (grp text not null, amount_minor ${dialect === 'postgres' ? sql`numeric(78,0)` : sql`text`} not null)`.execute(t.db.kysely);
  });
  afterAll(async () => t.cleanup());
  const scratch = () => t.db.kysely as unknown as Kysely<{ scratch_money: { grp: string; amount_minor: string } }>;

  it('sums per group exactly, from one unit to uint256-sized amounts', async () => {
    const amounts: Record<string, bigint[]> = {
      dust: Array.from({ length: 3000 }, () => 1n),
      wei: [10n ** 19n, 123_456_789_012_345_678_901n, 2n ** 63n, 2n ** 64n + 7n],
      huge: [2n ** 255n, 2n ** 255n - 1n, 999_999_999_999n],
    };
    for (const [grp, list] of Object.entries(amounts)) {
      for (let i = 0; i < list.length; i += 500) {
        await t.db.kysely.insertInto('scratch_money' as never).values(list.slice(i, i + 500).map((a) => ({ grp, amount_minor: a.toString() })) as never).execute();
      }
    }
    const rows = await scratch()
      .selectFrom('scratch_money')
      .select('grp')
      .select(exactSums(dialect, 'amount_minor'))
      .groupBy('grp')
      .orderBy('grp')
      .execute();
    const sum = (l: bigint[]) => l.reduce((a, b) => a + b, 0n);
    expect(rows.map((r) => [r.grp, exactSumOf(r)])).toEqual([['dust', 3000n], ['huge', sum(amounts.huge!)], ['wei', sum(amounts.wei!)]]);
  });

  it('sums nothing to zero', async () => {
    const [row] = await scratch()
      .selectFrom('scratch_money')
      .select(exactSums(dialect, 'amount_minor'))
      .where('grp', '=', 'none')
      .execute();
    expect(exactSumOf(row!)).toBe(0n);
  });
});
