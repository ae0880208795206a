// Goal: the support desk's customer and agent routes keep their promises — a case is opened and
// read only by its customer (another user gets 404), internal notes never reach the customer (not
// in the case, not in the event feed), a second case about the same tx hash from another channel
// joins the first, agents need the role (403 otherwise), and each agent change is audited.
// Method: the real platform over a real database (both dialects) through app.inject(); staff
// with TOTP on through the real flow; the outbox rendered by the real webhook dispatcher.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { signedIn, staff, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import type { CaseDto, CaseSummaryDto, MessageDto } from './support.ts';

const HASH = `0x${'ab'.repeat(32)}`;

async function openCase(t: TestPlatform, token: string, payload: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(token), payload });
}

describe.each(DIALECTS)('support routes on %s', (dialect) => {
  it('a customer opens, reads and writes to a case; another user gets 404 on every route', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const b = await signedIn(t, 'b@example.com');
      const res = await openCase(t, a.token, { subject: 'Where is my deposit?', body: 'I sent 10 USDT an hour ago.' });
      expect(res.statusCode).toBe(201);
      const c = json<CaseDto>(res);
      expect(c).toMatchObject({ status: 'new', priority: 'normal', channel: 'web', user_id: a.id, merged_into: null, rating: null });
      expect(c.number).toBeGreaterThan(1000);
      expect(c.messages).toHaveLength(1);
      expect(c.messages[0]).toMatchObject({ author: { type: 'customer', id: a.id }, body: 'I sent 10 USDT an hour ago.', internal: false });

      const list = json<{ data: CaseSummaryDto[] }>(await t.app.inject({ url: '/api/v1/support/cases', headers: bearer(a.token) }));
      expect(list.data.map((x) => x.id)).toEqual([c.id]);
      expect(json<{ data: unknown[] }>(await t.app.inject({ url: '/api/v1/support/cases', headers: bearer(b.token) })).data).toEqual([]);

      expect((await t.app.inject({ url: `/api/v1/support/cases/${c.id}`, headers: bearer(b.token) })).statusCode).toBe(404);
      const intrude = await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/messages`, headers: bearer(b.token), payload: { body: 'hi' } });
      expect(intrude.statusCode).toBe(404);
      expect(intrude.body).not.toContain('a@example.com');

      const msg = await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/messages`, headers: bearer(a.token), payload: { body: 'Any news?' } });
      expect(msg.statusCode).toBe(201);
      expect(json<{ case: CaseDto }>(msg).case.messages.map((m) => m.body)).toEqual(['I sent 10 USDT an hour ago.', 'Any news?']);
      expect((await t.app.inject({ url: `/api/v1/support/cases/${c.id}` })).statusCode).toBe(401);
    });
  });

  it('merges a second case about the same tx hash, from the web and from another channel, into the first', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const first = json<CaseDto>(await openCase(t, a.token, { subject: 'Deposit missing', body: 'tx below', tx_hash: HASH }));
      const again = await openCase(t, a.token, { subject: 'Still missing', body: 'same tx', tx_hash: HASH.toUpperCase().replace('0X', '0x') });
      expect(again.statusCode).toBe(200);
      expect(json<CaseDto>(again).id).toBe(first.id);
      const support = t.platform.support!;
      const mail = await support.openOrJoinCase({ channel: 'email', user_id: a.id, contact: { email: 'a@example.com' }, subject: 'Re: deposit', body: 'by mail', tx_hash: HASH, dedupe_key: 'email:<m1@x>', unverified: true });
      expect(mail).toMatchObject({ created: false, case: { id: first.id } });
      // The same mail delivered twice is stored once.
      await support.openOrJoinCase({ channel: 'email', user_id: a.id, contact: { email: 'a@example.com' }, subject: 'Re: deposit', body: 'by mail', tx_hash: HASH, dedupe_key: 'email:<m1@x>' });
      const c = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${first.id}`, headers: bearer(a.token) }));
      expect(c.messages.map((m) => [m.channel, m.body])).toEqual([['web', 'tx below'], ['web', 'same tx'], ['email', 'by mail']]);
      // Another user's case about the same hash is their own.
      const b = await signedIn(t, 'b@example.com');
      expect((await openCase(t, b.token, { subject: 'Mine too', body: 'x', tx_hash: HASH })).statusCode).toBe(201);
    });
  });

  it('agents need the role; an agent replies, notes internally, assigns, changes status; the customer never sees the note', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const c = json<CaseDto>(await openCase(t, a.token, { subject: 'Help', body: 'please' }));
      for (const path of ['/api/v1/agent/cases', `/api/v1/agent/cases/${c.id}`]) expect((await t.app.inject({ url: path, headers: bearer(a.token) })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/messages`, headers: bearer(a.token), payload: { body: 'x' } })).statusCode).toBe(403);

      const agent = await staff(t, 'agent@example.com', 'agent');
      const queue = json<{ data: CaseSummaryDto[] }>(await t.app.inject({ url: '/api/v1/agent/cases?status=new', headers: bearer(agent.token) }));
      expect(queue.data.map((x) => x.id)).toEqual([c.id]);
      const assigned = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/assign`, headers: bearer(agent.token), payload: {} });
      expect(json<CaseDto>(assigned).assignee_id).toBe(agent.id);
      expect(json<{ data: unknown[] }>(await t.app.inject({ url: '/api/v1/agent/cases?assignee=me', headers: bearer(agent.token) })).data).toHaveLength(1);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/assign`, headers: bearer(agent.token), payload: { assignee_id: a.id } })).statusCode).toBe(422);

      const note = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/messages`, headers: bearer(agent.token), payload: { body: 'SECRET NOTE', internal: true } });
      expect(note.statusCode).toBe(201);
      const reply = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/messages`, headers: bearer(agent.token), payload: { body: 'We are on it.' } });
      expect(json<{ case: CaseDto }>(reply).case.status).toBe('open');
      const staffView = json<CaseDto>(await t.app.inject({ url: `/api/v1/agent/cases/${c.id}`, headers: bearer(agent.token) }));
      expect(staffView.messages.map((m) => m.internal)).toEqual([false, true, false]);

      const customerView = await t.app.inject({ url: `/api/v1/support/cases/${c.id}`, headers: bearer(a.token) });
      expect(customerView.body).not.toContain('SECRET NOTE');
      expect(json<CaseDto>(customerView).messages.map((m) => m.body)).toEqual(['please', 'We are on it.']);

      expect(json<CaseDto>(await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/status`, headers: bearer(agent.token), payload: { status: 'resolved' } })).status).toBe('resolved');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c.id}/status`, headers: bearer(agent.token), payload: { status: 'new' } })).statusCode).toBe(409);
      // CSAT once resolved: not before, once only, and only by the case's customer.
      const b = await signedIn(t, 'b@example.com');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/rating`, headers: bearer(b.token), payload: { score: 5 } })).statusCode).toBe(404);
      const rated = await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/rating`, headers: bearer(a.token), payload: { score: 4, comment: 'quick' } });
      expect(json<CaseDto>(rated).rating).toMatchObject({ score: 4, comment: 'quick' });
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/rating`, headers: bearer(a.token), payload: { score: 1 } })).statusCode).toBe(409);
      // The customer writing again reopens a resolved case.
      expect(json<{ case: CaseDto }>(await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${c.id}/messages`, headers: bearer(a.token), payload: { body: 'not fixed' } })).case.status).toBe('open');

      const audit = await t.platform.db.kysely.selectFrom('audit_log').select('action').where('subject_id', '=', c.id).orderBy('at_ms').orderBy('id').execute();
      expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['support_case_assigned', 'support_note_added', 'support_reply_sent', 'support_case_status']));

      // The event feed (what /stream and webhooks read) has the reply and never the note.
      await t.platform.payments!.webhooks.dispatchTick();
      const feed = await t.platform.db.kysely.selectFrom('user_events').select(['type', 'body']).where('user_id', '=', a.id).orderBy('seq').execute();
      expect(feed.map((e) => e.type)).toEqual(expect.arrayContaining(['case.created', 'case.message', 'case.updated']));
      expect(feed.map((e) => e.body).join('\n')).not.toContain('SECRET NOTE');
      expect(feed.some((e) => e.type === 'case.message' && (JSON.parse(e.body) as { data: MessageDto }).data.body === 'We are on it.')).toBe(true);
    });
  });

  it('agents open a case for a caller, log calls, and merge two cases of the same customer', async () => {
    await withPlatform(dialect, async (t) => {
      const a = await signedIn(t, 'a@example.com');
      const b = await signedIn(t, 'b@example.com');
      const agent = await staff(t, 'agent@example.com', 'agent');
      const phone = await t.app.inject({ method: 'POST', url: '/api/v1/agent/cases', headers: bearer(agent.token), payload: { channel: 'phone', user_id: a.id, subject: 'Caller asks about a withdrawal', body: 'Caller says it is late.' } });
      expect(phone.statusCode).toBe(201);
      const pc = json<CaseDto>(phone);
      expect(pc).toMatchObject({ channel: 'phone', user_id: a.id, status: 'open' });
      const call = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${pc.id}/calls`, headers: bearer(agent.token), payload: { direction: 'out', started_at: '2026-01-01T12:00:00Z', duration_s: 90, notes: 'Called back, explained the review.' } });
      expect(call.statusCode).toBe(201);
      expect(json<{ message: MessageDto }>(call).message).toMatchObject({ channel: 'phone', call: { direction: 'out', duration_s: 90 } });

      const web = json<CaseDto>(await openCase(t, a.token, { subject: 'Withdrawal late', body: 'web form' }));
      const other = json<CaseDto>(await openCase(t, b.token, { subject: 'Other', body: 'b' }));
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${web.id}/merge`, headers: bearer(agent.token), payload: { into_case_id: other.id } })).statusCode).toBe(422);
      const merged = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${web.id}/merge`, headers: bearer(agent.token), payload: { into_case_id: pc.id } });
      expect(merged.statusCode).toBe(200);
      expect(json<CaseDto>(merged).messages.map((m) => m.body)).toContain('web form');
      const source = json<CaseDto>(await t.app.inject({ url: `/api/v1/support/cases/${web.id}`, headers: bearer(a.token) }));
      expect(source).toMatchObject({ status: 'closed', merged_into: pc.id });
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/support/cases/${web.id}/messages`, headers: bearer(a.token), payload: { body: 'x' } })).statusCode).toBe(409);
    });
  });
});
