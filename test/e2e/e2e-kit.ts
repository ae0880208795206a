// Browser tests against the real platform: `settle start` in a child process on a fresh data
// dir (no chain configured, so it runs the local dev chain: a real anvil with the test USDT),
// Debian's chromium driven by playwright-core, `settle dev pay` as the outside payer.
// Screenshots go to test-artifacts/screenshots/<lang>/<page>-<desktop|phone>.png (git-ignored,
// kept by CI). axe-core is evaluated in the page through the DevTools protocol, which the app's
// CSP does not govern, so the CSP stays on while it runs.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export { launchBrowser, startPlatform, type Platform } from './platform-kit.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const SHOTS_DIR = join(ROOT, 'test-artifacts', 'screenshots');
export const PASSWORD = 'correct horse battery staple 9';
export type Lang = 'en' | 'zh-CN';
export const LANGS: Lang[] = ['en', 'zh-CN'];
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

/** A POST to the API with the page's own cookie session and CSRF header (as the app would) -> status and body. */
export async function apiPost<T>(page: Page, base: string, path: string, body: unknown): Promise<{ status: number; body: T }> {
  const csrf = (await page.context().cookies(base)).find((c) => c.name === 'settle_csrf')?.value ?? '';
  const res = await page.request.post(`${base}${path}`, { headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf }, data: JSON.stringify(body) });
  return { status: res.status(), body: (await res.json()) as T };
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

/**
 * Turns 2FA on from the security page: the step-up asks for the password, then the page shows
 * the secret, and a code from it turns TOTP on (10 recovery codes shown). The session stays
 * stepped up for 15 minutes -> the secret. Staff must do this before any staff page answers them.
 */
export async function turnOnTwoFactor(page: Page, lang: Lang, used: Set<string>): Promise<string> {
  await page.click('nav a[href="/security"]');
  await page.locator('form button[type=submit]').filter({ hasText: lang === 'en' ? 'Set up 2FA' : '设置两步验证' }).click();
  await page.locator('input[name=factor]').fill(PASSWORD);
  await page.locator('input[name=factor]').press('Enter');
  const secret = (await page.locator('[data-testid=totp-secret]').textContent())!.trim();
  await page.locator('input[name=code]').fill(await freshTotp(secret, used));
  await page.locator('input[name=code]').press('Enter');
  await expect.poll(() => page.locator('[data-testid=recovery-codes] li').count()).toBe(10);
  return secret;
}
