// Goal: webhooks reach a real HTTP receiver signed per Standard Webhooks (checked here with an
// independent HMAC), retried with backoff, in order per payment without one failing payment
// blocking another, with attempts logged, manual redelivery and the /events catch-up feed; the
// SSRF guard refuses private targets. Method: a node:http server on 127.0.0.1, real database
// (both dialects), the real accounts/ledger harness, app.inject() for the routes.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { paymentEventRenderer } from '../payments/payment-events.ts';
import { startHarness, testConfig, type Harness } from '../../test/helpers/payment-testkit.ts';
import { createPayment, transitionPayment } from '../payments/payments.ts';
import { checkWebhookUrl, isPrivateAddress, retryDelayMs, retrySpanMs, signWebhook, verifyWebhook } from './webhook-rules.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { createWebhooks, type Webhooks } from './webhooks.ts';

/** Independent Standard Webhooks verification: base64 HMAC-SHA256 of "id.ts.body". */
function independentlyValid(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`).digest('base64');
  return String(headers['webhook-signature']).split(' ').includes(`v1,${mac}`);
}

describe('webhook rules', () => {
  it('signs like the Standard Webhooks test vector and verifies', () => {
    const sig = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(verifyWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}', `v1,bad ${sig}`)).toBe(true);
  });
  it('retries with exponential backoff for more than 3 days within 30 attempts', () => {
    expect([retryDelayMs(1), retryDelayMs(2), retryDelayMs(3)]).toEqual([10_000, 20_000, 40_000]);
    expect(retryDelayMs(29)).toBe(6 * 3600_000);
    expect(retrySpanMs(30)).toBeGreaterThan(3 * 24 * 3600_000);
  });
  it('refuses private and odd URLs unless allowed', () => {
    for (const ip of ['127.0.0.1', '10.2.3.4', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0']) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(ip), ip).toBe(false);
    expect(checkWebhookUrl('https://127.0.0.1/x', false)).toMatchObject({ ok: false, reason: 'private_address' });
    expect(checkWebhookUrl('https://localhost/x', false)).toMatchObject({ ok: false, reason: 'private_address' });
    expect(checkWebhookUrl('http://example.com/x', false)).toMatchObject({ ok: false, reason: 'scheme' });
    expect(checkWebhookUrl('https://u:p@example.com/x', false)).toMatchObject({ ok: false, reason: 'credentials' });
    expect(checkWebhookUrl('http://127.0.0.1:9/x', true).ok).toBe(true);
  });
});

describe.each(DIALECTS)('webhooks on %s', (dialect) => {
  let h: Harness;
  let webhooks: Webhooks;
  let server: Server;
  let url: string;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let failFor: string | null = null;

  beforeEach(async () => {
    received.length = 0;
    failFor = null;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        const id = (JSON.parse(body) as { data: { id: string } }).data.id;
        res.statusCode = failFor === id ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    h = await startHarness(dialect, (parts) => {
      webhooks = createWebhooks({ db: parts.t.db, clock: parts.clock, config: parts.config });
      webhooks.registerRenderer('payment', paymentEventRenderer(parts.view));
      return [{ name: 'webhooks', plugin: webhookRoutes({ webhooks }) }];
    });
  });
  afterEach(async () => {
    await h.close();
    await new Promise((r) => server.close(r));
  });

  it('delivers signed, in order per payment, retries one failing payment without blocking others', async () => {
    const alice = await h.user('alice@example.test');
    const bob = await h.user('bob@example.test');
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', payload: { url, events: ['payment.*'] } })).statusCode).toBe(401);
    const ftp = await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url: 'ftp://x.test/', events: ['payment.*'] } });
    expect(ftp.json().code, ftp.body).toBe('invalid_webhook_url');
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url, events: ['Payment!'] } })).statusCode).toBe(400);
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url, events: ['payment.*'] } });
    expect(created.statusCode).toBe(201);
    const endpoint = created.json();
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect((await h.app.inject({ url: '/api/v1/webhook-endpoints', headers: bob.headers })).json().data).toEqual([]);
    expect((await h.app.inject({ url: `/api/v1/webhook-endpoints/${endpoint.id}/messages`, headers: bob.headers })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${endpoint.id}`, headers: bob.headers })).statusCode).toBe(404);

    await h.t.db.transaction(async (trx) => {
      await createPayment(trx, { id: 'pay_p1', user_id: alice.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 5_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, h.clock);
      await createPayment(trx, { id: 'pay_p2', user_id: alice.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 7_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, h.clock);
      await createPayment(trx, { id: 'pay_b1', user_id: bob.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'pending' }, h.clock);
    });
    h.clock.advance(1000);
    await h.t.db.transaction((trx) => transitionPayment(trx, 'pay_p1', { status: 'credited' }, h.clock));

    failFor = 'pay_p1';
    expect(await webhooks.dispatchTick()).toBeGreaterThanOrEqual(4);
    await webhooks.deliverTick();
    // p1's first event failed; its second waits behind it; p2 went through
    expect(received.map((r) => JSON.parse(r.body).data.id).sort()).toEqual(['pay_p1', 'pay_p2']);
    await webhooks.deliverTick();
    expect(received).toHaveLength(2);

    failFor = null;
    h.clock.advance(10_000);
    await webhooks.deliverTick();
    await webhooks.deliverTick();
    const p1 = received.filter((r) => JSON.parse(r.body).data.id === 'pay_p1').map((r) => JSON.parse(r.body));
    expect(p1.map((b) => b.type)).toEqual(['payment.confirming', 'payment.confirming', 'payment.credited']);
    expect(p1[2].data).toMatchObject({ status: 'credited', amount: '5', explanation: { code: 'deposit_credited' } });
    for (const r of received) {
      expect(independentlyValid(endpoint.secret, r.headers, r.body)).toBe(true);
      expect(r.headers['webhook-id']).toMatch(/^msg_/);
    }
    // the retried message keeps its webhook-id
    expect(received[0]!.headers['webhook-id']).toBe(received.find((r, i) => i > 0 && JSON.parse(r.body).data.id === 'pay_p1' && JSON.parse(r.body).type === 'payment.confirming')!.headers['webhook-id']);
    expect(received.some((r) => r.body.includes('pay_b1'))).toBe(false);

    const msgs = (await h.app.inject({ url: `/api/v1/webhook-endpoints/${endpoint.id}/messages`, headers: alice.headers })).json().data;
    const failedOnce = msgs.find((m: { attempts: unknown[] }) => m.attempts.length === 2);
    expect(failedOnce.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 204]);
    expect(failedOnce.status).toBe('delivered');

    const again = await h.app.inject({ method: 'POST', url: `/api/v1/webhook-messages/${failedOnce.id}/redeliver`, headers: alice.headers });
    expect(again.statusCode).toBe(202);
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/webhook-messages/${failedOnce.id}/redeliver`, headers: bob.headers })).statusCode).toBe(404);
    const before = received.length;
    await webhooks.deliverTick();
    expect(received.length).toBe(before + 1);

    const feed = (await h.app.inject({ url: '/api/v1/events?after=0', headers: alice.headers })).json();
    expect(feed.data.map((e: { type: string; data: { id: string } }) => `${e.type} ${e.data.id}`)).toEqual(['payment.confirming pay_p1', 'payment.confirming pay_p2', 'payment.credited pay_p1']);
    expect((await h.app.inject({ url: `/api/v1/events?after=${feed.next_cursor}`, headers: alice.headers })).json().data).toEqual([]);
    expect((await h.app.inject({ url: '/api/v1/events?after=-1', headers: alice.headers })).statusCode).toBe(400);
    expect((await h.app.inject({ url: '/api/v1/events' })).statusCode).toBe(401);

    expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${endpoint.id}`, headers: alice.headers })).statusCode).toBe(204);
    expect((await h.app.inject({ url: '/api/v1/webhook-endpoints', headers: alice.headers })).json().data).toEqual([]);
  });

  it('keeps endpoint secrets sealed at rest; a legacy plain-text row still signs and is sealed by the worker', async () => {
    const alice = await h.user('alice@example.test');
    const created = await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url, events: ['payment.*'] } });
    expect(created.statusCode).toBe(201);
    const endpoint = created.json();
    expect(endpoint.secret).toMatch(/^whsec_/);
    const stored = await h.t.db.kysely.selectFrom('webhook_endpoints').select('secret').where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    expect(stored.secret).toMatch(/^enc:v1:/);
    expect(stored.secret).not.toContain(endpoint.secret.slice(6));
    // The list never shows the secret again.
    expect((await h.app.inject({ url: '/api/v1/webhook-endpoints', headers: alice.headers })).body).not.toContain('whsec_');

    // A row written before sealing existed: the plain secret, as the old code stored it.
    const legacySecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    await h.t.db.kysely.insertInto('webhook_endpoints').values({ id: 'we_legacy0000000000', user_id: alice.id, url, events: JSON.stringify(['payment.*']), secret: legacySecret, created_at_ms: h.clock.now_ms(), deleted_at_ms: null }).execute();
    await h.t.db.transaction((trx) => createPayment(trx, { id: 'pay_s1', user_id: alice.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, h.clock));
    await webhooks.dispatchTick();
    await webhooks.deliverTick();
    expect(received).toHaveLength(2);
    const byEndpoint = (secret: string) => received.filter((r) => independentlyValid(secret, r.headers, r.body));
    expect(byEndpoint(endpoint.secret)).toHaveLength(1);
    expect(byEndpoint(legacySecret)).toHaveLength(1);

    // The worker's pass seals it (once; a second pass has nothing left), and it signs the same.
    expect(await webhooks.sealLegacySecrets()).toBe(1);
    expect(await webhooks.sealLegacySecrets()).toBe(0);
    const sealed = await h.t.db.kysely.selectFrom('webhook_endpoints').select('secret').where('id', '=', 'we_legacy0000000000').executeTakeFirstOrThrow();
    expect(sealed.secret).toMatch(/^enc:v1:/);
    expect(sealed.secret).not.toContain(legacySecret.slice(6));
    h.clock.advance(1000);
    await h.t.db.transaction((trx) => transitionPayment(trx, 'pay_s1', { status: 'credited' }, h.clock));
    await webhooks.dispatchTick();
    await webhooks.deliverTick();
    expect(received).toHaveLength(4);
    expect(byEndpoint(legacySecret)).toHaveLength(2);
    expect(byEndpoint(endpoint.secret)).toHaveLength(2);

    // An envelope copied onto another endpoint does not open there (the id is bound in): the
    // message is not sent, and its attempt says why.
    await h.t.db.kysely.updateTable('webhook_endpoints').set({ secret: sealed.secret }).where('id', '=', endpoint.id).execute();
    await h.t.db.transaction((trx) => createPayment(trx, { id: 'pay_s2', user_id: alice.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 2_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, h.clock));
    await webhooks.dispatchTick();
    await webhooks.deliverTick();
    expect(received).toHaveLength(5);
    expect(byEndpoint(legacySecret)).toHaveLength(3);
    const msgs = (await h.app.inject({ url: `/api/v1/webhook-endpoints/${endpoint.id}/messages`, headers: alice.headers })).json().data;
    expect(msgs[0].attempts[0]).toMatchObject({ status_code: null, error: expect.stringContaining('cannot be decrypted') });
  });

  it('rotates a secret: shown once, the old one signs next to it for 24 h, then only the new; audited', async () => {
    const alice = await h.user('alice@example.test');
    const bob = await h.user('bob@example.test');
    const endpoint = (await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url, events: ['payment.*'] } })).json();
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, headers: bob.headers })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret` })).statusCode).toBe(401);
    const rotated = await h.app.inject({ method: 'POST', url: `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, headers: alice.headers });
    expect(rotated.statusCode).toBe(200);
    const r = rotated.json();
    expect(r.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(r.secret).not.toBe(endpoint.secret);
    expect(Date.parse(r.previous_secret_expires_at) - h.clock.now_ms()).toBe(24 * 3600_000);
    const row = await h.t.db.kysely.selectFrom('webhook_endpoints').selectAll().where('id', '=', endpoint.id).executeTakeFirstOrThrow();
    expect(row.secret).toMatch(/^enc:v1:/);
    expect(row.previous_secret).toMatch(/^enc:v1:/);
    expect(JSON.stringify(row)).not.toContain(r.secret.slice(6));
    expect(JSON.stringify(row)).not.toContain(endpoint.secret.slice(6));

    await h.t.db.transaction((trx) => createPayment(trx, { id: 'pay_r1', user_id: alice.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'confirming', confirmations: { current: 1, required: 3 } }, h.clock));
    await webhooks.dispatchTick();
    await webhooks.deliverTick();
    expect(received).toHaveLength(1);
    expect(String(received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(independentlyValid(r.secret, received[0]!.headers, received[0]!.body)).toBe(true);
    expect(independentlyValid(endpoint.secret, received[0]!.headers, received[0]!.body)).toBe(true);

    // Deleting is audited too (an endpoint that only wants invoices, so it receives nothing here).
    const other = (await h.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: alice.headers, payload: { url, events: ['invoice.*'] } })).json();
    expect((await h.app.inject({ method: 'DELETE', url: `/api/v1/webhook-endpoints/${other.id}`, headers: alice.headers })).statusCode).toBe(204);

    h.clock.advance(24 * 3600_000 + 1000);
    await h.t.db.transaction((trx) => transitionPayment(trx, 'pay_r1', { status: 'credited' }, h.clock));
    await webhooks.dispatchTick();
    await webhooks.deliverTick();
    expect(received).toHaveLength(2);
    expect(independentlyValid(r.secret, received[1]!.headers, received[1]!.body)).toBe(true);
    expect(independentlyValid(endpoint.secret, received[1]!.headers, received[1]!.body)).toBe(false);

    const audit = await h.t.db.kysely.selectFrom('audit_log').select(['action', 'actor_id', 'subject_id', 'details']).where('action', 'like', 'webhook_%').execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['webhook_endpoint_created', 'webhook_endpoint_created', 'webhook_endpoint_deleted', 'webhook_secret_rotated']);
    for (const a of audit) {
      expect(a).toMatchObject({ actor_id: alice.id, subject_id: alice.id });
      expect(a.details).not.toContain('whsec_');
    }
  });

  it('refuses hosts that resolve to private addresses when private URLs are off', async () => {
    const strict = createWebhooks({ db: h.t.db, clock: h.clock, config: { ...testConfig(), allow_private_webhook_urls: false }, resolve: async (host) => (host === 'inside.example' ? ['10.0.0.7'] : ['93.184.216.34']) });
    expect(await strict.createEndpoint('usr_x', 'https://inside.example/hook', ['*'])).toEqual({ ok: false, reason: 'private_address' });
    expect(await strict.createEndpoint('usr_x', url, ['*'])).toMatchObject({ ok: false });
    expect((await strict.createEndpoint('usr_x', 'https://public.example/hook', ['*'])).ok).toBe(true);
  });
});
