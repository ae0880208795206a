// Opens a fresh, migrated database for a test on each dialect: a temp SQLite file always, and a
// throw-away PostgreSQL schema whenever SETTLE_TEST_DATABASE_URL is set. Under CI=true the
// PostgreSQL URL is required, so that CI can never skip the PostgreSQL half silently.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDb, type Db, type DbTarget, type Dialect } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

export const PG_URL = process.env.SETTLE_TEST_DATABASE_URL || '';
if (process.env.CI === 'true' && !PG_URL) {
  throw new Error('CI=true but SETTLE_TEST_DATABASE_URL is not set: PostgreSQL tests would be skipped');
}

/** The dialects to run store tests on here: ['sqlite'] or ['sqlite', 'postgres']. */
export const DIALECTS: Dialect[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDb {
  db: Db;
  target: DbTarget;
  /** Environment for a child process that must open the same database. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** const t = await openTestDb('postgres'); … await t.cleanup() */
export async function openTestDb(dialect: Dialect, opts: { migrate?: boolean; synchronous?: 'FULL' | 'NORMAL' } = {}): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'settle-test-'));
    const target: DbTarget = { kind: 'sqlite', path: join(dir, 'settle.db'), synchronous: opts.synchronous ?? 'NORMAL' };
    const db = openDb(target);
    if (opts.migrate !== false) await migrateToLatest(db);
    return {
      db,
      target,
      env: { SETTLE_DATABASE_URL: target.path },
      async cleanup() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  // CI passes a file path here and fails the build if nothing was written: the proof that the
  // PostgreSQL half really ran (a test reporter's output is no such proof).
  if (process.env.CI_PG_TEST_MARKER) appendFileSync(process.env.CI_PG_TEST_MARKER, `${schema} ${process.env.VITEST_POOL_ID ?? ''}\n`);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const target: DbTarget = { kind: 'postgres', url: PG_URL, schema };
  const db = openDb(target);
  if (opts.migrate !== false) await migrateToLatest(db);
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    db,
    target,
    env: { SETTLE_DATABASE_URL: url.toString() },
    async cleanup() {
      await db.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}
