// Goal: a payment that stays in a state longer than expected × factor raises `payment.stuck`
// once, with evidence; one that moves on or waits on a person does not. Method: real database
// (both dialects), a ManualClock, measured block time handed in as the scanner would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { ManualClock } from '../shared/clock.ts';
import { detectStuck } from './payment-stuck.ts';
import type { PaymentViewDeps } from './payment-routes.ts';
import { testConfig } from '../../test/helpers/payment-testkit.ts';
import { createPayment, transitionPayment } from './payments.ts';

describe.each(DIALECTS)('stuck detection on %s', (dialect) => {
  let t: TestDb;
  let view: PaymentViewDeps;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 2));
  beforeEach(async () => {
    t = await openTestDb(dialect);
    view = { db: t.db, clock, config: testConfig(), chainTiming: async () => new Map([[31337, { block_time_ms: 12_000, head_seen_at_ms: clock.now_ms() }]]) };
  });
  afterEach(async () => t.cleanup());

  const stuckEvents = async () => (await t.db.kysely.selectFrom('outbox_events').select(['type', 'aggregate_id', 'payload']).where('type', '=', 'payment.stuck').execute());

  it('reports a confirming deposit stuck past the floor once, and not a frozen hold', async () => {
    await t.db.transaction(async (trx) => {
      await createPayment(trx, { id: 'pay_c', user_id: 'u1', kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: { chain_id: 31337, tx_hash: '0x1', log_index: 0, block_number: 1, from: null, to: null, token: null } }, clock);
      await createPayment(trx, { id: 'pay_f', user_id: 'u1', kind: 'transfer', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'held', hold: 'account_frozen' }, clock);
      await createPayment(trx, { id: 'pay_ok', user_id: 'u1', kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'confirming', confirmations: { current: 1, required: 3 } }, clock);
    });
    clock.advance(9 * 60_000);
    expect(await detectStuck(view)).toBe(0);
    await t.db.transaction((trx) => transitionPayment(trx, 'pay_ok', { status: 'credited' }, clock));
    clock.advance(2 * 60_000);
    expect(await detectStuck(view)).toBe(1);
    expect(await detectStuck(view)).toBe(0);
    const events = await stuckEvents();
    expect(events.map((e) => e.aggregate_id)).toEqual(['pay_c']);
    expect(JSON.parse(events[0]!.payload)).toMatchObject({ status: 'confirming', confirmations: { current: 1, required: 3 }, expected_ms: 600_000 });
  });

  it('measures a maintenance hold against the window', async () => {
    view.activeWindows = async () => [{ scope: 'global', ends_at_ms: Date.UTC(2026, 10, 26, 2) + 3600_000 * 100, message: 'long', message_zh: null }];
    await t.db.transaction((trx) => createPayment(trx, { id: 'pay_m', user_id: 'u1', kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'held', hold: 'maintenance' }, clock));
    clock.advance(3600_000);
    expect(await detectStuck(view)).toBe(0);
  });

  // Detection looks at every watched payment, not only the oldest few hundred: 600 older payments
  // that wait on a person (frozen holds, no ETA) must not hide a newer stuck one.
  it('a stuck payment behind 600 older frozen holds is reported', async () => {
    await t.db.transaction(async (trx) => {
      for (let i = 0; i < 600; i++) {
        await createPayment(trx, { id: `pay_f${String(i).padStart(4, '0')}`, user_id: 'u1', kind: 'transfer', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'held', hold: 'account_frozen' }, clock);
      }
    });
    clock.advance(60_000);
    await t.db.transaction((trx) => createPayment(trx, { id: 'pay_late', user_id: 'u2', kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'confirming', confirmations: { current: 1, required: 3 } }, clock));
    clock.advance(11 * 60_000);
    expect(await detectStuck(view)).toBe(1);
    const events = await t.db.kysely.selectFrom('outbox_events').select('aggregate_id').where('type', '=', 'payment.stuck').execute();
    expect(events.map((e) => e.aggregate_id)).toEqual(['pay_late']);
  }, 60_000);
});
