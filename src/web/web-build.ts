// Builds the web app when web/dist is missing or older than its sources, so that `npm install
// && npm start` on a fresh clone (or after a `git pull`) serves the app that matches the code
// (docs/decisions/0012-web-app-build.md). The sources' content hash is kept in dist/.source-hash.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type * as Vite from 'vite';

export const WEB_DIR = join(import.meta.dirname, '..', '..', 'web');
export const WEB_DIST = join(WEB_DIR, 'dist');
const STAMP = '.source-hash';
const SKIP = new Set(['dist', 'node_modules']);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (SKIP.has(name) || name.startsWith('dist-') || name.endsWith('.test.ts') || name.endsWith('.test.tsx')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else out.push(path);
  }
  return out;
}

/** A hash of every source file of web/ (paths and contents): the build it would produce. */
export function webSourceHash(dir = WEB_DIR): string {
  const h = createHash('sha256');
  for (const file of sourceFiles(dir)) h.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  return h.digest('hex');
}

export function webBuildIsCurrent(dir = WEB_DIR): boolean {
  const stamp = join(dir, 'dist', STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === webSourceHash(dir);
}

/**
 * Builds into a fresh folder and swaps it in, so that a server reading dist never sees half a
 * build. Returns what happened; 'unavailable' when Vite is not installed (production install
 * without dev dependencies and a dist built elsewhere).
 */
export async function ensureWebBuilt(log: (msg: string) => void = () => undefined, dir = WEB_DIR): Promise<'current' | 'built' | 'unavailable'> {
  if (webBuildIsCurrent(dir)) return 'current';
  return buildWeb(log, dir);
}

/** Builds web/ into web/dist now, stale or not (npm run build:web). */
export async function buildWeb(log: (msg: string) => void = () => undefined, dir = WEB_DIR): Promise<'built' | 'unavailable'> {
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    log('web app: Vite is not installed; serving the existing build (if any)');
    return 'unavailable';
  }
  const hash = webSourceHash(dir);
  const tmp = join(dir, `dist-${process.pid}-${Date.now()}`);
  log('web app: building…');
  // Always a production bundle, also when the caller runs under NODE_ENV=test (vitest): the
  // React plugin picks its JSX runtime from NODE_ENV itself, so `mode` alone is not enough.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await vite.build({ configFile: join(dir, 'vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(join(tmp, STAMP), `${hash}\n`);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  renameSync(tmp, join(dir, 'dist'));
  return 'built';
}
