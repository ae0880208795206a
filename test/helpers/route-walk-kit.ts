// Shared by the tests that walk every registered route (test/api/authz.test.ts, the OpenAPI
// fuzzer in test/fuzz/): a plugin that collects the routes as modules register them, and the
// generic reads of "everything a user owns" (every row of every table with a user_id column),
// so that a route added later by any module is walked and its rows are protected without
// touching these tests.
import { sql } from 'kysely';
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import type { RouteAuth } from '../../src/http/route-auth.ts';
import type { Db } from '../../src/db/database.ts';

export interface CollectedRoute {
  method: string;
  url: string;
  auth: RouteAuth | undefined;
}

/** A root-level plugin whose onRoute hook pushes every /api/ route registered after it. */
export function routeCollector(routes: CollectedRoute[]): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRoute', (opts: RouteOptions) => {
      const methods = Array.isArray(opts.method) ? opts.method : [opts.method];
      for (const method of methods) {
        if (method === 'HEAD' || !opts.url.startsWith('/api/')) continue;
        routes.push({ method, url: opts.url, auth: (opts.config as { auth?: RouteAuth } | undefined)?.auth });
      }
    });
  };
  // Like fastify-plugin: the hook lives at the root, so it sees every module registered after it.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/** The tables with a user_id column, sorted: await userIdTables(db) -> ['api_keys', 'sessions', …] */
export async function userIdTables(db: Db): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely);
    const out: string[] = [];
    for (const t of tables.rows) {
      const cols = await sql<{ name: string }>`select name from pragma_table_info(${t.name})`.execute(db.kysely);
      if (cols.rows.some((c) => c.name === 'user_id')) out.push(t.name);
    }
    return out.sort();
  }
  const r = await sql<{ table_name: string }>`select table_name from information_schema.columns where column_name = 'user_id' and table_schema = current_schema()`.execute(db.kysely);
  return r.rows.map((x) => x.table_name).sort();
}

/** Every row of the user's (users row and all user_id tables) as one JSON text, to compare before/after. */
export async function snapshotOf(db: Db, user_id: string): Promise<string> {
  const parts: Record<string, unknown> = {};
  parts.users = (await sql`select * from users where id = ${user_id}`.execute(db.kysely)).rows;
  for (const table of await userIdTables(db)) {
    parts[table] = (await sql`select * from ${sql.table(table)} where user_id = ${user_id} order by 1`.execute(db.kysely)).rows;
  }
  return JSON.stringify(parts, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The user's id and the id of every row of theirs in a user_id table. */
export async function idsOf(db: Db, user_id: string): Promise<string[]> {
  const ids = new Set<string>([user_id]);
  for (const table of await userIdTables(db)) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where user_id = ${user_id}`.execute(db.kysely)).rows;
    for (const row of rows) if (typeof row.id === 'string') ids.add(row.id);
  }
  return [...ids];
}

/** Fills a route's :params (and *) in order, the last value repeating: fill('/a/:id/b/:doc', ['x']) -> '/a/x/b/x' */
export function fillParams(url: string, values: string[]): string {
  let i = 0;
  return url.replace(/:[A-Za-z_]+|\*/g, () => encodeURIComponent(values[Math.min(i++, values.length - 1)] ?? 'x'));
}

export function paramCount(url: string): number {
  return (url.match(/:[A-Za-z_]+|\*/g) ?? []).length;
}
