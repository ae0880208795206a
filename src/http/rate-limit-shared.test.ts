// Goal: a caller's rate limit holds whichever API process answers it: what one process admitted
// counts against the caller on the other, once a flush has carried it to the shared table.
// Method: two SharedRateWindows over two connection pools on one PostgreSQL database (two API
// processes), a fixed clock inside one window, flushes called directly. PostgreSQL only: on
// SQLite one process serves the API and its own bucket is the whole truth.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PG_URL, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { openDb, type Db } from '../db/database.ts';
import { ProblemError } from '../shared/errors.ts';
import { SharedRateWindows } from './rate-limit-shared.ts';

describe.skipIf(!PG_URL)('rate limits across API processes on PostgreSQL', () => {
  let t: TestDb;
  let other: Db;
  beforeEach(async () => {
    t = await openTestDb('postgres');
    other = openDb(t.target);
  });
  afterEach(async () => {
    await other.close();
    await t.cleanup();
  });

  it('a burst spent on one process is refused on the other after a flush; a new window admits again', async () => {
    let now = 1_000_000; // the start of a 4 s window (burst 20 at 5/s)
    const a = new SharedRateWindows(t.db, 5, 20, () => now);
    const b = new SharedRateWindows(other, 5, 20, () => now);
    for (let i = 0; i < 15; i++) a.take('u:1', now);
    b.take('u:1', now);
    await a.flush();
    await b.flush();
    // 16 spent in total: b may admit 4 more, not 19.
    for (let i = 0; i < 4; i++) b.take('u:1', now);
    expect(() => b.take('u:1', now)).toThrow(ProblemError);
    // Another caller is not affected.
    b.take('u:2', now);
    // a learns b's share at its next flush.
    await b.flush();
    a.take('u:1', now); // a still believes 15 + 0 pending were spent: one more is admitted before it learns
    await a.flush();
    try {
      a.take('u:1', now);
      expect.unreachable();
    } catch (error) {
      expect((error as ProblemError).status).toBe(429);
    }
    now += 4000;
    a.take('u:1', now);
    b.take('u:1', now);
  });
});
