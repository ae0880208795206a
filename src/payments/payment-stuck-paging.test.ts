// Goal: stuck detection looks at every watched payment, not only the oldest few hundred: 600
// older payments that wait on a person (frozen holds, no ETA) must not hide a newer stuck one.
// Method: real database (both dialects), ManualClock; payments created through createPayment.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { testConfig } from '../../test/helpers/payment-testkit.ts';
import { ManualClock } from '../shared/clock.ts';
import type { PaymentViewDeps } from './payment-routes.ts';
import { detectStuck } from './payment-stuck.ts';
import { createPayment } from './payments.ts';

describe.each(DIALECTS)('stuck detection pages on %s', (dialect) => {
  let t: TestDb;
  let view: PaymentViewDeps;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 2));
  beforeEach(async () => {
    t = await openTestDb(dialect);
    view = { db: t.db, clock, config: testConfig(), chainTiming: async () => new Map([[31337, { block_time_ms: 12_000, head_seen_at_ms: clock.now_ms() }]]) };
  });
  afterEach(async () => t.cleanup());

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
