// Goal: a withdrawal never rests in a non-final state unwatched. When its durable job gives up
// (25 failed attempts: here the chain's RPC is unreachable for days), the withdrawal watch
// re-drives it with a fresh job and raises it to staff: an audit entry staff read at
// GET /admin/audit and a `withdrawal.stalled` outbox event. A withdrawal whose job is alive is
// left alone, and a stalled one is raised once per re-drive, not on every pass.
// Method: the whole platform (real database, accounts, ledger, jobs) whose chain RPC is a closed
// port; the job runner's own retries exhaust the job; ManualClock moves past each backoff.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { PW, WITHDRAW_TO, fund, signUp, steppedUpStaff, withSecurityPlatform } from '../helpers/security-kit.ts';
import { watchStalledWithdrawals } from '../../src/payments/withdrawals/withdrawal-watch.ts';

describe.each(DIALECTS)('withdrawal watch on %s', (dialect) => {
  it('re-drives a withdrawal whose job gave up, and tells staff', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const u = await signUp(t, 'walt@example.test');
      await fund(t, u.id, 'USDT', '50');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: u.headers, payload: { password: PW } })).statusCode).toBe(204);
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { ...u.headers, 'idempotency-key': 'w1' }, payload: { asset: 'USDT', to_address: WITHDRAW_TO, amount: '5' } });
      expect(r.statusCode, r.body).toBe(201);
      const id = json<{ id: string; status: string }>(r).id;
      const payload = JSON.stringify({ id });
      const jobsOf = () => t.platform.db.kysely.selectFrom('jobs').select(['status', 'attempts']).where('kind', '=', 'withdrawal.advance').where('payload', '=', payload).execute();

      // The RPC stays down: the job runner retries with backoff until the job fails for good.
      for (let i = 0; i < 40; i++) {
        t.clock.advance(7 * 3600_000);
        await t.platform.jobs.tick();
        if ((await jobsOf()).every((j) => j.status === 'failed')) break;
      }
      expect((await jobsOf()).map((j) => j.status)).toEqual(['failed']);
      const status = async () => (await t.platform.db.kysely.selectFrom('payments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
      expect(await status()).toBe('requested'); // not final, and nothing would ever look at it again

      const raised = await watchStalledWithdrawals({ db: t.platform.db, clock: t.platform.clock });
      expect(raised).toEqual([id]);
      expect((await jobsOf()).map((j) => j.status).sort()).toEqual(['failed', 'queued']); // driven again
      const events = await sql<{ type: string; aggregate_id: string }>`select type, aggregate_id from outbox_events where type = 'withdrawal.stalled'`.execute(t.platform.db.kysely);
      expect(events.rows).toEqual([{ type: 'withdrawal.stalled', aggregate_id: id }]);

      // Staff see it in the audit log.
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const audit = await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit', headers: admin.headers });
      expect(audit.statusCode, audit.body).toBe(200);
      const stalled = json<{ data: Array<{ action: string; details: Record<string, unknown> }> }>(audit).data.filter((e) => e.action === 'withdrawal_stalled');
      expect(stalled).toHaveLength(1);
      expect(stalled[0]!.details).toMatchObject({ payment_id: id, status: 'requested' });

      // While the new job lives, the watch leaves the withdrawal alone.
      expect(await watchStalledWithdrawals({ db: t.platform.db, clock: t.platform.clock })).toEqual([]);
    });
  }, 120_000);
});
