// Accounts in a real browser, in both languages: a person freezes their own account and the
// pages say why (the API's own words) and how to get it unfrozen; staff unfreeze and freeze
// them from /admin; a merchant creates an API key (shown once) and an invoice, which settles
// when paid with `settle dev pay`. One platform and chain for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LANGS, PASSWORD, apiGet, expectAccessible, launchBrowser, newPage, register, shoot, signIn, startPlatform, turnOnTwoFactor, type Lang, type Platform } from './e2e-kit.ts';

interface Me { id: string; status: string; freezes: Array<{ message: string }> }
const staffEmail = (lang: Lang) => `ops-${lang.toLowerCase()}@example.test`;
let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  // One staff account per language: each turns 2FA on once (staff pages answer only staff with 2FA on).
  for (const lang of LANGS) await platform.cli('admin', 'create', '--email', staffEmail(lang), '--password', PASSWORD, '--role', 'admin');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe.each(LANGS)('accounts in %s', (lang: Lang) => {
  const tag = lang.toLowerCase();

  it('a frozen account shows why and the unfreeze path; staff unfreeze and freeze it', async () => {
    const { context, page } = await newPage(browser, lang);
    await register(page, platform.base, lang, `cal-${tag}@example.test`);
    await page.click('nav a[href="/security"]');
    await page.locator('button', { hasText: lang === 'en' ? 'Freeze my account' : '冻结我的账户' }).click();
    await page.locator('form[aria-label] button[type=submit]').first().click();
    const notice = page.locator('[data-testid=freeze-message]').first();
    await notice.waitFor();
    const me = await apiGet<Me>(page, platform.base, '/api/v1/me');
    expect(me.status).toBe('frozen');
    expect(await notice.textContent()).toBe(me.freezes[0]!.message);
    await page.locator('#unfreeze ~ form button[type=submit]').click();
    await page.locator('[data-testid=unfreeze-request] li').first().waitFor();
    await shoot(page, lang, 'security-frozen');
    await expectAccessible(page, 'security (frozen)');
    await page.click('nav a[href="/wallet"]');
    await page.locator('[data-testid=freeze-message]').first().waitFor();
    await shoot(page, lang, 'wallet-frozen');

    // Staff: find the user, unfreeze on their word, freeze again.
    const staff = await newPage(browser, lang);
    await signIn(staff.page, platform.base, staffEmail(lang));
    await staff.page.click(`a[hreflang=${lang}]`);
    await expect.poll(() => staff.page.evaluate('document.documentElement.lang')).toBe(lang);
    // Staff turn 2FA on first; that step-up also covers the staff actions below (15 minutes).
    await turnOnTwoFactor(staff.page, lang, new Set());
    await staff.page.click('nav a[href="/admin"]');
    // Found by the start of the email (GET /admin/users?q=): the one match opens by itself.
    await staff.page.fill('input[name=q]', `cal-${tag}@`);
    await staff.page.locator('input[name=q]').press('Enter');
    await staff.page.locator(`[data-user="${me.id}"]`).waitFor();
    const status = staff.page.locator('[data-testid=admin-user-status]');
    await expect.poll(() => status.textContent()).toBe(lang === 'en' ? 'Frozen' : '已冻结');
    const actions = staff.page.locator('[data-testid=admin-user]');
    await actions.locator('form[aria-label] input[name=reason]').first().fill('checked with the customer by phone');
    await actions.locator('form[aria-label] button[type=submit]').first().click();
    await expect.poll(() => status.textContent()).toBe(lang === 'en' ? 'Active' : '正常');
    expect((await apiGet<Me>(page, platform.base, '/api/v1/me')).status).toBe('active');
    await shoot(staff.page, lang, 'admin');
    await expectAccessible(staff.page, 'admin');
    await actions.locator('form[aria-label] select[name=reason]').selectOption('abnormal_activity');
    await actions.locator('form[aria-label] button[type=submit]').first().click();
    await expect.poll(() => status.textContent()).toBe(lang === 'en' ? 'Frozen' : '已冻结');
    await staff.context.close();
    await context.close();
  }, 180_000);

  it('an expired session goes to sign-in, then back to the page', async () => {
    const { context, page } = await newPage(browser, lang);
    const email = `eve-${tag}@example.test`;
    await register(page, platform.base, lang, email);
    await page.click('nav a[href="/payments"]');
    await page.waitForURL('**/payments');
    await context.clearCookies({ name: 'settle_session' });
    // The next API call answers 401 (a filter change, or the page's own refresh if it is first).
    await page.selectOption('select[name=kind]', 'deposit', { timeout: 2_000 }).catch(() => undefined);
    await page.waitForURL((u) => u.pathname === '/login' && (u.searchParams.get('next') ?? '').startsWith('/payments'));
    await page.fill('input[type=email]', email);
    await page.fill('input[type=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/payments');
    await context.close();
  }, 120_000);

  it('a merchant creates an API key and an invoice, and sees it settle', async () => {
    const { context, page } = await newPage(browser, lang);
    await register(page, platform.base, lang, `mia-${tag}@example.test`);
    await page.click('nav a[href="/merchant"]');
    await page.fill('input[name=name]', 'shop');
    await page.locator('input[name=name]').press('Enter');
    await page.locator('input[name=factor]').fill(PASSWORD);
    await page.locator('input[name=factor]').press('Enter');
    const key = page.locator('[data-testid=api-key]');
    await key.waitFor();
    expect(await key.textContent()).toMatch(/^sk_/);
    await page.selectOption('select[name=asset]', 'USDT');
    await page.fill('input[name=amount]', '15');
    await page.fill('input[name=order_id]', `order-${tag}`);
    await page.locator('input[name=order_id]').press('Enter');
    const row = page.locator('tr[data-invoice]').first();
    await row.waitFor();
    const invoices = await apiGet<{ data: Array<{ id: string; address: string; status: string }> }>(page, platform.base, '/api/v1/invoices?limit=1');
    expect(invoices.data[0]!.status).toBe('new');
    await platform.cli('dev', 'pay', invoices.data[0]!.address, '15', 'USDT');
    await row.locator('[data-status=settled]').waitFor({ timeout: 60_000 }).catch(async (e: unknown) => {
      await shoot(page, lang, 'merchant-failed');
      throw e;
    });
    await shoot(page, lang, 'merchant');
    await expectAccessible(page, 'merchant');
    await context.close();
  }, 180_000);
});
