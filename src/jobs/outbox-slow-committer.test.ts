// Goal: an outbox consumer never skips an event, however late the transaction that wrote it
// commits (issue 16, finding 6). On PostgreSQL a `bigserial` is taken at insert and becomes
// visible at commit, so a slow writer leaves a hole that a later, faster writer's event sits
// behind; on SQLite writers are serial, and the same test must hold trivially.
// Method: a second real connection to the same database is the slow committer: it inserts an
// event (taking a sequence number) and stays open well past any gap timeout while a fast writer
// commits another event and the consumer runs with a clock a minute ahead; then it commits and
// the consumer runs again. Every event must be handled exactly once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { openDb, type Db } from '../db/database.ts';
import { emitEvent } from './jobs.ts';
import { consumeOutbox } from './outbox.ts';

describe.each(DIALECTS)('outbox consumer and a slow committer on %s', (dialect) => {
  let t: TestDb;
  let slowDb: Db;
  beforeEach(async () => {
    t = await openTestDb(dialect);
    slowDb = openDb(t.target);
  });
  afterEach(async () => {
    await slowDb.close();
    await t.cleanup();
  });

  it('reads an event whose transaction commits after a later event, long after the old gap timeout', async () => {
    const seen: string[] = [];
    const consume = () => consumeOutbox(t.db, 'slow-test', 100, Date.now() + 60_000, async (_trx, e) => void seen.push(e.aggregate_id));

    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const insertedP = new Promise<void>((resolve) => (inserted = resolve));
    // Written a minute "ago", so that no age-based rule can tell it from a rolled-back number.
    const slow = slowDb.transaction(async (trx) => {
      await emitEvent(trx, { type: 'account.unfrozen', aggregate_type: 'user', aggregate_id: 'slow', payload: {} }, { now_ms: () => Date.now() - 60_000 });
      inserted();
      await held;
    });
    await insertedP;

    if (dialect === 'postgres') {
      // A fast writer commits an event with a higher sequence number while the slow one is open.
      await emitEvent(t.db.kysely, { type: 'account.unfrozen', aggregate_type: 'user', aggregate_id: 'fast', payload: {} }, { now_ms: () => Date.now() - 60_000 });
    }
    await consume();
    // The consumer runs again and again while the slow writer stays open (past any timeout).
    await consume();

    commit();
    await slow;
    if (dialect === 'sqlite') {
      await emitEvent(t.db.kysely, { type: 'account.unfrozen', aggregate_type: 'user', aggregate_id: 'fast', payload: {} });
    }
    for (let i = 0; i < 3; i++) await consume();

    expect([...seen].sort()).toEqual(['fast', 'slow']);
  });

  it('passes over a number whose transaction rolled back, once it has ended, and keeps reading after it', async () => {
    const seen: string[] = [];
    const consume = () => consumeOutbox(t.db, 'burn-test', 100, Date.now(), async (_trx, e) => void seen.push(e.aggregate_id));
    await emitEvent(t.db.kysely, { type: 'x', aggregate_type: 'user', aggregate_id: 'before', payload: {} });
    // A transaction takes a number and rolls back: on PostgreSQL the number is burned.
    await slowDb
      .transaction(async (trx) => {
        await emitEvent(trx, { type: 'x', aggregate_type: 'user', aggregate_id: 'rolled-back', payload: {} });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await emitEvent(t.db.kysely, { type: 'x', aggregate_type: 'user', aggregate_id: 'after', payload: {} });
    // Other transactions of the shared server may still run when the gap is first seen: the
    // reader waits for them (no clock), so poll a while.
    for (let i = 0; i < 200 && seen.length < 2; i++) {
      await consume();
      if (seen.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual(['before', 'after']);
  });
});
