// Goal: the public status on both dialects — per chain the deposits / withdrawals state, the
// confirmation times p50 / p95 over the last hour, the backlog, incidents with their updates
// (nothing internal), and GET /status/history bucketing the recorded samples (days 1..7 or 30),
// with samples recorded once per minute and forgotten after the retention.
// Method: a whole platform with one never-contacted chain (its scanner cursor written as the
// scanner would), payments written through the payments module, the sampler's function run by hand.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { json } from '../../test/helpers/accounts-testkit.ts';
import { signUp, withSecurityPlatform } from '../../test/helpers/security-kit.ts';
import { createPayment, transitionPayment } from '../payments/payments.ts';
import { chainFigures } from '../payments/payment-status-facts.ts';
import { RETENTION_MS, recordSamples } from './status-samples.ts';

type Chain = { chain_id: number; deposits: string; withdrawals: string; confirmation_time_s: { p50: number | null; p95: number | null }; backlog: { deposits_confirming: number; withdrawals_queued: number }; head: number | null; lag_blocks: number | null };

describe.each(DIALECTS)('status on %s', (dialect) => {
  it('per chain state, confirmation times, backlog, incidents; history from the recorded samples', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const { db, config } = t.platform;
      const clock = t.clock;
      const u = await signUp(t, 'ann@example.com');
      const cursor = (head: number, next_block: number) => ({ chain_id: 31337, next_block, head, head_seen_at_ms: clock.now_ms(), block_time_ms: 2000, updated_at_ms: clock.now_ms() });
      await db.kysely.insertInto('chain_cursors').values(cursor(500, 495)).execute();
      // Three deposits credited after 60, 120 and 600 s; one still confirming; one withdrawal waiting.
      const chain = (n: number) => ({ chain_id: 31337, tx_hash: `0x${String(n).padStart(64, '0')}`, log_index: 0, block_number: n, from: null, to: null, token: null });
      for (const [i, wait_s] of [[1, 60], [2, 120], [3, 600]] as const) {
        await db.transaction((trx) => createPayment(trx, { id: `pay_dep00000${i}`, user_id: u.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: chain(i) }, clock));
        clock.advance(wait_s * 1000);
        await db.transaction((trx) => transitionPayment(trx, `pay_dep00000${i}`, { status: 'credited' }, clock));
      }
      await db.transaction(async (trx) => {
        await createPayment(trx, { id: 'pay_dep000009', user_id: u.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1n, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: chain(9) }, clock);
        await createPayment(trx, { id: 'pay_wd0000001', user_id: u.id, kind: 'withdrawal', direction: 'out', asset: 'USDT', amount_minor: 1n, status: 'requested' }, clock);
        await trx.insertInto('reconcile_incidents').values({ id: 'inc_1', key: 'k1', chain_id: 31337, asset: 'USDT', kind: 'address_balance_mismatch', subject: '0xsecretaddress', expected_minor: 5n, actual_minor: 4n, details: '{"secret":true}', opened_at_ms: clock.now_ms(), last_seen_at_ms: clock.now_ms(), resolved_at_ms: null, acknowledged_at_ms: clock.now_ms() + 1, acknowledged_by: 'usr_staff' }).execute();
      });
      await db.kysely.updateTable('chain_cursors').set({ head_seen_at_ms: clock.now_ms() }).execute();

      const status = json<{ chains: Chain[]; incidents: Array<Record<string, unknown>> }>(await t.app.inject({ url: '/api/v1/status' }));
      expect(status.chains[0]).toMatchObject({ chain_id: 31337, head: 500, lag_blocks: 6, deposits: 'operational', withdrawals: 'operational', confirmation_time_s: { p50: 120, p95: 600 }, backlog: { deposits_confirming: 1, withdrawals_queued: 1 } });
      expect(status.incidents).toEqual([{ id: 'inc_1', kind: 'address_balance_mismatch', chain_id: 31337, status: 'identified', started_at: expect.any(String), resolved_at: null, updates: [{ at: expect.any(String), status: 'investigating' }, { at: expect.any(String), status: 'identified' }] }]);
      expect(JSON.stringify(status)).not.toMatch(/secretaddress|usr_staff/);

      // Samples: one per chain and minute (twice in the same minute writes once), then bucketed.
      const sample = async () => recordSamples(db, await chainFigures(db.kysely, config, clock.now_ms(), () => false), clock.now_ms());
      expect(await sample()).toBe(1);
      expect(await sample()).toBe(0);
      clock.advance(40 * 60_000); // the withdrawal now waits > 30 min, and the head is stale
      expect(await sample()).toBe(1);
      const later = json<{ chains: Chain[] }>(await t.app.inject({ url: '/api/v1/status' })).chains[0]!;
      expect([later.deposits, later.withdrawals]).toEqual(['halted', 'delayed']);

      const history = json<{ days: number; bucket_s: number; chains: Array<{ chain_id: number; points: Array<Record<string, unknown>> }> }>(await t.app.inject({ url: '/api/v1/status/history?days=1' }));
      expect(history).toMatchObject({ days: 1, bucket_s: 900 });
      const points = history.chains[0]!.points;
      expect(points).toHaveLength(2);
      expect(points[0]).toMatchObject({ deposits: 'operational', withdrawals: 'operational', confirm_p50_s: 120, confirm_p95_s: 600, deposits_confirming: 1, withdrawals_queued: 1, lag_blocks: 6 });
      expect(points[1]).toMatchObject({ deposits: 'halted', withdrawals: 'delayed' });
      expect(json<{ bucket_s: number }>(await t.app.inject({ url: '/api/v1/status/history?days=30' })).bucket_s).toBe(21600);
      for (const bad of ['days=8', 'days=0', 'days=31', 'days=x']) expect((await t.app.inject({ url: `/api/v1/status/history?${bad}` })).statusCode).toBe(400);

      // Retention: samples older than 31 days are forgotten by the next sample.
      clock.advance(RETENTION_MS + 60_000);
      await sample();
      expect(await db.kysely.selectFrom('status_samples').select('at_ms').execute()).toHaveLength(1);
    });
  });
});
