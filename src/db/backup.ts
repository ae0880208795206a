// Backups of the database, while the platform runs. SQLite: SQLite's online backup API (through
// better-sqlite3) from a read-only connection of our own, copying every page in ONE step, so the
// copy is one consistent snapshot (a writer in another process never restarts it, WAL lets it
// write on meanwhile); the copy is written beside the target and renamed into place, so a
// half-written backup never carries the final name. PostgreSQL: pg_dump's custom format, the
// tool of the field; we build its command line and run it when it is installed.
// The encryption key is NOT in a backup (docs/backups.md): keep it apart from the backups.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The tables every Settle database has; a file without them is not a Settle backup. */
const SETTLE_TABLES = ['ledger_head', 'ledger_transfers', 'users'];
/** Pages copied per backup step: all of them, so that the copy is one snapshot. */
const ALL_PAGES = 0x7fffffff;

export interface SqliteBackupResult {
  bytes: number;
  pages: number;
}

/** Copies the live SQLite database `source` to `file` (which must not exist): await backupSqlite('/data/settle.db', '/backups/settle-2026-12-07.db') */
export async function backupSqlite(source: string, file: string): Promise<SqliteBackupResult> {
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const r = await db.backup(partial, { progress: () => ALL_PAGES });
    renameSync(partial, file);
    return { bytes: statSync(file).size, pages: r.totalPages };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
}

/** Why `file` is not a sound Settle SQLite backup, or null: integrity check and the Settle tables. */
export function sqliteBackupProblem(file: string): string | null {
  if (!existsSync(file)) return `${file} does not exist`;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') return `${file} fails SQLite's integrity check: ${String(check)}`;
    const names = new Set((db.prepare(`select name from sqlite_master where type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name));
    const missing = SETTLE_TABLES.filter((t) => !names.has(t));
    return missing.length ? `${file} is a SQLite database but not a Settle one (no ${missing.join(', ')})` : null;
  } catch (error) {
    return `${file} is not a SQLite database: ${(error as Error).message}`;
  } finally {
    db?.close();
  }
}

/** How many tables the SQLite database at `path` holds (0 when there is no file). */
export function sqliteTableCount(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`select count(*) as n from sqlite_master where type = 'table'`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * Puts the backup `file` in place as the database `target` (after sqliteBackupProblem said it is
 * sound): copied with the backup API to a file beside the target, the target's old WAL and
 * shared-memory files removed, then renamed over it. The platform must not be running on it.
 */
export async function restoreSqlite(file: string, target: string): Promise<SqliteBackupResult> {
  const partial = `${target}.restoring`;
  rmSync(partial, { force: true });
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const r = await db.backup(partial, { progress: () => ALL_PAGES });
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(partial, target);
    return { bytes: statSync(target).size, pages: r.totalPages };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    db.close();
  }
}

/** Whether an external tool (pg_dump, pg_restore) can be run here. */
export function toolAvailable(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/** The PostgreSQL URL without its password, for commands printed to a terminal or a log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** pg_dump's arguments for a custom-format dump of `url` into `file` (the schema from the URL's search_path, when set). */
export function pgDumpArgs(url: string, file: string): string[] {
  return ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`, ...schemaArgs(url), `--dbname=${url}`];
}

/** pg_restore's arguments to load `file` into the (empty) database at `url`. */
export function pgRestoreArgs(url: string, file: string, clean: boolean): string[] {
  return ['--no-owner', '--no-privileges', '--exit-on-error', ...(clean ? ['--clean', '--if-exists'] : []), `--dbname=${url}`, file];
}

function schemaArgs(url: string): string[] {
  const options = new URL(url).searchParams.get('options') ?? '';
  const m = /search_path=([A-Za-z0-9_]+)/.exec(options);
  return m ? [`--schema=${m[1]}`] : [];
}
