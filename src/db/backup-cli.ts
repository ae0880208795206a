// `settle backup <file>` and `settle restore <file>`: the database the configuration names,
// copied while the platform runs (SQLite's online backup; on PostgreSQL a guided pg_dump), and
// put back into a fresh data dir. Restore refuses a database that already holds tables unless
// --force; after it, `settle ledger verify` proves the copy (docs/backups.md).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CliError, type CliIo, type Command } from '../shared/cli-kit.ts';
import { describeDb, type CliContext } from './configured-db.ts';
import { backupSqlite, pgDumpArgs, pgRestoreArgs, redactUrl, restoreSqlite, sqliteBackupProblem, sqliteTableCount, toolAvailable } from './backup.ts';
import type { Config } from '../config.ts';
import { sql } from 'kysely';

const KEY_NOTE = 'The encryption key is not in the backup: keep SETTLE_ENCRYPTION_KEY (or <data dir>/encryption.key) safe and apart from it; without the key, TOTP and webhook secrets and identity documents cannot be read.';

function fileArg(positionals: string[]): string {
  const [file, ...rest] = positionals;
  if (!file) throw new CliError('missing <file>');
  if (rest.length) throw new CliError(`unexpected argument "${rest[0]}"`);
  return resolve(file);
}

/** Runs a PostgreSQL tool when installed; otherwise prints the command to run by hand. -> exit code */
function runGuided(io: CliIo, tool: string, args: string[], what: string): number {
  const shown = `${tool} ${args.map((a) => (a.startsWith('--dbname=') ? `--dbname='${redactUrl(a.slice(9))}'` : a)).join(' ')}`;
  if (!toolAvailable(tool)) {
    io.err(`settle: ${tool} is not installed here; ${what} by hand (PostgreSQL's client tools, the same major version as the server or newer):`);
    io.out(`  ${shown}`);
    return 1;
  }
  io.out(`running: ${shown}`);
  const r = spawnSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    io.err(`settle: ${tool} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    return 1;
  }
  return 0;
}

async function backup(file: string, force: boolean, io: CliIo, config: Config): Promise<number> {
  if (existsSync(file) && !force) throw new CliError(`${file} exists: choose a new file name, or pass --force to replace it`);
  if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true });
  if (config.database.kind === 'postgres') {
    const code = runGuided(io, 'pg_dump', pgDumpArgs(config.database.url, file), 'take the backup');
    if (code === 0) io.out(`ok   backup of ${describeDb(config)} in ${file} (pg_dump custom format; restore with: settle restore ${file})`);
    io.out(KEY_NOTE);
    return code;
  }
  if (!existsSync(config.database.path)) throw new CliError(`no database at ${config.database.path} (check SETTLE_DATA_DIR / SETTLE_DATABASE_URL)`);
  const r = await backupSqlite(config.database.path, file);
  const problem = sqliteBackupProblem(file);
  if (problem) {
    io.err(`FAIL backup ${file}: ${problem}`);
    return 1;
  }
  io.out(`ok   backup of ${describeDb(config)} in ${file}: ${r.pages} pages, ${r.bytes} bytes, integrity checked`);
  io.out(KEY_NOTE);
  return 0;
}

async function postgresTableCount(ctx: CliContext): Promise<number> {
  const db = ctx.openDb();
  try {
    const r = await sql<{ n: unknown }>`select count(*) as n from information_schema.tables where table_schema = current_schema()`.execute(db.kysely);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await db.close();
  }
}

async function restore(file: string, force: boolean, io: CliIo, ctx: CliContext): Promise<number> {
  const config = ctx.config();
  if (!existsSync(file)) throw new CliError(`${file} does not exist`);
  const tables = config.database.kind === 'sqlite' ? sqliteTableCount(config.database.path) : await postgresTableCount(ctx);
  if (tables > 0 && !force) {
    throw new CliError(`${describeDb(config)} already holds a database (${tables} tables): restore into a fresh data dir, or pass --force to replace it (stop every settle process on it first)`);
  }
  if (config.database.kind === 'postgres') {
    const code = runGuided(io, 'pg_restore', pgRestoreArgs(config.database.url, file, tables > 0), 'restore it');
    if (code === 0) io.out(`ok   restored ${file} into ${describeDb(config)}; now run: settle migrate && settle ledger verify`);
    return code;
  }
  const problem = sqliteBackupProblem(file);
  if (problem) throw new CliError(problem);
  mkdirSync(dirname(config.database.path), { recursive: true });
  const r = await restoreSqlite(file, config.database.path);
  io.out(`ok   restored ${file} into ${describeDb(config)}: ${r.pages} pages, ${r.bytes} bytes; now run: settle migrate && settle ledger verify`);
  return 0;
}

export const backupCommands: Array<Command<CliContext>> = [
  {
    path: ['backup'],
    summary: 'copy the database while the platform runs (SQLite online backup; PostgreSQL: pg_dump)',
    usage: 'settle backup <file> [--force]',
    args: '<file>',
    flags: { force: 'replace <file> if it exists' },
    async run(args, io, ctx) {
      return backup(fileArg(args.positionals), args.flags.force === true, io, ctx.config());
    },
  },
  {
    path: ['restore'],
    summary: 'put a backup in place as the configured database (a fresh data dir; --force to replace one)',
    usage: 'settle restore <file> [--force]',
    args: '<file>',
    flags: { force: 'replace a database that already holds tables (stop the platform first)' },
    async run(args, io, ctx) {
      return restore(fileArg(args.positionals), args.flags.force === true, io, ctx);
    },
  },
];
