// Exact sums of `_minor` money columns in SQL, on both dialects (decision 0002: money is TEXT on
// SQLite and numeric(78,0) on PostgreSQL).
//
// PostgreSQL sums numeric exactly; the sum comes back as text. SQLite would sum TEXT as floating
// point (inexact past 2^53), and its integer sums stop at 2^63 (about 9.2 ETH in wei). So on
// SQLite each amount is cut into 12-digit limbs (from the right), each limb is summed as a 64-bit
// integer — exact for up to 9.2 million rows — and read back as text; the limbs are put together
// again in bigint. Seven limbs cover 84 digits, more than numeric(78,0) holds.
//
//   const rows = await ex.selectFrom('payments').select('asset').select(exactSums(db.dialect, 'amount_minor')).groupBy('asset').execute();
//   rows.map((r) => ({ asset: r.asset, amount_minor: exactSumOf(r) }))
import { sql, type AliasedRawBuilder } from 'kysely';
import type { Dialect } from './database.ts';

const LIMB_DIGITS = 12;
const SQLITE_LIMBS = 7;

type SumAlias = `sum_${number}`;

/** The select expressions that sum `column` exactly on this dialect (aliases sum_0, sum_1 …). */
export function exactSums(dialect: Dialect, column: string): Array<AliasedRawBuilder<string | null, SumAlias>> {
  const ref = sql.ref(column);
  if (dialect === 'postgres') return [sql<string | null>`sum(${ref})::text`.as('sum_0')];
  return Array.from({ length: SQLITE_LIMBS }, (_, k) =>
    // substr(x, -24, 12) is the second 12 digits from the right ('' when x is shorter).
    sql<string | null>`cast(sum(cast(substr(${ref}, ${sql.lit(-LIMB_DIGITS * (k + 1))}, ${sql.lit(LIMB_DIGITS)}) as integer)) as text)`.as(`sum_${k}` as SumAlias),
  );
}

/** The sum that exactSums selected, from a result row: exactSumOf({ sum_0: '12', sum_1: '3' }) -> 3_000000000012n */
export function exactSumOf(row: Partial<Record<SumAlias, string | null>>): bigint {
  let total = 0n;
  for (let k = 0; k < SQLITE_LIMBS; k++) {
    const part = row[`sum_${k}`];
    if (part !== undefined && part !== null) total += BigInt(part) * 10n ** BigInt(LIMB_DIGITS * k);
  }
  return total;
}
