// Goal: a webhook message is claimed before it is sent, so that two processes never both send it;
// a crashed sender's claim expires and another takes the message; a sender whose claim was lost
// cannot record its attempt over the new sender's.
// Method: the claim statements (webhook-store.ts) over a real database on each dialect, with two
// claimer names standing for two processes; on PostgreSQL also two connection pools racing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, PG_URL, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { openDb } from '../db/database.ts';
import { claimMessage, finishClaimed, insertMessage, messageById } from './webhook-store.ts';

async function pendingMessage(t: TestDb, id: string): Promise<void> {
  await insertMessage(t.db.kysely, { id, endpoint_id: 'we_1', user_id: 'u_1', event_id: `evt_${id}`, event_seq: 1, type: 'payment.credited', ordering_key: 'payment:p1', body: '{}', status: 'pending', attempts: 0, next_attempt_at_ms: 0, last_status_code: null, last_error: null, created_at_ms: 0, delivered_at_ms: null });
}

describe.each(DIALECTS)('webhook delivery claims on %s', (dialect) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(async () => t.cleanup());

  it('one claimer at a time; an expired claim is taken over; the lost claimer cannot record', async () => {
    await pendingMessage(t, 'msg_1');
    expect(await claimMessage(t.db.kysely, 'msg_1', 0, 'a', 1000, 61_000)).toBe(true);
    expect(await claimMessage(t.db.kysely, 'msg_1', 0, 'b', 2000, 62_000)).toBe(false);
    // a crashed (its claim ran out): b takes the message and records its attempt.
    expect(await claimMessage(t.db.kysely, 'msg_1', 0, 'b', 61_000, 121_000)).toBe(true);
    expect(await finishClaimed(t.db.kysely, 'msg_1', 0, 'b', { attempts: 1, status: 'delivered', delivered_at_ms: 61_500 })).toBe(true);
    // a wakes up after all: its outcome is not recorded, and the delivered message is not claimed again.
    expect(await finishClaimed(t.db.kysely, 'msg_1', 0, 'a', { attempts: 1, status: 'pending' })).toBe(false);
    expect(await claimMessage(t.db.kysely, 'msg_1', 1, 'a', 200_000, 260_000)).toBe(false);
    const m = await messageById(t.db.kysely, 'msg_1');
    expect({ status: m?.status, attempts: m?.attempts, claimed_by: m?.claimed_by ?? null }).toEqual({ status: 'delivered', attempts: 1, claimed_by: null });
  });
});

describe.skipIf(!PG_URL)('webhook claims raced by two connection pools on PostgreSQL', () => {
  it('of 20 messages claimed at once by two processes, each is claimed exactly once', async () => {
    const t = await openTestDb('postgres');
    const other = openDb(t.target);
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `msg_${i}`);
      for (const id of ids) await pendingMessage(t, id);
      const results = await Promise.all(ids.flatMap((id) => [claimMessage(t.db.kysely, id, 0, 'a', 1000, 61_000), claimMessage(other.kysely, id, 0, 'b', 1000, 61_000)]));
      for (let i = 0; i < ids.length; i++) expect([results[2 * i], results[2 * i + 1]].filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
      await t.cleanup();
    }
  });
});
