// Goal: GET /agent/stream sends staff the queue's case events as they happen — a customer's new
// case and message, and an agent's internal note (which the customer's /stream never carries) —
// over a real socket. Method: the real platform (both dialects), staff with TOTP on through the
// real flow, the stream read with fetch.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { signedIn, staff, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import { listenSse, until } from '../../test/helpers/sse.ts';

describe.each(DIALECTS)('agent stream on %s', (dialect) => {
  it('streams a new case, the customer message and an internal note to staff', async () => {
    await withPlatform(dialect, async (t) => {
      const customer = await signedIn(t, 'c@example.com');
      const agent = await staff(t, 'agent@example.com', 'agent');
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const s = listenSse(base, bearer(agent.token), '/api/v1/agent/stream');
      await until(() => s.opened());
      const opened = await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(customer.token), payload: { subject: 'Deposit missing', body: 'I sent 10 USDT.' } });
      expect(opened.statusCode).toBe(201);
      const id = json<{ id: string }>(opened).id;
      const note = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${id}/messages`, headers: bearer(agent.token), payload: { body: 'checking the chain', internal: true } });
      expect(note.statusCode).toBeLessThan(300);
      await until(() => s.events().some((e) => e.event === 'case.message' && JSON.parse(e.data!).data.internal === true));
      const events = s.events();
      expect(events.some((e) => e.event === 'case.updated' && JSON.parse(e.data!).data.id === id)).toBe(true);
      expect(events.filter((e) => e.event === 'case.message').map((e) => JSON.parse(e.data!).data.body)).toEqual(['I sent 10 USDT.', 'checking the chain']);
      expect(events.every((e) => Number(e.id) > 0)).toBe(true);
      await s.close();
    });
  });
});
