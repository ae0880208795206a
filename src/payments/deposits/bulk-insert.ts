// Multi-row INSERTs sent as SQL text, for the scanner's bulk writes (thousands of rows a tick).
//
// Kysely's builder makes an operation node for every value, passes the tree through the plugins
// and compiles it back to text: for a 3,000-row insert of timeline rows that cost about 6.6 µs of
// CPU a row, against 2.5 µs a row for the same statement written as text here (SQLite, measured
// with bench/deposit-release-bench.ts's set-up). The text is the one Kysely would send: the table
// and column names are the caller's constants (never data), every value is a bound parameter,
// and a bigint becomes its decimal text as the BigintPlugin makes it. It runs through the
// executor it is given, so inside a transaction it is part of that transaction.
//
//   await insertRows(trx, 'payment_events', ['payment_id', 'n', 'at_ms', …], rows, 3000);
import { CompiledQuery, PostgresAdapter, type Insertable } from 'kysely';
import type { DbExecutor } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { assert } from '../../shared/assert.ts';

/** Both dialects' bound-parameter limits (SQLite 32,766; PostgreSQL 65,535) stay above this. */
const PARAMETERS_PER_STATEMENT_MAX = 32_000;

/** INSERT INTO table (columns) VALUES (…), (…): `rows` rows, placeholders in the dialect's style. */
function insertText(table: string, columns: readonly string[], rows: number, postgres: boolean): string {
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  if (!postgres) return head + new Array<string>(rows).fill(`(${columns.map(() => '?').join(', ')})`).join(', ');
  const tuples: string[] = [];
  for (let r = 0, p = 1; r < rows; r++) tuples.push(`(${columns.map(() => `$${p++}`).join(', ')})`);
  return head + tuples.join(', ');
}

/**
 * Inserts `rows` into `table`, `rows_per_statement` a statement; each row gives a value for every
 * one of `columns` (undefined is stored as null).
 */
export async function insertRows<T extends keyof Database & string>(
  ex: DbExecutor,
  table: T,
  columns: ReadonlyArray<keyof Insertable<Database[T]> & string>,
  rows: ReadonlyArray<Insertable<Database[T]>>,
  rows_per_statement: number,
): Promise<void> {
  assert(rows_per_statement * columns.length <= PARAMETERS_PER_STATEMENT_MAX, `insertRows(${table}): ${rows_per_statement} rows of ${columns.length} columns exceed the parameter bound`);
  const postgres = ex.getExecutor().adapter instanceof PostgresAdapter;
  for (let i = 0; i < rows.length; i += rows_per_statement) {
    const chunk = rows.slice(i, i + rows_per_statement);
    const parameters: unknown[] = [];
    for (const row of chunk) {
      const values = row as Record<string, unknown>;
      for (const c of columns) {
        const v = values[c];
        parameters.push(v === undefined ? null : typeof v === 'bigint' ? v.toString() : v);
      }
    }
    await ex.executeQuery(CompiledQuery.raw(insertText(table, columns, chunk.length, postgres), parameters));
  }
}
