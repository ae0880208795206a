// Goal: GET /payments, GET /payments/{id} and GET /balances answer the API.md shapes, only to
// their owner (404 for others, 401 anonymous), in the caller's language, with bad input refused.
// Method: app.inject() over a real database on each dialect, payments written through the face.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { buildApp, type App } from '../app.ts';
import { createMetrics } from '../ops/metrics.ts';
import { ManualClock } from '../shared/clock.ts';
import { paymentRoutes } from './payment-routes.ts';
import { headerAuthenticate, testConfig } from '../../test/helpers/payment-testkit.ts';
import { createPayment, transitionPayment } from './payments.ts';

describe.each(DIALECTS)('payment routes on %s', (dialect) => {
  let t: TestDb;
  let app: App;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 1));
  beforeEach(async () => {
    t = await openTestDb(dialect);
    const config = testConfig();
    app = await buildApp({
      config,
      db: t.db,
      clock,
      metrics: createMetrics(false),
      authenticate: headerAuthenticate,
      routes: [{
        name: 'payments',
        plugin: paymentRoutes({
          db: t.db,
          clock,
          config,
          ledger: () => null,
          chainTiming: async () => new Map([[31337, { block_time_ms: 2000, head_seen_at_ms: clock.now_ms() }]]),
          activeWindows: async () => [{ scope: 'global', ends_at_ms: clock.now_ms() + 3600_000, message: 'DB upgrade', message_zh: null }],
        }),
      }],
    });
    await t.db.transaction(async (trx) => {
      await createPayment(trx, { id: 'pay_00000000001', user_id: 'usr_a', kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 12_500_000n, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: { chain_id: 31337, tx_hash: '0xaa', log_index: 1, block_number: 5, from: '0x01', to: '0x02', token: '0x03' } }, clock);
      await createPayment(trx, { id: 'pay_00000000002', user_id: 'usr_a', kind: 'transfer', direction: 'out', asset: 'ETH', amount_minor: 10n ** 18n, fee_minor: 10n ** 15n, status: 'completed', counterparty: 'usr_b' }, clock);
      await createPayment(trx, { id: 'pay_00000000003', user_id: 'usr_b', kind: 'transfer', direction: 'in', asset: 'ETH', amount_minor: 10n ** 18n, status: 'completed', counterparty: 'usr_a' }, clock);
    });
  });
  afterEach(async () => {
    await app.close();
    await t.cleanup();
  });

  it('shows a payment to its owner with explanation, ETA and timeline', async () => {
    const res = await app.inject({ url: '/api/v1/payments/pay_00000000001', headers: { 'x-test-user': 'usr_a' } });
    expect(res.statusCode).toBe(200);
    const p = res.json();
    expect(p).toMatchObject({ id: 'pay_00000000001', kind: 'deposit', direction: 'in', asset: 'USDT', amount: '12.5', fee: '0', status: 'confirming', hold: null, confirmations: { current: 1, required: 3 } });
    expect(p.chain).toEqual({ chain_id: 31337, tx_hash: '0xaa', log_index: 1, block_number: 5, from: '0x01', to: '0x02', token: '0x03' });
    expect(p.explanation.code).toBe('deposit_confirming');
    expect(p.explanation.message).toContain('1 of 3');
    // two blocks left at 2 s: the next block 2 s after the head was seen, then one more.
    expect(p.explanation.eta).toBe(new Date(clock.now_ms() + 4000).toISOString());
    expect(p.timeline).toHaveLength(1);
    expect(p.created_at).toMatch(/Z$/);

    const zh = await app.inject({ url: '/api/v1/payments/pay_00000000001', headers: { 'x-test-user': 'usr_a', 'x-test-locale': 'zh-CN' } });
    expect(zh.json().explanation.message).toContain('1/3');
  });

  it('explains a maintenance hold with the window end as ETA', async () => {
    clock.advance(1000);
    await t.db.transaction((trx) => transitionPayment(trx, 'pay_00000000001', { status: 'held', hold: 'maintenance', confirmations: { current: 3, required: 3 } }, clock));
    const p = (await app.inject({ url: '/api/v1/payments/pay_00000000001', headers: { 'x-test-user': 'usr_a' } })).json();
    expect(p.hold.reason).toBe('maintenance');
    expect(p.explanation.eta).toBe(new Date(clock.now_ms() + 3600_000).toISOString());
    expect(p.explanation.message).toContain('DB upgrade');
    expect(p.timeline.map((e: { status: string }) => e.status)).toEqual(['confirming', 'held']);
  });

  it('hides others\u2019 payments and refuses anonymous callers', async () => {
    expect((await app.inject({ url: '/api/v1/payments/pay_00000000003', headers: { 'x-test-user': 'usr_a' } })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/payments/pay_00000000001', headers: { 'x-test-user': 'usr_b:admin' } })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/payments/pay_00000000001' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/payments' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/balances' })).statusCode).toBe(401);
    const key = await app.inject({ url: '/api/v1/payments', headers: { 'x-test-user': 'usr_a:merchant:invoices:read' } });
    expect(key.statusCode).toBe(403);
  });

  it('lists own payments with filters and cursor paging, refusing bad queries', async () => {
    const all = (await app.inject({ url: '/api/v1/payments', headers: { 'x-test-user': 'usr_a' } })).json();
    expect(all.data.map((p: { id: string }) => p.id)).toEqual(['pay_00000000002', 'pay_00000000001']);
    const page1 = (await app.inject({ url: '/api/v1/payments?limit=1', headers: { 'x-test-user': 'usr_a' } })).json();
    expect(page1.data).toHaveLength(1);
    const page2 = (await app.inject({ url: `/api/v1/payments?limit=1&cursor=${page1.next_cursor}`, headers: { 'x-test-user': 'usr_a' } })).json();
    expect(page2.data[0].id).toBe('pay_00000000001');
    const transfers = (await app.inject({ url: '/api/v1/payments?kind=transfer', headers: { 'x-test-user': 'usr_a' } })).json();
    expect(transfers.data.map((p: { amount: string; fee: string }) => [p.amount, p.fee])).toEqual([['1', '0.001']]);
    for (const q of ['kind=loan', 'status=lost', 'limit=0', 'limit=1000', 'cursor=%27or%201']) {
      const bad = await app.inject({ url: `/api/v1/payments?${q}`, headers: { 'x-test-user': 'usr_a' } });
      expect(bad.statusCode, q).toBe(400);
    }
  });

  it('lists every configured asset in balances, zeros included', async () => {
    const res = await app.inject({ url: '/api/v1/balances', headers: { 'x-test-user': 'usr_a' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { asset: 'ETH', available: '0', pending_in: '0', pending_out: '0', held: '0' },
      { asset: 'USDT', available: '0', pending_in: '0', pending_out: '0', held: '0' },
    ]);
  });
});
