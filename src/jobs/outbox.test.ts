// Goal: an outbox consumer handles each event of its types once, in order, and moves its cursor
// past the others without a transaction per event (each is an fsync on SQLite).
// Method: real events through emitEvent on each dialect; transactions counted by wrapping
// db.transaction.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, PG_URL, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { openDb } from '../db/database.ts';
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

describe.skipIf(!PG_URL)('one outbox consumer in two processes on PostgreSQL', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb('postgres');
  });
  afterEach(async () => t.cleanup());

  it('two connection pools consuming under one name at once handle each event once (the cursor row is locked)', async () => {
    const other = openDb(t.target);
    try {
      for (let i = 0; i < 40; i++) await emitEvent(t.db.kysely, { type: 'account.unfrozen', aggregate_type: 'x', aggregate_id: `e${i}`, payload: { i } });
      const seen: string[] = [];
      const handle = async (_trx: unknown, e: { aggregate_id: string }) => {
        seen.push(e.aggregate_id);
        await new Promise((r) => setTimeout(r, 2)); // widen the window in which the other reads the cursor
      };
      const drain = async (db: typeof t.db) => {
        while ((await consumeOutbox(db, 'shared', 10, Date.now(), handle)) > 0);
      };
      await Promise.all([drain(t.db), drain(other), drain(t.db), drain(other)]);
      expect(seen.length).toBe(40);
      expect(new Set(seen).size).toBe(40);
      expect(await cursorOf(t.db.kysely, 'shared')).toBe(40);
    } finally {
      await other.close();
    }
  });
});
