// The security page's credentials and the phone-width frame, in a real browser, in both
// languages: a person changes their password (a weak one is refused with the API's own words,
// beside the field), signs in again with the new one, changes their email (a taken one is refused
// the same way), confirms the new address with the mailed code, and sees each change in their
// security log; on a 390 px wide screen the navigation folds behind a menu button that works
// from the keyboard and shows every link without sideways scrolling. One platform for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { LANGS, PASSWORD, SHOTS_DIR, apiGet, apiPost, expectAccessible, launchBrowser, newPage, register, shoot, signIn, startPlatform, type Lang, type Platform } from './e2e-kit.ts';
import { join } from 'node:path';

interface Me { id: string; email: string; email_verified: boolean }
interface Problem { code: string; detail: string }
interface Events { data: Array<{ action: string }> }

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

/** Submits the credentials form that holds `field`, answering the step-up prompt with `password` if it asks. */
async function submitCredential(page: Page, field: string, value: string, password: string): Promise<void> {
  await page.fill(`input[name=${field}]`, value);
  await page.locator(`input[name=${field}]`).press('Enter');
  const factor = page.locator('input[name=factor]');
  if (await factor.waitFor({ timeout: 3_000 }).then(() => true, () => false)) {
    await factor.fill(password);
    await factor.press('Enter');
  }
}

describe.each(LANGS)('security page in %s', (lang: Lang) => {
  const tag = lang.toLowerCase();

  it('password and email change, with the API\'s own refusals and the mailed confirmation code', async () => {
    const { context, page } = await newPage(browser, lang);
    const email = `pat-${tag}@example.test`;
    const taken = `taken-${tag}@example.test`;
    await platform.cli('admin', 'create', '--email', taken, '--password', PASSWORD, '--role', 'merchant');
    await register(page, platform.base, lang, email);
    await page.click('nav a[href="/security"]');

    // A common password: refused beside the field, in the API's words and language.
    await submitCredential(page, 'new_password', 'password123', PASSWORD);
    const weakShown = page.locator('input[name=new_password][aria-invalid=true]');
    await weakShown.waitFor();
    const weak = await apiPost<Problem>(page, platform.base, '/api/v1/me/password', { new_password: 'password123' });
    expect([weak.status, weak.body.code]).toEqual([400, 'weak_password']);
    const describedBy = (await weakShown.getAttribute('aria-describedby'))!;
    expect(await text(page, `[id="${describedBy.split(' ').find((id) => id.endsWith('-err'))}"]`)).toBe(weak.body.detail);

    // A good one: done; the old password no longer signs in, the new one does.
    const newPassword = `${PASSWORD} and more ${tag}`;
    await submitCredential(page, 'new_password', newPassword, PASSWORD);
    await expect.poll(() => text(page, '[data-testid=credentials-done]')).toBe(lang === 'en' ? 'Password changed.' : '密码已修改。');
    await expect.poll(async () => (await apiGet<Events>(page, platform.base, '/api/v1/me/security-events')).data.some((e) => e.action === 'password_changed')).toBe(true);
    await page.locator('table', { hasText: lang === 'en' ? 'Password changed' : '修改密码' }).waitFor();
    const old = await page.request.post(`${platform.base}/api/v1/auth/login`, { data: { email, password: PASSWORD } });
    expect(old.status()).toBe(401);

    // Email: a taken address is refused beside the field, in the API's words.
    await submitCredential(page, 'new_email', taken, newPassword);
    const takenShown = page.locator('input[name=new_email][aria-invalid=true]');
    await takenShown.waitFor();
    const refusal = await apiPost<Problem>(page, platform.base, '/api/v1/me/email', { new_email: taken });
    expect([refusal.status, refusal.body.code]).toEqual([409, 'email_taken']);
    expect(await page.locator('input[name=new_email] ~ small[role=alert]').textContent()).toBe(refusal.body.detail);

    // A free one: changed, unconfirmed until the mailed code is entered.
    const moved = `pat-moved-${tag}@example.test`;
    await submitCredential(page, 'new_email', moved, newPassword);
    await page.locator('[data-testid=email-confirm]').waitFor();
    const me = await apiGet<Me>(page, platform.base, '/api/v1/me');
    expect([me.email, me.email_verified]).toEqual([moved, false]);
    expect(await page.locator('footer').textContent()).toContain(moved);
    await shoot(page, lang, 'security-email-confirm');
    await expectAccessible(page, 'security (email to confirm)');
    // A wrong code first: the API's words beside the field; then the mailed one.
    await page.fill('input[name=email_code]', '000000');
    await page.locator('input[name=email_code]').press('Enter');
    await page.locator('input[name=email_code][aria-invalid=true]').waitFor();
    await page.fill('input[name=email_code]', await platform.mailedCode(moved));
    await page.locator('input[name=email_code]').press('Enter');
    await page.locator('[data-testid=email-confirm]').waitFor({ state: 'detached' });
    expect((await apiGet<Me>(page, platform.base, '/api/v1/me')).email_verified).toBe(true);
    await page.locator('table', { hasText: lang === 'en' ? 'Email changed' : '修改邮箱' }).waitFor();
    await shoot(page, lang, 'security-credentials-changed');
    await expectAccessible(page, 'security');

    // Signed out, the new email and password sign in.
    await context.clearCookies();
    await signIn(page, platform.base, moved, newPassword);
    expect((await apiGet<Me>(page, platform.base, '/api/v1/me')).email).toBe(moved);
    await context.close();
  }, 180_000);

  it('at 390 px the navigation is a menu button that opens every link, from the keyboard', async () => {
    const { context, page } = await newPage(browser, lang);
    await register(page, platform.base, lang, `phil-${tag}@example.test`);
    await page.setViewportSize({ width: 390, height: 844 });
    const button = page.locator('button[aria-controls=main-nav]');
    const nav = page.locator('nav#main-nav');
    await button.waitFor();
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    const noSideways = () => page.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
    expect(await noSideways()).toBe(true);

    // Keyboard: Tab reaches the button, Enter opens the menu, every entry lies inside the screen.
    await page.locator('a[hreflang]').last().focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-controls")')).toBe('main-nav');
    await page.keyboard.press('Enter');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    const entries = nav.locator('a, button');
    const labels = await entries.allTextContents();
    expect(labels).toContain(lang === 'en' ? 'Status' : '服务状态');
    expect(labels).toContain(lang === 'en' ? 'Sign out' : '退出登录');
    for (let i = 0; i < labels.length; i++) {
      const box = (await entries.nth(i).boundingBox())!;
      expect(box.x >= 0 && box.x + box.width <= 390, `${labels[i]} inside the screen`).toBe(true);
    }
    expect(await noSideways()).toBe(true);
    await page.screenshot({ path: join(SHOTS_DIR, lang, 'nav-open-phone.png') });
    await expectAccessible(page, 'menu open at phone width');

    // Escape closes it and gives focus back to the button; a link closes it too.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-controls")')).toBe('main-nav');
    await button.click();
    await nav.locator('a[href="/status"]').click();
    await page.waitForURL('**/status');
    await expect.poll(() => button.getAttribute('aria-expanded')).toBe('false');
    expect(await noSideways()).toBe(true);
    await context.close();
  }, 120_000);
});
