// Retention (security review #20): the hourly housekeeping job deletes history past its age and
// nothing else — queued jobs, outbox events a consumer has not passed, live sessions, pending
// webhook messages, recent feed rows and the audit log stay. Driven through the real platform
// (registrations, sign-ins, failed sign-ins, the job runner) on a ManualClock, on both dialects.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../test/helpers/db.ts';
import { login, register, withPlatform } from '../test/helpers/accounts-api-kit.ts';
import { bearer, json, type TestPlatform } from '../test/helpers/accounts-testkit.ts';
import { emitEvent } from './jobs/jobs.ts';
import { runHousekeeping } from './housekeeping.ts';

const DAY = 86_400_000;

async function count(t: TestPlatform, table: 'jobs' | 'outbox_events' | 'sessions' | 'login_throttle' | 'webhook_messages' | 'webhook_attempts' | 'user_events' | 'audit_log', where?: [string, string]): Promise<number> {
  let q = t.platform.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
  if (where) q = q.where(where[0] as never, '=', where[1] as never);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Old history of every kind, written straight into the tables the modules own. */
async function seedHistory(t: TestPlatform, user_id: string, at: number): Promise<void> {
  const k = t.platform.db.kysely;
  await k.insertInto('webhook_endpoints').values({ id: 'whe_old', user_id, url: 'https://example.com/h', events: '[]', secret: 's', previous_secret: null, previous_secret_until_ms: null, created_at_ms: at, deleted_at_ms: null }).execute();
  const msg = (id: string, status: string, created_at_ms: number) => ({ id, endpoint_id: 'whe_old', user_id, event_id: `evt_${id}`, event_seq: 1, type: 'payment.credited', ordering_key: 'p', body: '{}', status, attempts: 1, next_attempt_at_ms: created_at_ms, last_status_code: 200, last_error: null, created_at_ms, delivered_at_ms: status === 'delivered' ? created_at_ms : null });
  await k.insertInto('webhook_messages').values([msg('msg_done', 'delivered', at), msg('msg_dead', 'dead', at), msg('msg_pending', 'pending', at)]).execute();
  await k.insertInto('webhook_attempts').values(['msg_done', 'msg_dead', 'msg_pending'].map((message_id) => ({ message_id, n: 1, at_ms: at, status_code: 500, latency_ms: 3, error: null }))).execute();
  await k.insertInto('user_events').values({ seq: 1, user_id, event_id: 'evt_feed_old', type: 'payment.credited', body: '{}', created_at_ms: at }).execute();
}

describe.each(DIALECTS)('housekeeping on %s', (dialect) => {
  it('deletes only history past its age, in bounded chunks, through the hourly job', async () => {
    await withPlatform(dialect, async (t) => {
      const start = t.clock.now_ms();
      const ann = await register(t, 'ann@example.com');
      expect(ann.statusCode).toBe(201);
      const ann_id = (ann.json() as { user: { id: string } }).user.id;
      const token = async () => (json<{ token: string }>(await login(t, 'ann@example.com'))).token;
      const ended = await token();
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(ended) })).statusCode).toBe(204);
      await token(); // left to expire
      for (let i = 0; i < 3; i++) expect((await login(t, 'ann@example.com', 'wrong password!!')).statusCode).toBe(401);
      await t.drainJobs();
      await seedHistory(t, ann_id, start);
      const emit = (n: number) => emitEvent(t.platform.db.kysely, { type: 'test.happened', aggregate_type: 'test', aggregate_id: `x${n}`, payload: {} }, t.clock);
      for (const n of [1, 2, 3]) await emit(n);
      const seqs = (await t.platform.db.kysely.selectFrom('outbox_events').select('seq').where('type', '=', 'test.happened').orderBy('seq').execute()).map((e) => Number(e.seq));
      const cursor = (consumer: string, seq: number) => t.platform.db.kysely.insertInto('outbox_cursors').values({ consumer, seq, updated_at_ms: t.clock.now_ms() }).onConflict((oc) => oc.column('consumer').doUpdateSet({ seq })).execute();
      await cursor('test.fast', seqs[1]!); // has passed the first two events
      const audit = await count(t, 'audit_log');
      expect(await count(t, 'login_throttle')).toBeGreaterThan(0);
      const doneJobs = await count(t, 'jobs', ['status', 'done']);
      expect(doneJobs).toBeGreaterThan(0);

      // 40 days on: Ann signs in again; a new feed row arrives.
      t.clock.advance(40 * DAY);
      const live = await token();
      await t.platform.db.kysely.insertInto('user_events').values({ seq: 2, user_id: ann_id, event_id: 'evt_feed_new', type: 'payment.credited', body: '{}', created_at_ms: t.clock.now_ms() }).execute();

      const counts = await runHousekeeping(t.platform.db, t.platform.config, t.clock.now_ms(), 2);
      expect(counts.jobs).toBe(doneJobs); // in chunks of 2: the loop went on until a short chunk
      expect(counts.sessions).toBeGreaterThanOrEqual(2); // the ended one and the 40-day-old one
      expect(counts.login_throttle).toBeGreaterThan(0);
      expect(counts).toMatchObject({ webhook_messages: 2, user_events: 1, outbox_events: 2 });

      // What stays: the live session, the pending message with its attempt, the new feed row, the audit log.
      const sessions = await t.platform.db.kysely.selectFrom('sessions').select('id').execute();
      expect(sessions).toHaveLength(1);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(live) })).statusCode).toBe(200);
      expect((await t.platform.db.kysely.selectFrom('webhook_messages').select('id').execute()).map((m) => m.id)).toEqual(['msg_pending']);
      expect(await count(t, 'webhook_attempts')).toBe(1);
      expect((await t.platform.db.kysely.selectFrom('user_events').select('event_id').execute()).map((e) => e.event_id)).toEqual(['evt_feed_new']);
      expect(await count(t, 'audit_log')).toBeGreaterThanOrEqual(audit);
      expect(await count(t, 'jobs', ['status', 'queued'])).toBeGreaterThan(0);
      // Outbox: only the events every consumer passed went; the third waits for test.fast.
      const left = async () => (await t.platform.db.kysely.selectFrom('outbox_events').select('seq').where('type', '=', 'test.happened').execute()).map((e) => Number(e.seq));
      expect(await left()).toEqual([seqs[2]]);

      // A consumer that has not passed an event holds it, however old.
      await cursor('test.fast', seqs[2]!);
      await cursor('test.slow', seqs[1]!);
      t.clock.advance(40 * DAY);
      expect((await runHousekeeping(t.platform.db, t.platform.config, t.clock.now_ms())).outbox_events).toBe(0);
      expect(await left()).toEqual([seqs[2]]);

      // The hourly job runs it and queues its next run: once every consumer has passed the event, it goes.
      await cursor('test.slow', seqs[2]!);
      t.clock.advance(3600_000);
      await t.drainJobs();
      expect(await left()).toEqual([]);
      const next = await t.platform.db.kysely.selectFrom('jobs').select('run_at_ms').where('kind', '=', 'ops.purge_idempotency').where('status', '=', 'queued').execute();
      expect(next.length).toBe(1);
      expect(Number(next[0]!.run_at_ms)).toBeGreaterThan(t.clock.now_ms());
    });
  });
});
