// A merchant's webhooks and "where is my money", in a real browser, in both languages. Webhooks:
// an endpoint pointing at a local HTTP receiver (which first answers 500), a real deposit on the
// dev chain makes messages, the delivery log shows the failed attempt as the API reports it, and
// "deliver again" gets the message to the receiver, signed with the secret the page showed once.
// Help: the hash of a real anvil transaction to the person's deposit address is diagnosed on the
// page in the API's own words with the chain's view; an unknown hash gets the API's "not found".
// One platform and chain for the file.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { LANGS, apiGet, apiPost, expectAccessible, launchBrowser, newPage, register, shoot, startPlatform, type Lang, type Platform } from './e2e-kit.ts';

interface Received { id: string; timestamp: string; signature: string; body: string; answered: number }
interface Messages { data: Array<{ id: string; type: string; status: string; attempts: Array<{ status_code: number | null }> }> }
interface Diagnosis { verdict: string; explanation: { message: string; next_action: string }; chain: { found: boolean; to: string | null } | null }

let platform: Platform;
let browser: Browser;
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];
let answer = 500;

beforeAll(async () => {
  // The merchant's server: records every delivery and answers with `answer`.
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']), body, answered: answer });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed by the secret after whsec_. */
function signed(r: Received, secret: string): boolean {
  const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${r.id}.${r.timestamp}.${r.body}`).digest('base64');
  return r.signature.split(' ').includes(`v1,${expected}`);
}

describe.each(LANGS)('merchant and help pages in %s', (lang: Lang) => {
  const tag = lang.toLowerCase();

  it('a webhook endpoint\'s delivery log and "deliver again", against a local receiver', async () => {
    const { context, page } = await newPage(browser, lang);
    await register(page, platform.base, lang, `hugo-${tag}@example.test`);
    await page.click('nav a[href="/merchant"]');
    answer = 500;
    const url = `${receiverUrl}/hooks/${tag}`;
    await page.fill('input[name=url]', url);
    await page.locator('input[name=url]').press('Enter');
    const secret = (await page.locator('[data-testid=webhook-secret]').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const endpoints = await apiGet<{ data: Array<{ id: string; url: string }> }>(page, platform.base, '/api/v1/webhook-endpoints');
    const endpoint = endpoints.data.find((e) => e.url === url)!;

    // A real deposit makes payment events; the receiver refuses them at first.
    const { body: deposit } = await apiPost<{ address: string }>(page, platform.base, '/api/v1/deposit-addresses', { asset: 'USDT' });
    await platform.cli('dev', 'pay', deposit.address, '2', 'USDT');
    await expect.poll(() => received.filter((r) => r.answered === 500).length, { timeout: 60_000 }).toBeGreaterThan(0);
    await page.locator('button[aria-expanded]', { hasText: lang === 'en' ? 'Deliveries' : '投递记录' }).click();
    const oldest = page.locator('li[data-message]').last();
    await oldest.waitFor({ timeout: 30_000 });
    const id = (await oldest.getAttribute('data-message'))!;
    const first = page.locator(`li[data-message="${id}"]`);
    // What the page says of it is what the API says: retried, last answered 500.
    const apiMessage = async () => (await apiGet<Messages>(page, platform.base, `/api/v1/webhook-endpoints/${endpoint.id}/messages?limit=20`)).data.find((m) => m.id === id)!;
    expect((await apiMessage()).attempts[0]!.status_code).toBe(500);
    await expect.poll(async () => {
      const attempts = (await apiMessage()).attempts;
      return (await first.locator('[data-testid=last-attempt]').textContent())?.endsWith(String(attempts[attempts.length - 1]!.status_code));
    }).toBe(true);
    await expect.poll(() => first.getAttribute('data-status')).toBe((await apiMessage()).status);
    await shoot(page, lang, 'merchant-webhooks-failing');

    // The receiver is fixed; "deliver again" gets this message there, signed with the shown secret.
    answer = 200;
    const before = received.filter((r) => r.id === id).length;
    await first.locator('button', { hasText: lang === 'en' ? 'Deliver again' : '重新投递' }).click();
    await expect.poll(() => received.filter((r) => r.id === id && r.answered === 200).length, { timeout: 30_000 }).toBeGreaterThan(0);
    expect(received.filter((r) => r.id === id).length).toBeGreaterThan(before);
    expect(received.filter((r) => r.id === id).every((r) => signed(r, secret))).toBe(true);
    await expect.poll(() => first.getAttribute('data-status'), { timeout: 15_000 }).toBe('delivered');
    expect((await apiMessage()).status).toBe('delivered');
    expect(await first.locator('[data-testid=message-status]').textContent()).toBe(lang === 'en' ? 'Delivered' : '已送达');
    await shoot(page, lang, 'merchant-webhooks');
    await expectAccessible(page, 'merchant (webhook deliveries)');
    await context.close();
  }, 180_000);

  it('"where is my money": a real transaction hash, diagnosed with the chain\'s view', async () => {
    const { context, page } = await newPage(browser, lang);
    await register(page, platform.base, lang, `hana-${tag}@example.test`);
    const { body: deposit } = await apiPost<{ address: string }>(page, platform.base, '/api/v1/deposit-addresses', { asset: 'USDT' });
    const out = await platform.cli('dev', 'pay', deposit.address, '4', 'USDT');
    const hash = /tx (0x[0-9a-f]{64})/.exec(out)![1]!;
    await page.click('nav a[href="/help"]');

    // The verdict moves (confirming -> credited) while we look: ask until page and API agree.
    const diagnoseOnPage = async (txHash: string): Promise<boolean> => {
      await page.fill('input[name=tx_hash]', txHash);
      await page.locator('input[name=tx_hash]').press('Enter');
      await page.locator('[data-testid=diagnosis-message]').waitFor();
      await page.waitForTimeout(300);
      const api = await apiPost<Diagnosis>(page, platform.base, '/api/v1/diagnose', { tx_hash: txHash });
      expect(api.status).toBe(200);
      const shown = await page.locator('[data-testid=diagnosis-message]').textContent();
      const next = await page.locator('[data-testid=diagnosis-next]').textContent();
      const to = api.body.chain?.to ? await page.locator('[data-testid=chain-to]').textContent() : null;
      return shown === api.body.explanation.message && next === api.body.explanation.next_action && to === (api.body.chain?.to ?? null);
    };
    await expect.poll(() => diagnoseOnPage(hash), { timeout: 30_000 }).toBe(true);
    expect((await page.locator('[data-testid=chain-to]').textContent())!.toLowerCase()).toBe(deposit.address.toLowerCase());
    expect(await page.locator('[data-testid=chain-found]').textContent()).toBe(lang === 'en' ? 'Yes' : '是');
    await shoot(page, lang, 'help-tx-hash');
    await expectAccessible(page, 'help (diagnosis)');

    // A hash the chain never saw: the API's own "not found", in this language.
    const unknown = `0x${'ab'.repeat(32)}`;
    await expect.poll(() => diagnoseOnPage(unknown)).toBe(true);
    expect(await page.locator('[data-testid=verdict]').getAttribute('data-verdict')).toBe('not_found');
    await context.close();
  }, 180_000);
});
