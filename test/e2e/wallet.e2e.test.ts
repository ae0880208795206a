// A person's money, in a real browser, in both languages: register -> wallet -> deposit address
// -> paid with `settle dev pay` -> the payment page goes from confirming to credited without a
// reload -> send to another user -> 2FA on -> withdraw with the code -> completed. Each page's
// explanation is the API's own, in that language. One platform and chain for the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { anvilAccount } from '../../src/chain/chain.ts';
import { LANGS, PASSWORD, apiGet, expectAccessible, freshTotp, launchBrowser, newPage, register, shoot, startPlatform, turnOnTwoFactor, type Lang, type Platform } from './e2e-kit.ts';

interface ApiPayment { id: string; status: string; explanation: { message: string; next_action: string } }

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** The page shows the API's explanation (message and next action) of this payment, in its language. */
async function expectExplained(page: Page, id: string): Promise<ApiPayment> {
  let api: ApiPayment | null = null;
  await expect.poll(async () => {
    api = await apiGet<ApiPayment>(page, platform.base, `/api/v1/payments/${id}`);
    const shown = await page.locator('[data-testid=explanation]').textContent();
    const next = await page.locator('[data-testid=next-action]').textContent();
    return shown === api.explanation.message && !!next?.includes(api.explanation.next_action);
  }, { timeout: 15_000 }).toBe(true);
  return api!;
}

describe.each(LANGS)('wallet in %s', (lang: Lang) => {
  const ann = `ann-${lang.toLowerCase()}@example.test`;
  const ben = `ben-${lang.toLowerCase()}@example.test`;
  const usedCodes = new Set<string>();

  it('register, deposit, watch it credit live, send, turn on 2FA, withdraw', async () => {
    const { context, page } = await newPage(browser, lang);
    await page.goto(`${platform.base}/login?lang=${lang}`);
    await page.waitForSelector('input[type=email]');
    await shoot(page, lang, 'login');
    await expectAccessible(page, 'login');
    await page.goto(`${platform.base}/status`);
    await page.waitForSelector('[data-testid=overall-status]');
    await shoot(page, lang, 'status');
    await register(page, platform.base, lang, ann);
    expect(await page.evaluate('document.documentElement.lang')).toBe(lang);

    // Deposit address of USDT, with its QR code, network, minimum and tiers.
    await page.selectOption('select[name=deposit_asset]', 'USDT');
    const address = (await page.locator('[data-testid=deposit-address]').textContent())!.trim();
    expect(address).toMatch(/^0x[0-9a-f]{40}$/);
    await page.locator('svg title').waitFor({ state: 'attached' });
    await shoot(page, lang, 'wallet');
    await expectAccessible(page, 'wallet');

    // Paid from outside; the payment appears, and its page moves by itself.
    await page.evaluate('window.marker = 1');
    // 6000 USDT needs 12 confirmations on the dev chain (1 s blocks): time to watch it confirm.
    await platform.cli('dev', 'pay', address, '6000', 'USDT');
    await page.click('nav a[href="/payments"]');
    const item = page.locator('a[href^="/payments/pay"]').first();
    await item.waitFor({ timeout: 30_000 });
    await shoot(page, lang, 'payments');
    await item.click();
    await page.waitForURL('**/payments/pay*');
    const id = page.url().split('/payments/')[1]!;
    await page.waitForSelector('[data-testid=explanation]');
    const before = await expectExplained(page, id);
    expect(['pending', 'confirming']).toContain(before.status);
    await page.waitForSelector('[data-testid=confirmations]');
    await shoot(page, lang, 'payment-confirming');
    await page.waitForSelector('[data-status=credited]', { timeout: 60_000 });
    expect(await page.evaluate('window.marker')).toBe(1); // no reload
    expect((await expectExplained(page, id)).status).toBe('credited');
    await shoot(page, lang, 'payment');
    await expectAccessible(page, 'payment');

    // Send to another user by email.
    const reg = await page.request.post(`${platform.base}/api/v1/auth/register`, { data: { email: ben, password: PASSWORD, locale: lang } });
    expect(reg.status()).toBe(201);
    // Ben confirms his address with the mailed code: only a confirmed address receives transfers.
    await platform.confirmEmail(ben, PASSWORD);
    await page.click('nav a[href="/wallet"]');
    const send = page.locator('form[aria-label]').nth(0);
    await send.locator('input[name=to_email]').fill(ben);
    await send.locator('select[name=asset]').selectOption('USDT');
    await send.locator('input[name=amount]').fill('25');
    await send.locator('button[type=submit]').click();
    await page.waitForSelector('p[role=status] a[href^="/payments/"]');

    // 2FA on: the step-up asks for the password first, then the QR code and the secret.
    const secret = await turnOnTwoFactor(page, lang, usedCodes);
    await shoot(page, lang, 'security');
    await expectAccessible(page, 'security');

    // Withdraw: review shows the fee and total, then the 2FA code confirms it.
    await page.click('nav a[href="/wallet"]');
    const withdraw = page.locator('form[aria-label]').nth(1);
    await withdraw.locator('select[name=asset]').selectOption('USDT');
    await withdraw.locator('input[name=to_address]').fill(anvilAccount(3).address);
    await withdraw.locator('input[name=amount]').fill('10');
    await withdraw.locator('button[type=submit]').click();
    const confirm = page.locator('form[aria-label]').nth(1);
    await confirm.locator('input[name=totp_code]').fill(await freshTotp(secret, usedCodes));
    await shoot(page, lang, 'withdraw-review');
    await confirm.locator('button[type=submit]').click();
    await page.locator('p[role=status] a[href^="/payments/"]').last().click();
    await page.waitForURL('**/payments/pay*');
    await page.waitForSelector('[data-status=completed]', { timeout: 90_000 });
    expect((await expectExplained(page, page.url().split('/payments/')[1]!)).status).toBe('completed');
    await shoot(page, lang, 'withdrawal');

    // Where is my money: the deposit, diagnosed.
    await page.click('nav a[href="/help"]');
    await page.locator('select[name=payment_id]').waitFor();
    await page.locator('form').nth(1).locator('button[type=submit]').click();
    await page.waitForSelector('[data-testid=verdict]');
    await shoot(page, lang, 'help');
    await expectAccessible(page, 'help');
    await context.close();
  }, 300_000);
});
