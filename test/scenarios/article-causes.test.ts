// Goal: issue #6's table, row by row — each cause the source article gives for "paid but the coins
// never arrived" is a state an outside client can see, with its reason, explanation (en and
// zh-CN), ETA and timeline, and none of them loses a coin: confirmation delay, platform
// maintenance, network failure while submitting, account frozen or restricted, wrong amount or
// address.
// Method: one fresh anvil (test USDT) and one fresh platform (the real composition root) per
// scenario, on SQLite and on PostgreSQL when SETTLE_TEST_DATABASE_URL is set; users sign up and
// act only through the HTTP API (an English and a Chinese user side by side, since the
// explanation follows the account's locale); an outside wallet sends real coins; blocks come
// every BLOCK_S seconds by both the chain's and the platform's clock, so every ETA must equal a
// time computed here from that pace. Each scenario ends with `ledger verify` and `reconcile`
// clean. Expected texts are written out here, not read from the catalogue.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { BLOCK_S, iso, type Client, type Payment, type World, startWorld } from './scenario-kit.ts';

const BLOCK_MS = BLOCK_S * 1000;

/** What each explanation says, written out in both languages. */
const TEXT = {
  confirming: (cur: number, req: number) => ({
    en: { message: `Your deposit is confirming: ${cur} of ${req} confirmations.`, next_action: `Nothing to do: it is credited at ${req} confirmations.` },
    'zh-CN': { message: `您的充值正在确认中:已确认 ${cur}/${req}。`, next_action: `无需操作,达到 ${req} 个确认后自动到账。` },
  }),
  credited: {
    en: { message: 'Your deposit has been credited to your available balance.', next_action: 'Nothing to do.' },
    'zh-CN': { message: '您的充值已到账,计入可用余额。', next_action: '无需操作。' },
  },
} as const;

async function depositByTx(w: World, c: Client, tx: string): Promise<Payment> {
  const res = await w.call(c, 'GET', '/payments?kind=deposit&limit=100');
  expect(res.statusCode).toBe(200);
  const found = (res.json() as { data: Payment[] }).data.filter((p) => p.chain?.tx_hash === tx);
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe.each(DIALECTS)('the article\'s causes, end to end on %s', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w?.close();
  });

  it('confirmation delay: confirming n/required by the amount\'s tier, an ETA from the measured block time, credited at depth', async () => {
    const users = [await w.signUp('li.ming@example.test', 'zh-CN'), await w.signUp('ann@example.test', 'en')];
    for (const u of users) {
      const address = await w.depositAddress(u);
      const small = await w.sendUsdt(address, '10');
      const smallSeen = w.t.clock.now_ms();
      // The scanner has measured the chain's pace: GET /status says so.
      const status = (await w.call(null, 'GET', '/status')).json() as { chains: Array<{ chain_id: number; block_time_s: number | null }> };
      expect(status.chains).toEqual([expect.objectContaining({ chain_id: 31337, block_time_s: BLOCK_S })]);

      let p = await depositByTx(w, u, small);
      // ≤ 1000 USDT: the first tier, 3 blocks; the inclusion block counts as 1.
      expect(p).toMatchObject({ kind: 'deposit', direction: 'in', asset: 'USDT', amount: '10', status: 'confirming', hold: null, confirmations: { current: 1, required: 3 } });
      expect(p.explanation).toEqual({ code: 'deposit_confirming', ...TEXT.confirming(1, 3)[u.locale], eta: iso(smallSeen + 2 * BLOCK_MS) });
      expect(await w.balances(u)).toMatchObject({ USDT: { available: '0', pending_in: '10', held: '0' } });

      // 2000 USDT: the second tier (≤ 5000), 6 blocks.
      const big = await w.sendUsdt(address, '2000');
      const bigSeen = w.t.clock.now_ms();
      let q = await depositByTx(w, u, big);
      expect(q).toMatchObject({ amount: '2000', status: 'confirming', confirmations: { current: 1, required: 6 } });
      expect(q.explanation).toEqual({ code: 'deposit_confirming', ...TEXT.confirming(1, 6)[u.locale], eta: iso(bigSeen + 5 * BLOCK_MS) });
      // Blocks arrive on time, so the first ETA has not moved.
      p = await w.payment(u, p.id);
      expect(p).toMatchObject({ status: 'confirming', confirmations: { current: 2, required: 3 } });
      expect(p.explanation).toEqual({ code: 'deposit_confirming', ...TEXT.confirming(2, 3)[u.locale], eta: iso(smallSeen + 2 * BLOCK_MS) });
      expect(await w.balances(u)).toMatchObject({ USDT: { available: '0', pending_in: '2010', held: '0' } });

      await w.mine(1);
      expect(w.t.clock.now_ms()).toBe(smallSeen + 2 * BLOCK_MS); // the ETA was right to the block
      p = await w.payment(u, p.id);
      expect(p).toMatchObject({ status: 'credited', hold: null, confirmations: { current: 3, required: 3 } });
      expect(p.explanation).toEqual({ code: 'deposit_credited', ...TEXT.credited[u.locale], eta: null });
      expect(p.timeline.map((e) => [e.status, e.code, e.message])).toEqual([
        ['confirming', 'deposit_confirming', expect.any(String)],
        ['credited', 'deposit_credited', TEXT.credited[u.locale].message],
      ]);
      expect(p.timeline.map((e) => e.at)).toEqual([iso(smallSeen), iso(smallSeen + 2 * BLOCK_MS)]);
      expect(await w.balances(u)).toMatchObject({ USDT: { available: '10', pending_in: '2000', held: '0' } });

      await w.mine(2);
      q = await w.payment(u, q.id);
      expect(q).toMatchObject({ status: 'confirming', confirmations: { current: 4, required: 6 } });
      expect(q.explanation).toEqual({ code: 'deposit_confirming', ...TEXT.confirming(4, 6)[u.locale], eta: iso(bigSeen + 5 * BLOCK_MS) });
      await w.mine(2);
      expect(w.t.clock.now_ms()).toBe(bigSeen + 5 * BLOCK_MS);
      q = await w.payment(u, q.id);
      expect(q).toMatchObject({ status: 'credited', confirmations: { current: 6, required: 6 }, explanation: { code: 'deposit_credited', eta: null } });
      expect(q.timeline.map((e) => e.status)).toEqual(['confirming', 'credited']);
      expect(await w.balances(u)).toMatchObject({ USDT: { available: '2010', pending_in: '0', pending_out: '0', held: '0' } });
    }
    const report = await w.audit();
    expect(report.discrepancies).toEqual([]);
    expect(report.ok).toBe(true);
  }, 60_000);
});
