// Goal: a case that names a payment carries its evidence at once (the payment with its timeline,
// the diagnosis, the account's standing), a payment waiting on the chain is answered by the system
// at once and the case waits in pending_chain, someone else's payment id yields no evidence of
// it, and agents can capture the evidence again. Method: the real platform (both dialects),
// payments written through the payments face as the scanner would.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { signedIn, staff, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import { createPayment } from '../payments/payments.ts';
import type { CaseDto } from './support.ts';

describe.each(DIALECTS)('support evidence on %s', (dialect) => {
  it('captures payment, diagnosis and account evidence; answers a chain wait at once; refreshes on request', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const b = await signedIn(t, 'b@example.com');
      await t.platform.db.transaction((trx) => createPayment(trx, { id: 'pay_wait', user_id: a.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 10_000_000n, status: 'confirming', confirmations: { current: 1, required: 12 }, chain: { chain_id: 31337, tx_hash: `0x${'cd'.repeat(32)}`, log_index: 0, block_number: 1, from: null, to: null, token: null } }, t.clock));

      const res = await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(a.token), payload: { subject: 'Deposit not there', body: 'Where is it?', payment_id: 'pay_wait' } });
      expect(res.statusCode).toBe(201);
      const c = json<CaseDto>(res);
      expect(c.evidence.map((e) => e.kind).sort()).toEqual(['account', 'diagnosis', 'payment']);
      expect(c.evidence.find((e) => e.kind === 'payment')!.data).toMatchObject({ id: 'pay_wait', status: 'confirming', timeline: expect.any(Array) });
      expect(c.evidence.find((e) => e.kind === 'account')!.data).toMatchObject({ status: 'active', freezes: [] });
      expect(c.status).toBe('pending_chain');
      expect(c.sla.paused).toBe(true);
      expect(c.messages.map((m) => m.author.type)).toEqual(['customer', 'system']);
      expect(c.messages[1]!.body).toContain('Settle answered at once');

      // Naming someone else's payment shows nothing of it.
      const other = json<CaseDto>(await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(b.token), payload: { subject: 'x', body: 'y', payment_id: 'pay_wait' } }));
      expect(other.evidence.map((e) => e.kind)).toEqual(['account']);
      expect(JSON.stringify(other)).not.toContain('confirming');
      expect(other.status).toBe('new');

      const agent = await staff(t, 'agent@example.com', 'agent');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/evidence/refresh`, headers: bearer(a.token) })).statusCode).toBe(403);
      const refreshed = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/evidence/refresh`, headers: bearer(agent.token) });
      expect(refreshed.statusCode).toBe(200);
      expect(json<CaseDto>(refreshed).evidence).toHaveLength(6);
    });
  });
});
