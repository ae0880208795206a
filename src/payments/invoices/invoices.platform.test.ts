// Goal: invoices are wired into the real platform: real API keys (scopes) and sessions
// authenticate, a key without invoices:write is refused, the merchant's key creates an invoice
// whose address comes from the deposit mnemonic's invoice account, the expiry job is registered,
// and the checkout page is served at /checkout/{id} outside /api/v1.
// Method: createPlatform + buildPlatformApp (startTestPlatform) with a chain config file and a
// mnemonic, app.inject(); the scanner's cursor row stands in for a chain head (no RPC needed).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { startInvoicePlatform } from '../../../test/helpers/invoice-platform.ts';
import { bearer, type TestPlatform } from '../../../test/helpers/accounts-testkit.ts';
import { ANVIL_TEST_MNEMONIC } from '../../../test/helpers/anvil.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../chain/chain.ts';

const PW = 'correct horse battery staple 9';

describe.each(DIALECTS)('invoices in the platform on %s', (dialect) => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await startInvoicePlatform(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  async function keyWith(scopes: string[]): Promise<string> {
    const u = await t.platform.accounts.createUserWithRoles(`m${Math.random().toString(36).slice(2)}@example.test`, PW, []);
    const s = await t.platform.accounts.issueSessionForTests(u.id);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(s.token), payload: { password: PW } })).statusCode).toBe(204);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop', scopes } });
    expect(res.statusCode).toBe(201);
    return res.json().key as string;
  }

  it('a real key with invoices:write creates; without it 403; another merchant 404; checkout page served', async () => {
    const key = await keyWith(['invoices:write', 'invoices:read', 'payments:read']);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(key), 'idempotency-key': 'i1' }, payload: { asset: 'ETH', amount: '0.5', expires_in_s: 60 } });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv.address).toBe(createDepositKeys(ANVIL_TEST_MNEMONIC, INVOICE_PATH_PREFIX).address(0));
    expect(inv.checkout_url).toBe(`https://shop.example.test/checkout/${inv.id}`);
    expect(inv.payment_uri).toBe(`ethereum:${inv.address}@31337?value=500000000000000000`);

    const readOnly = await keyWith(['invoices:read']);
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(readOnly), 'idempotency-key': 'i2' }, payload: { asset: 'ETH', amount: '1' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('insufficient_scope');
    expect((await t.app.inject({ url: `/api/v1/invoices/${inv.id}`, headers: bearer(readOnly) })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v1/invoices/${inv.id}`, headers: bearer(key) })).json().status).toBe('new');

    const openapi = (await t.app.inject({ url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/v1/invoices', '/api/v1/invoices/{id}', '/api/v1/invoices/{id}/mark', '/api/v1/invoices/{id}/refund', '/api/v1/checkout/{id}/status', '/checkout/{id}']));
    const page = await t.app.inject({ url: `/checkout/${inv.id}?lang=zh-CN` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('请向以下地址转账 0.5 ETH');

    // The expiry job is registered in the platform's runner.
    t.clock.advance(61_000);
    await t.drainJobs();
    expect((await t.app.inject({ url: `/api/v1/invoices/${inv.id}`, headers: bearer(key) })).json().status).toBe('expired');

    // Invoice events reach the merchant's event feed (and webhooks) through the dispatcher.
    t.clock.advance(20_000); // past the outbox's gap safety window
    await t.platform.payments!.webhooks.dispatchTick();
    const feed = await t.app.inject({ url: '/api/v1/events', headers: bearer(key) });
    const mine = feed.json().data.filter((e: { type: string }) => e.type.startsWith('invoice.'));
    expect(mine.map((e: { type: string }) => e.type)).toEqual(['invoice.new', 'invoice.expired']);
    expect(mine[1].data).toMatchObject({ id: inv.id, status: 'expired', exception: null, amount_due: '0.5', checkout_url: inv.checkout_url });
  });
});
