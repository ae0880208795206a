// Goal: an outbox consumer handles each event of its types once, in order, and moves its cursor
// past the others without a transaction per event (each is an fsync on SQLite).
// Method: real events through emitEvent on each dialect; transactions counted by wrapping
// db.transaction.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { emitEvent } from './jobs.ts';
import { consumeOutbox, cursorOf } from './outbox.ts';

describe.each(DIALECTS)('outbox consumers on %s', (dialect) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(async () => t.cleanup());

  it('handles its own types once, in order, and skips runs of other events in one cursor save', async () => {
    const types = ['payment.credited', 'payment.credited', 'account.unfrozen', 'payment.credited', 'payment.credited', 'payment.credited', 'account.unfrozen', 'payment.credited'];
    for (const [i, type] of types.entries()) await emitEvent(t.db.kysely, { type, aggregate_type: 'x', aggregate_id: `a${i}`, payload: { i } });
    let transactions = 0;
    const counted = { ...t.db, transaction: ((work: never) => (transactions++, t.db.transaction(work))) as typeof t.db.transaction };
    const seen: string[] = [];
    const read = await consumeOutbox(counted, 'test', 100, Date.now() + 60_000, async (_trx, e) => void seen.push(e.aggregate_id), undefined, { types: ['account.unfrozen'] });
    expect(read).toBe(types.length);
    expect(seen).toEqual(['a2', 'a6']);
    // The two unfreezes, and three runs of other events (before, between, after): five, not eight.
    expect(transactions).toBe(5);
    expect(await cursorOf(t.db.kysely, 'test')).toBe(types.length);
    // Nothing again on the next pass.
    expect(await consumeOutbox(counted, 'test', 100, Date.now() + 60_000, async (_trx, e) => void seen.push(e.aggregate_id), undefined, { types: ['account.unfrozen'] })).toBe(0);
    expect(seen).toEqual(['a2', 'a6']);
  });
});
