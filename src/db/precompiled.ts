// Kysely queries built and compiled once, then run again and again with new parameters.
//
// For the point lookups and small inserts that every money-moving request runs, building the
// query, passing it through the plugins and compiling it costs Kysely more CPU than SQLite needs
// to run it (about 15-20 µs against 2-10 µs a statement). A precompiled query is built once per
// database, with a placeholder where each parameter goes; each run only fills the parameters in.
// It still runs through Kysely's executor, so nothing else changes: the transaction's connection
// (and SQLite's connection mutex outside one), the result plugins (`*_minor` columns come back
// as bigint) and both dialects. Parameters are converted as the BigintPlugin converts them in
// built queries (a bigint becomes its decimal text).
//
//   const userById = precompile<[id: string], UserRow>(db, (k, p) => k.selectFrom('users').selectAll().where('id', '=', p(0)));
//   const [user] = (await userById.execute(trx, ['usr_1'])).rows;
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import { assert } from '../shared/assert.ts';
import type { Db, DbExecutor } from './database.ts';
import type { Database } from './schema.ts';

// A placeholder is a string no caller would send as a value; compiling turns it into a bound
// parameter like any other value, and its position in the compiled parameters says where it went.
const MARK = '\u0000settle-precompiled-param:';

/** The placeholder of argument i; typed `never` so that it fits any column in the builder. */
export type Placeholder = (i: number) => never;

export interface Precompiled<A extends readonly unknown[], R> {
  /** Runs the query with these arguments on `ex` (the database's Kysely, or a transaction of it). */
  execute(ex: DbExecutor, args: A): Promise<QueryResult<R>>;
  /** The compiled text (compiles it on first use). */
  sql(): string;
}

interface Compiled<R> {
  query: CompiledQuery<R>;
  /** For each compiled parameter: the argument index, or -1 for a constant of the query. */
  slots: number[];
  arity: number;
}

function toParameter(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * precompile(db, (k, p) => k.selectFrom('t').selectAll().where('id', '=', p(0))) -> a query run with
 * `.execute(ex, [id])`. Every argument index from 0 to n-1 must appear in the query.
 */
export function precompile<A extends readonly unknown[], R>(db: Db, build: (k: Kysely<Database>, p: Placeholder) => Compilable<R>): Precompiled<A, R> {
  let compiled: Compiled<R> | null = null;

  function compile(): Compiled<R> {
    const query = build(db.kysely, (i) => `${MARK}${i}` as never).compile();
    const slots = query.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? Number(v.slice(MARK.length)) : -1));
    const used = new Set(slots.filter((s) => s >= 0));
    const arity = used.size;
    for (let i = 0; i < arity; i++) assert(used.has(i), `precompiled query: placeholder ${i} is missing from ${query.sql}`);
    return { query, slots, arity };
  }

  return {
    execute(ex, args) {
      const c = (compiled ??= compile());
      assert(args.length === c.arity, `precompiled query takes ${c.arity} arguments, got ${args.length}`);
      const constants = c.query.parameters;
      const parameters = new Array<unknown>(c.slots.length);
      for (let i = 0; i < c.slots.length; i++) {
        const s = c.slots[i]!;
        parameters[i] = s < 0 ? constants[i] : toParameter(args[s]);
      }
      return ex.executeQuery<R>({ ...c.query, parameters });
    },
    sql() {
      return (compiled ??= compile()).query.sql;
    },
  };
}
