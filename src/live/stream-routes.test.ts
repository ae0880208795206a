// GET /stream: each user receives their own payments' changes (payment.updated with the full
// payment, as GET /payments/{id} shows it, `id:` a cursor) and nobody else's; Last-Event-ID
// resumes after a cursor; a comment keeps the connection alive; strangers get 401, and a client
// that does not ask for text/event-stream gets 406 instead of a stream that never ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../test/helpers/payment-testkit.ts';
import { createWebhooks } from '../notify/webhooks.ts';
import { paymentEventRenderer } from '../payments/payment-events.ts';
import { DIALECTS } from '../../test/helpers/db.ts';
import { livePaymentReader } from './live-payments.ts';
import { streamRoutes } from './stream-routes.ts';
import { listenSse as listen, until } from '../../test/helpers/sse.ts';

describe.each(DIALECTS)('GET /stream (%s)', (dialect) => {
  let h: Harness;
  let base: string;
  let dispatch: () => Promise<number>;

  beforeAll(async () => {
    h = await startHarness(dialect, ({ t, view }) => [{ name: 'stream', plugin: streamRoutes({ db: t.db, readers: { payment: livePaymentReader(view) }, poll_ms: 30, heartbeat_ms: 100 }) }]);
    const webhooks = createWebhooks({ db: h.t.db, clock: h.clock, config: h.config });
    webhooks.registerRenderer('payment', paymentEventRenderer(h.view));
    dispatch = async () => { while ((await webhooks.dispatchTick()) > 0); return 0; };
    base = await h.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => h?.close());

  it('sends each user their own payments and nobody else’s, and resumes after Last-Event-ID', async () => {
    const a = await h.user('ann@example.test');
    const b = await h.user('ben@example.test');
    const c = await h.user('cat@example.test');
    await h.fund(a.id, 'USDT', '50');
    const [sa, sb, sc] = [listen(base, a.headers), listen(base, b.headers), listen(base, c.headers)];
    await until(() => sa.comments() > 0 && sb.comments() > 0 && sc.comments() > 0);

    const res = await h.app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...a.headers, 'idempotency-key': 'live-1' }, payload: { to_email: 'ben@example.test', asset: 'USDT', amount: '5' } });
    expect(res.statusCode).toBe(201);
    const out = res.json() as { id: string };
    await dispatch();
    await until(() => sa.events().length > 0 && sb.events().length > 0);

    const aEvents = sa.events();
    const bEvents = sb.events();
    const aPayment = JSON.parse(aEvents[0]!.data!) as { type: string; data: { id: string; direction: string; amount: string; explanation: { message: string } } };
    expect(aEvents[0]!.event).toBe('payment.updated');
    expect(aPayment.type).toBe('payment.updated');
    expect(aPayment.data).toMatchObject({ id: out.id, direction: 'out', amount: '5' });
    // The full payment, exactly as GET /payments/{id} shows it now.
    expect(aPayment.data).toEqual((await h.app.inject({ url: `/api/v1/payments/${out.id}`, headers: a.headers })).json());
    const bPayment = JSON.parse(bEvents[0]!.data!) as { data: { id: string; direction: string } };
    expect(bPayment.data.direction).toBe('in');
    expect(bPayment.data.id).not.toBe(out.id);
    // Nobody sees another's payment; a stranger sees nothing at all.
    expect(aEvents.every((e) => !e.data!.includes(bPayment.data.id))).toBe(true);
    expect(bEvents.every((e) => !e.data!.includes(out.id))).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(sc.events()).toEqual([]);
    expect(sc.comments()).toBeGreaterThan(1);

    // Resuming: after cursor 0 the past comes again; after the last cursor nothing does.
    const lastId = aEvents[aEvents.length - 1]!.id!;
    expect(lastId).toMatch(/^\d+$/);
    const again = listen(base, { ...a.headers, 'last-event-id': '0' });
    const caught = listen(base, { ...a.headers, 'last-event-id': lastId });
    await until(() => again.events().length >= aEvents.length && caught.comments() > 1);
    expect(again.events().map((e) => e.id)).toEqual(aEvents.map((e) => e.id));
    expect(caught.events()).toEqual([]);
    await Promise.all([sa, sb, sc, again, caught].map((s) => s.close()));
  });

  it('refuses strangers, and clients that do not ask for an event stream', async () => {
    const anon = await fetch(`${base}/api/v1/stream`, { headers: { accept: 'text/event-stream' } });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('content-type')).toContain('application/problem+json');
    const u = await h.user('dan@example.test');
    const plain = await fetch(`${base}/api/v1/stream`, { headers: { ...u.headers, accept: 'application/json' } });
    expect(plain.status).toBe(406);
    expect((await plain.json()) as { code: string }).toMatchObject({ code: 'not_acceptable' });
  });
});
