// Goal: a stuck payment opens its own case (system channel, priority high, evidence attached, one
// per payment, the user told by mail in their language) and the case resolves itself when the
// payment moves on; a customer's case waiting in pending_chain says so when its payment completes.
// Method: the real platform (both dialects); the payment written through the payments face, the
// stuck event raised by the real detector (payment-stuck.ts, with measured block time handed in
// as in its own tests), the support consumers run one tick at a time.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { signedIn, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import { createPayment, transitionPayment } from '../payments/payments.ts';
import { detectStuck } from '../payments/payment-stuck.ts';
import type { CaseDto, CaseSummaryDto } from './support.ts';

describe.each(DIALECTS)('stuck payments open cases on %s', (dialect) => {
  it('opens one high-priority system case with evidence, mails the user, and resolves it when the payment moves on', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const p = t.platform;
      await p.db.transaction((trx) => createPayment(trx, { id: 'pay_stuck', user_id: a.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 5_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: { chain_id: 31337, tx_hash: `0x${'ef'.repeat(32)}`, log_index: 0, block_number: 1, from: null, to: null, token: null } }, t.clock));
      const view = { ...p.payments!.view, chainTiming: async () => new Map([[31337, { block_time_ms: 12_000, head_seen_at_ms: t.clock.now_ms() }]]) };
      t.clock.advance(11 * 60_000);
      expect(await detectStuck(view)).toBe(1);
      await p.supportFollowers!.stuckTick();
      await p.supportFollowers!.stuckTick();

      const list = json<{ data: CaseSummaryDto[] }>(await t.app.inject({ url: '/api/v1/support/cases', headers: bearer(a.token) }));
      expect(list.data).toHaveLength(1);
      expect(list.data[0]).toMatchObject({ channel: 'system', priority: 'high', payment_id: 'pay_stuck', status: 'new' });
      const c = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${list.data[0]!.id}`, headers: bearer(a.token) }));
      expect(c.evidence.map((e) => e.kind)).toEqual(expect.arrayContaining(['stuck', 'payment', 'account']));
      expect(c.messages[0]).toMatchObject({ author: { type: 'system' } });
      expect(c.messages[0]!.body).toContain('pay_stuck');

      await t.drainJobs();
      const mail = p.mailbox!.to('a@example.com').find((m) => m.subject.includes(`[#${c.number}]`));
      expect(mail).toBeDefined();

      // Detected again (same state): still one case.
      t.clock.advance(60_000);
      await detectStuck(view);
      await p.supportFollowers!.stuckTick();
      expect(json<{ data: unknown[] }>(await t.app.inject({ url: '/api/v1/support/cases', headers: bearer(a.token) })).data).toHaveLength(1);

      // Blocks resume: the deposit is credited and the case resolves itself.
      await p.db.transaction((trx) => transitionPayment(trx, 'pay_stuck', { status: 'credited', confirmations: { current: 3, required: 3 } }, t.clock));
      await p.supportFollowers!.movesTick();
      const after = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${c.id}`, headers: bearer(a.token) }));
      expect(after.status).toBe('resolved');
      expect(after.messages.at(-1)).toMatchObject({ author: { type: 'system' } });
      expect(after.messages.at(-1)!.body).toContain('credited');
    });
  });

  it('a case waiting in pending_chain says so and resolves when its payment completes', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const p = t.platform;
      await p.db.transaction((trx) => createPayment(trx, { id: 'pay_w', user_id: a.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 1_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, t.clock));
      await p.supportFollowers!.movesTick();
      const c = json<CaseDto>(await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(a.token), payload: { subject: 'Deposit?', body: 'where', payment_id: 'pay_w' } }));
      expect(c.status).toBe('pending_chain');
      await p.db.transaction((trx) => transitionPayment(trx, 'pay_w', { status: 'credited', confirmations: { current: 3, required: 3 } }, t.clock));
      await p.supportFollowers!.movesTick();
      const after = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${c.id}`, headers: bearer(a.token) }));
      expect(after.status).toBe('resolved');
      expect(after.messages.map((m) => m.author.type)).toEqual(['customer', 'system', 'system']);
    });
  });
});
