// Shared set-up for the SIGKILL crash tests: a settle.config.json for a real anvil, the child
// platform process (platform-child.ts) started and killed by pid, and the `settle` CLI run as a
// child over the same database; crashWorlds() starts all of it per test and stops it afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { loadConfig, type ChainConfigFile } from '../../src/config.ts';
import { createPlatform, stopBackground, type Platform } from '../../src/platform.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { mine, startChainEnv, type ChainEnv } from '../helpers/deposit-testkit.ts';
import type { Dialect } from '../../src/db/database.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

/** The environment minus every SETTLE_ variable of the test run (the config refuses unknown ones). */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SETTLE_') && !k.startsWith('CRASH_')));
  return { ...clean, SETTLE_LOG_LEVEL: 'warn', ...env };
}

export interface PlatformFiles {
  dir: string;
  /** SETTLE_DATA_DIR, SETTLE_CONFIG (and the database, from the test db's env). */
  env: Record<string, string>;
  cleanup(): void;
}

/** A data dir and a config file with this chain and a rate limit no test reaches. */
export function platformFiles(chain: ChainConfigFile, dbEnv: Record<string, string>, extra: Record<string, string> = {}): PlatformFiles {
  const dir = mkdtempSync(join(tmpdir(), 'settle-crash-'));
  const config = join(dir, 'settle.config.json');
  writeFileSync(config, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, chains: [chain] }, null, 2));
  return { dir, env: { SETTLE_DATA_DIR: dir, SETTLE_CONFIG: config, ...dbEnv, ...extra }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Child {
  process: ChildProcess;
  /** Resolves with the port (CRASH_SERVE=1) or 0 once the child printed `started`. */
  ready: Promise<number>;
  /** Resolves when the process is gone, with the signal that ended it. */
  exited: Promise<NodeJS.Signals | null>;
  output(): string;
  kill(): Promise<void>;
}

/** Starts test/crash/platform-child.ts with these variables; kill() is SIGKILL by pid. */
export function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'platform-child.ts')], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
  const ready = new Promise<number>((resolve, reject) => {
    let port = 0;
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) port = Number(m[1]);
      if (/^started$/m.test(out)) resolve(port);
    });
    void exited.then((signal) => reject(new Error(`child exited (${signal}) before it started:\n${out.slice(-3000)}`)));
  });
  ready.catch(() => undefined);
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return {
    process: proc,
    ready,
    exited,
    output: () => out,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** `settle <args>` over the same files; -> exit code and output. */
export function settle(args: string[], env: Record<string, string>): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['bin/settle.mjs', ...args], { cwd: ROOT, env: childEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One crash test's world: a database, an anvil chain, the child processes' files, and the test's own platform (no workers). */
export interface CrashWorld {
  t: TestDb;
  env: ChainEnv;
  files: PlatformFiles;
  platform: Platform;
}

/**
 * Call in a describe: open() starts a world, child() a platform child, miner() mines a block every
 * interval; after each test everything started through it is stopped (newest first), also when
 * the test failed.
 */
export function crashWorlds() {
  const stops: Array<() => unknown> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return {
    async open(dialect: Dialect, chain: (c: ChainConfigFile) => ChainConfigFile = (c) => c): Promise<CrashWorld> {
      const t = await openTestDb(dialect);
      stops.push(() => t.cleanup());
      const env = await startChainEnv({});
      stops.push(() => env.stop());
      const files = platformFiles(chain(env.chain), t.env);
      stops.push(() => files.cleanup());
      const platform = await createPlatform(loadConfig(files.env, files.dir), t.db, { clock: systemClock });
      stops.push(() => stopBackground(platform));
      return { t, env, files, platform };
    },
    child(env: Record<string, string>): Child {
      const c = startChild(env);
      stops.push(() => c.kill());
      return c;
    },
    /** Mines a block every interval until the returned stop is called (or the test ends). */
    miner(world: CrashWorld, interval_ms: number): () => void {
      const timer = setInterval(() => void mine(world.env.client, 1).catch(() => undefined), interval_ms);
      const stop = () => clearInterval(timer);
      stops.push(stop);
      return stop;
    },
  };
}
