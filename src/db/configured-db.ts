// The database the configuration names, opened for the server (main.ts) and for command-line
// commands (through the context cli.ts builds), plus the one-line description used in their
// messages, which hides a PostgreSQL password.
import type { Config } from '../config.ts';
import { openDb, type Db } from './database.ts';

/** openConfiguredDb(config) -> the SQLite file or PostgreSQL database of config.database */
export function openConfiguredDb(config: Pick<Config, 'database' | 'db_timeouts'>): Db {
  return openDb(config.database.kind === 'sqlite' ? { kind: 'sqlite', path: config.database.path } : { kind: 'postgres', url: config.database.url, ...config.db_timeouts });
}

/** describeDb(config) -> 'SQLite /data/settle.db' or 'PostgreSQL postgres://***@host/db' */
export function describeDb(config: Pick<Config, 'database'>): string {
  return config.database.kind === 'sqlite' ? `SQLite ${config.database.path}` : `PostgreSQL ${config.database.url.replace(/\/\/[^@/]*@/, '//***@')}`;
}

/**
 * What a command of `settle` gets from cli.ts instead of reading the environment itself: the
 * configuration (read when first asked, so that a usage error is reported before a bad
 * configuration) and the database it names. The command closes the database it opened.
 */
export interface CliContext {
  config(): Config;
  openDb(): Db;
}
