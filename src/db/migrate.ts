// Runs the migrations in src/db/migrations (ISO-date names, applied in name order) on either
// dialect, and tells /readyz whether the database is current.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

class FolderProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.test.ts')).sort();
    const out: Record<string, Migration> = {};
    for (const file of files) {
      out[file.replace(/\.(ts|js)$/, '')] = (await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as Migration;
    }
    return out;
  }
}

// On PostgreSQL the migration tables are pinned to the connection's current schema: without
// that, Kysely's existence check looks at every schema, so another schema's kysely_migration
// (a second Settle, or parallel test schemas) would make it skip creating ours.
async function migrator(db: Db): Promise<Migrator> {
  let migrationTableSchema: string | undefined;
  if (db.dialect === 'postgres') {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db.kysely);
    migrationTableSchema = rows[0]?.schema;
  }
  return new Migrator({ db: db.kysely, provider: new FolderProvider(), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

// Kysely's migrator introspects the tables of every schema; on PostgreSQL a schema dropped by
// someone else at that moment (parallel test schemas) makes that query fail with "… does not
// exist". Nothing was changed then, so trying again is safe.
async function retryingIntrospection<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const text = String((error as Error)?.message ?? error);
      if (db.dialect !== 'postgres' || attempt >= 5 || !/does not exist/.test(text)) throw error;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** await migrateToLatest(db) -> names of the migrations applied now */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const { error, results }: MigrationResultSet = await retryingIntrospection(db, async () => {
    const set = await (await migrator(db)).migrateToLatest();
    // An introspection failure comes back as a result set with an error and no migration run.
    if (set.error && !(set.results ?? []).some((r) => r.status === 'Error') && /does not exist/.test(String((set.error as Error)?.message))) throw set.error;
    return set;
  });
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies the migrations up to and including `name` (tests of a later migration start from there). */
export async function migrateTo(db: Db, name: string): Promise<void> {
  const { error, results } = await retryingIntrospection(db, async () => (await migrator(db)).migrateTo(name));
  if (error) throw new MigrationError(`migration ${results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'} failed: ${(error as Error).message ?? String(error)}`);
}

/** Names of migrations that exist in the code but are not applied to this database. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await retryingIntrospection(db, async () => (await migrator(db)).getMigrations());
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
