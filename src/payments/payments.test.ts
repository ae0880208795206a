// Goal: createPayment / transitionPayment write the status, the timeline and the outbox event in
// the caller's transaction, idempotently, refusing illegal transitions. Method: real databases
// (both dialects), reading the rows back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { ManualClock } from '../shared/clock.ts';
import { createPayment, getPayment, listPayments, transitionPayment } from './payments.ts';

describe.each(DIALECTS)('payments store on %s', (dialect) => {
  let t: TestDb;
  const clock = new ManualClock(Date.UTC(2026, 10, 26));
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(async () => t.cleanup());

  it('creates, transitions, keeps a timeline and emits outbox events', async () => {
    const input = { id: 'pay_dep1', user_id: 'usr_1', kind: 'deposit' as const, direction: 'in' as const, asset: 'USDT', amount_minor: 12_500_000n, status: 'confirming' as const, confirmations: { current: 1, required: 6 }, chain: { chain_id: 31337, tx_hash: '0xabc', log_index: 0, block_number: 10, from: '0x1', to: '0x2', token: '0xt' } };
    const a = await t.db.transaction((trx) => createPayment(trx, input, clock));
    expect(a.result).toBe('created');
    const again = await t.db.transaction((trx) => createPayment(trx, input, clock));
    expect(again.result).toBe('exists');

    clock.advance(1000);
    const tick = await t.db.transaction((trx) => transitionPayment(trx, 'pay_dep1', { status: 'confirming', confirmations: { current: 3, required: 6 } }, clock));
    expect(tick.result === 'ok' && tick.changed).toBe(false);
    clock.advance(1000);
    const held = await t.db.transaction((trx) => transitionPayment(trx, 'pay_dep1', { status: 'held', hold: 'maintenance', params: { message: 'upgrade' } }, clock));
    expect(held.result).toBe('ok');
    const bad = await t.db.transaction((trx) => transitionPayment(trx, 'pay_dep1', { status: 'requested' }, clock));
    expect(bad.result).toBe('invalid_transition');
    clock.advance(1000);
    await t.db.transaction((trx) => transitionPayment(trx, 'pay_dep1', { status: 'credited' }, clock));

    const got = await getPayment(t.db.kysely, 'pay_dep1');
    expect(got?.payment.status).toBe('credited');
    expect(got?.payment.hold).toBeNull();
    expect(got?.payment.amount_minor).toBe(12_500_000n);
    expect(got?.payment.confirmations).toEqual({ current: 3, required: 6 });
    expect(got?.payment.chain?.chain_id).toBe(31337);
    expect(got?.timeline.map((e) => [e.status, e.code])).toEqual([
      ['confirming', 'deposit_confirming'],
      ['held', 'held_maintenance'],
      ['credited', 'deposit_credited'],
    ]);
    const events = await t.db.kysely.selectFrom('outbox_events').select(['type', 'aggregate_id']).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['payment.confirming', 'payment.held', 'payment.credited']);

    const list = await listPayments(t.db.kysely, { user_id: 'usr_1', limit: 10 });
    expect(list.data).toHaveLength(1);
    expect((await listPayments(t.db.kysely, { user_id: 'usr_2', limit: 10 })).data).toHaveLength(0);
  });

  it('rolls the payment back with the caller transaction', async () => {
    await expect(
      t.db.transaction(async (trx) => {
        await createPayment(trx, { id: 'pay_x', user_id: 'u', kind: 'transfer', direction: 'out', asset: 'USDT', amount_minor: 1n, status: 'completed' }, clock);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await getPayment(t.db.kysely, 'pay_x')).toBeNull();
  });
});
