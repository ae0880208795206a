// Browser tests against the real platform: `settle start` in a child process on a fresh data
// dir (no chain configured, so it runs the local dev chain: a real anvil with the test USDT),
// Debian's chromium driven by playwright-core, `settle dev pay` as the outside payer.
// Screenshots go to test-artifacts/screenshots/<lang>/<page>-<desktop|phone>.png (git-ignored,
// kept by CI). axe-core is evaluated in the page through the DevTools protocol, which the app's
// CSP does not govern, so the CSP stays on while it runs.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ensureWebBuilt } from '../../src/web/web-build.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const SHOTS_DIR = join(ROOT, 'test-artifacts', 'screenshots');
export const PASSWORD = 'correct horse battery staple 9';
export type Lang = 'en' | 'zh-CN';
export const LANGS: Lang[] = ['en', 'zh-CN'];
const run = promisify(execFile);
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Platform {
  base: string;
  /** Runs `settle <args>` against this platform's data dir -> stdout. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startPlatform(): Promise<Platform> {
  await ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'settle-e2e-'));
  const port = await freePort();
  const env = { ...process.env, SETTLE_DATA_DIR: dir, SETTLE_PORT: String(port) };
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'settle.mjs'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`settle start exited: ${log}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() - t0 > 90_000) throw new Error(`settle start did not get ready: ${log}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    base,
    async cli(...args) {
      const r = await run(process.execPath, [join(ROOT, 'bin', 'settle.mjs'), ...args], { env, timeout: 60_000 });
      return r.stdout;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => { clearTimeout(force); resolve(); });
        if (child.exitCode !== null) resolve();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
}

export async function newPage(browser: Browser, lang: Lang): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: lang, timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
  return { context, page };
}

/** Full-page screenshots at desktop and phone width, then back to desktop. */
export async function shoot(page: Page, lang: Lang, name: string): Promise<void> {
  const dir = join(SHOTS_DIR, lang);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(dir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2 A/AA rules on the page as it is now: no violation allowed. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  await page.evaluate(`${AXE_SOURCE}\n;0`);
  // A string, evaluated in the page (the test's TypeScript has no DOM types).
  const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
    .then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => JSON.stringify(n.target)).join(', ')))`)) as string[];
  expect(violations, `axe on ${where}`).toEqual([]);
}

/** Signs up through the register page (in `lang`), which signs in and lands on the wallet. */
export async function register(page: Page, base: string, lang: Lang, email: string): Promise<void> {
  await page.goto(`${base}/register?lang=${lang}`);
  await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(lang);
  await page.fill('input[type=email]', email);
  await page.fill('input[type=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL('**/wallet');
}

export async function signIn(page: Page, base: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[type=email]', email);
  await page.fill('input[type=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** GET an API path with the page's own cookie session (as the app would). */
export async function apiGet<T>(page: Page, base: string, path: string): Promise<T> {
  const res = await page.request.get(`${base}${path}`, { headers: { accept: 'application/json' } });
  expect(res.status(), path).toBe(200);
  return (await res.json()) as T;
}

/** A TOTP code not used before (a code is accepted once): waits for the next 30 s step if needed. */
export async function freshTotp(secret: string, used: Set<string>): Promise<string> {
  const { totpCode } = await import('../helpers/accounts-testkit.ts');
  for (;;) {
    const code = totpCode(secret, Date.now());
    if (!used.has(code) && 30_000 - (Date.now() % 30_000) > 3_000) {
      used.add(code);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
