// The risk rules page in a real browser, in both languages: a risk staff member (2FA on) edits
// the rule set as JSON on /admin; a bad rule is refused with the API's own words naming the rule,
// beside the editor; a good set is saved as a new version; the decision log lists stored
// decisions (the sign-ins themselves are decided); a backtest of the edited set shows each rule's
// hits. Screenshots and axe in en and zh-CN. One platform for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LANGS, PASSWORD, expectAccessible, launchBrowser, newPage, shoot, signIn, startPlatform, turnOnTwoFactor, type Lang, type Platform } from './e2e-kit.ts';

const staffEmail = (lang: Lang) => `risk-${lang.toLowerCase()}@example.test`;
let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  for (const lang of LANGS) await platform.cli('admin', 'create', '--email', staffEmail(lang), '--password', PASSWORD, '--role', 'risk');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

const rule = (id: string, when: string, action: string, mode = 'active') => ({ id, description: `e2e ${id}`, event: 'withdrawal', when, action, mode });

describe.each(LANGS)('risk rules page in %s', (lang: Lang) => {
  it('edits the rule set (a bad rule named beside the editor), shows the decision log and a backtest', async () => {
    const { context, page } = await newPage(browser, lang);
    await signIn(page, platform.base, staffEmail(lang));
    await page.click(`a[hreflang=${lang}]`);
    await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(lang);
    await turnOnTwoFactor(page, lang, new Set());
    await page.click('nav a[href="/admin"]');
    const editor = page.locator('textarea#risk-rules');
    await editor.waitFor();
    expect(await editor.inputValue()).toContain('large_amount');

    // A rule that reads an unknown fact: refused, the rule named beside the editor, nothing saved.
    const bad = [rule('large_amount', 'over_review_above', 'review'), rule('typo_rule', 'amount_usdd > 1.0', 'review')];
    await editor.fill(JSON.stringify(bad, null, 2));
    await page.locator('form[aria-label] button[type=submit]').filter({ hasText: lang === 'en' ? 'Save rules' : '保存规则' }).click();
    const err = page.locator('#risk-rules-err');
    await err.waitFor();
    expect(await err.textContent()).toContain('typo_rule');
    expect(await editor.getAttribute('aria-invalid')).toBe('true');

    // A good set is saved as the next version.
    const good = [rule('large_amount', 'over_review_above', 'review'), rule('big_usd', 'amount_usd >= 1000.0', 'review'), rule('watch_all', 'true', 'freeze', 'shadow'), { ...rule('new_device_login', 'new_device', 'step_up', 'shadow'), event: 'login' }];
    await editor.fill(JSON.stringify(good, null, 2));
    await page.locator('form[aria-label] button[type=submit]').filter({ hasText: lang === 'en' ? 'Save rules' : '保存规则' }).click();
    await page.locator('p[role=status]').filter({ hasText: lang === 'en' ? 'Saved as version' : '已保存为第' }).waitFor();

    // The decision log: the sign-ins were decided (event login).
    const log = page.locator('section[aria-labelledby=risk-decisions] table tbody tr');
    await expect.poll(() => log.count()).toBeGreaterThan(0);
    expect(await log.first().textContent()).toContain(lang === 'en' ? 'sign-in' : '登录');

    // A backtest of the edited set over the stored decisions.
    await page.locator('section[aria-labelledby=risk-backtest] button[type=submit]').click();
    const rows = page.locator('section[aria-labelledby=risk-backtest] table tbody tr');
    await expect.poll(() => rows.count()).toBe(good.length);
    expect(await rows.nth(3).textContent()).toContain('new_device_login');
    await page.locator('section[aria-labelledby=risk-backtest]').scrollIntoViewIfNeeded();
    await shoot(page, lang, 'admin-risk');
    await expectAccessible(page, 'admin (risk rules)');
    await context.close();
  }, 180_000);
});
