// Support on /help in a real browser, in both languages: a customer opens a case on /help and
// lands on /help/cases/{id}; an agent (2FA on) in a SECOND browser context answers the case
// through the agent API (the /agent console is not built yet); the customer's page shows the
// reply through /stream without a reload. Screenshots of /help and the case, axe on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LANGS, PASSWORD, apiPost, expectAccessible, launchBrowser, newPage, register, shoot, signIn, startPlatform, turnOnTwoFactor, type Lang, type Platform } from './e2e-kit.ts';

let platform: Platform;
let browser: Browser;
const agentEmail = (lang: Lang) => `agent-${lang.toLowerCase()}@example.test`;

beforeAll(async () => {
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  for (const lang of LANGS) await platform.cli('admin', 'create', '--email', agentEmail(lang), '--password', PASSWORD, '--role', 'agent');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe.each(LANGS)('support pages in %s', (lang: Lang) => {
  it('a customer opens a case on /help and sees the agent\'s reply without reload', async () => {
    const tag = lang.toLowerCase();
    const customer = await newPage(browser, lang);
    const page = customer.page;
    await register(page, platform.base, lang, `carol-${tag}@example.test`);
    await page.goto(`${platform.base}/help`);
    await page.fill('[data-testid=open-case] input[name=subject]', 'Deposit missing');
    await page.fill('[data-testid=open-case] textarea[name=body]', 'I sent 10 USDT an hour ago.');
    await expectAccessible(page, '/help');
    await shoot(page, lang, 'support-help');
    await page.locator('[data-testid=open-case] button[type=submit]').click();
    await page.waitForURL(/\/help\/cases\/[^/]+$/);
    const caseId = page.url().split('/').pop()!;
    await expect.poll(() => page.locator('[data-testid=message]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=chat]').textContent()).toContain('I sent 10 USDT an hour ago.');

    // The agent, in another browser context (its own cookies), answers.
    const agent = await newPage(browser, lang);
    await signIn(agent.page, platform.base, agentEmail(lang));
    await agent.page.click(`a[hreflang=${lang}]`);
    await turnOnTwoFactor(agent.page, lang, new Set());
    const r = await apiPost<unknown>(agent.page, platform.base, `/api/v1/agent/cases/${caseId}/messages`, { body: 'We found your deposit; it is on its way.' });
    expect(r.status).toBe(201);

    await page.locator('[data-author=agent]', { hasText: 'We found your deposit' }).waitFor({ timeout: 30_000 });
    await expectAccessible(page, '/help/cases/{id}');
    await shoot(page, lang, 'support-case');
    await page.goto(`${platform.base}/help`);
    await page.locator('[data-testid=case-list]').waitFor();
    await shoot(page, lang, 'support-help-cases');
    await agent.context.close();
    await customer.context.close();
  }, 180_000);
});
