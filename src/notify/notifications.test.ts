// Goal: prove notifications end to end on both dialects — a sign-in from a new device gives the
// new-device notice in-app (live on /stream, in the reader's language) and exactly one real mail;
// preferences refuse turning security notices off and change nothing; payments' events become
// deposit / withdrawal / transfer notices once each, mailed only for the kinds the user wants.
// Method: a whole platform per test (real database, real in-process SMTP server), HTTP through
// app.inject() and a real listening socket for the stream, outbox consumers run by hand.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, startTestPlatform, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { TEST_CHAINS } from '../../test/helpers/payment-testkit.ts';
import { PW, UA_A, UA_B, login, register, withPlatform } from '../../test/helpers/accounts-api-kit.ts';
import { listenSse, until } from '../../test/helpers/sse.ts';
import { createPayment, transitionPayment } from '../payments/payments.ts';
import { saveCursor } from '../jobs/outbox.ts';
import { NOTIFICATIONS_CONSUMER } from './notifications.ts';

type Page = { data: Array<{ id: string; kind: string; title: string; body: string; link: string | null; read_at: string | null }>; next_cursor: string | null; unread_count: number };

async function dispatch(t: TestPlatform): Promise<void> {
  while ((await t.platform.notifications!.consumeTick()) > 0);
  while ((await t.platform.payments!.webhooks.dispatchTick()) > 0);
}

async function userToken(t: TestPlatform, email: string, locale: 'en' | 'zh-CN' = 'en'): Promise<{ token: string; id: string }> {
  expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PW, locale } })).statusCode).toBe(201);
  const body = json<{ token: string; user: { id: string } }>(await login(t, email, PW, {}, '192.0.2.10', UA_A));
  return { token: body.token, id: body.user.id };
}

describe.each(DIALECTS)('notifications on %s', (dialect) => {
  it('a login from a new device gets the new-device notice in-app (live, in my language) and by mail, once', async () => {
    await withPlatform(dialect, async (t) => {
      const mei = await userToken(t, 'mei@example.com', 'zh-CN');
      const other = await userToken(t, 'oli@example.com');
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const stream = listenSse(base, bearer(mei.token));
      await until(() => stream.opened());
      await login(t, 'mei@example.com', PW, {}, '198.51.100.4', UA_B);
      await dispatch(t);
      await until(() => stream.events().length > 0);
      const live = JSON.parse(stream.events()[0]!.data!) as { type: string; data: Page['data'][number] };
      expect(stream.events()[0]!.event).toBe('notification.created');
      expect(live.data).toMatchObject({ kind: 'security.new_device', title: '您的 Settle 账户有新的登录', read_at: null });
      await stream.close();

      const page = json<Page>(await t.app.inject({ url: '/api/v1/notifications', headers: bearer(mei.token) }));
      expect(page.unread_count).toBe(1);
      expect(page.data).toHaveLength(1);
      expect(page.data[0]).toEqual(live.data);
      expect(page.data[0]!.body).toContain('Firefox on Windows');
      expect(page.data[0]!.link).toMatch(/\/api\/v1\/auth\/not-me\?token=/);
      // The same row reads in English for an English reader: rendered when read, not when written.
      await t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: bearer(mei.token), payload: { locale: 'en' } });
      expect(json<Page>(await t.app.inject({ url: '/api/v1/notifications', headers: bearer(mei.token) })).data[0]!.title).toBe('New sign-in to your Settle account');

      await t.drainJobs();
      const mails = t.platform.mailbox!.to('mei@example.com').filter((m) => m.text.includes('/auth/not-me?token='));
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('您的 Settle 账户有新的登录');
      expect(mails[0]!.text).toContain(page.data[0]!.link!);

      // Reading: another user's notification is a 404 and stays unread; the owner's read sticks.
      const id = page.data[0]!.id;
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/notifications/${id}/read`, headers: bearer(other.token) })).statusCode).toBe(404);
      expect(json<Page>(await t.app.inject({ url: '/api/v1/notifications?unread=true', headers: bearer(mei.token) })).data).toHaveLength(1);
      const read = await t.app.inject({ method: 'POST', url: `/api/v1/notifications/${id}/read`, headers: bearer(mei.token) });
      expect(read.statusCode).toBe(200);
      expect(json<{ read_at: string | null }>(read).read_at).not.toBeNull();
      const after = json<Page>(await t.app.inject({ url: '/api/v1/notifications?unread=true', headers: bearer(mei.token) }));
      expect(after).toMatchObject({ data: [], unread_count: 0, next_cursor: null });
      expect(json<Page>(await t.app.inject({ url: '/api/v1/notifications', headers: bearer(other.token) })).data).toEqual([]);
      expect((await t.app.inject({ url: '/api/v1/notifications' })).statusCode).toBe(401);
    });
  });

  it('preferences: security kinds cannot be turned off (422, nothing changes); others can', async () => {
    await withPlatform(dialect, async (t) => {
      const ann = await userToken(t, 'ann@example.com');
      const get = async () => json<{ kinds: Record<string, { in_app: boolean; email: boolean; locked: boolean }> }>(await t.app.inject({ url: '/api/v1/me/notification-preferences', headers: bearer(ann.token) }));
      const before = await get();
      expect(before.kinds['security.new_device']).toEqual({ in_app: true, email: true, locked: true });
      expect(before.kinds['deposit.credited']).toEqual({ in_app: true, email: false, locked: false });
      const put = (kinds: Record<string, unknown>) => t.app.inject({ method: 'PUT', url: '/api/v1/me/notification-preferences', headers: bearer(ann.token), payload: { kinds } });
      const locked = await put({ 'deposit.credited': { in_app: false, email: true }, 'security.frozen': { in_app: true, email: false } });
      expect(locked.statusCode).toBe(422);
      expect(json(locked)).toMatchObject({ code: 'preference_locked', kind: 'security.frozen' });
      expect(await get()).toEqual(before);
      const unknown = await put({ 'deposit.everything': { in_app: true, email: true } });
      expect(unknown.statusCode).toBe(422);
      expect(json(unknown).code).toBe('unknown_notification_kind');
      expect((await put({ 'deposit.credited': { in_app: 'yes', email: true } })).statusCode).toBe(400);
      const ok = await put({ 'deposit.credited': { in_app: true, email: true }, 'withdrawal.completed': { in_app: false, email: false }, 'security.frozen': { in_app: true, email: true } });
      expect(ok.statusCode).toBe(200);
      const now = await get();
      expect(now.kinds['deposit.credited']).toEqual({ in_app: true, email: true, locked: false });
      expect(now.kinds['withdrawal.completed']).toEqual({ in_app: false, email: false, locked: false });
      expect(now.kinds['security.frozen']).toEqual({ in_app: true, email: true, locked: true });
    });
  });

  it('payments become notices once each: credited, held then released, withdrawal failed, transfer received; mail per preference', async () => {
    const t = await startTestPlatform(dialect, {}, { chains: TEST_CHAINS });
    try {
      const ann = await userToken(t, 'ann@example.com');
      const ben = await userToken(t, 'ben@example.com', 'zh-CN');
      await t.app.inject({ method: 'PUT', url: '/api/v1/me/notification-preferences', headers: bearer(ann.token), payload: { kinds: { 'deposit.credited': { in_app: true, email: true } } } });
      const { db, clock } = t.platform;
      await db.transaction(async (trx) => {
        await createPayment(trx, { id: 'pay_dep0000001', user_id: ann.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 12_500_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, clock);
        await createPayment(trx, { id: 'pay_dep0000002', user_id: ann.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 3_000_000n, status: 'held', hold: 'account_frozen' }, clock);
        await createPayment(trx, { id: 'pay_wd00000001', user_id: ann.id, kind: 'withdrawal', direction: 'out', asset: 'USDT', amount_minor: 1_000_000n, status: 'requested' }, clock);
        await createPayment(trx, { id: 'pay_tr00000001', user_id: ben.id, kind: 'transfer', direction: 'in', asset: 'USDT', amount_minor: 2_000_000n, status: 'completed', counterparty: ann.id }, clock);
      });
      await db.transaction(async (trx) => {
        await transitionPayment(trx, 'pay_dep0000001', { status: 'credited' }, clock);
        await transitionPayment(trx, 'pay_dep0000002', { status: 'credited' }, clock);
        await transitionPayment(trx, 'pay_wd00000001', { status: 'failed' }, clock);
      });
      await dispatch(t);
      // Handled again from the start (a crash before the cursor moved): nothing twice.
      await db.transaction((trx) => saveCursor(trx, NOTIFICATIONS_CONSUMER, 0, clock.now_ms()));
      await dispatch(t);
      const annPage = json<Page>(await t.app.inject({ url: '/api/v1/notifications?limit=100', headers: bearer(ann.token) }));
      const byLink = (link: string) => annPage.data.filter((n) => n.link === link).map((n) => n.kind).sort();
      expect(byLink('/payments/pay_dep0000001')).toEqual(['deposit.credited']);
      expect(byLink('/payments/pay_dep0000002')).toEqual(['deposit.held', 'deposit.released']);
      expect(byLink('/payments/pay_wd00000001')).toEqual(['withdrawal.failed']);
      expect(annPage.data.find((n) => n.kind === 'deposit.credited')!.title).toBe('Deposit credited: 12.5 USDT');
      const benPage = json<Page>(await t.app.inject({ url: '/api/v1/notifications', headers: bearer(ben.token) }));
      expect(benPage.data.map((n) => n.kind)).toEqual(['transfer.received']);
      expect(benPage.data[0]!.title).toBe('您收到了 2 USDT');
      expect(benPage.data[0]!.body).toContain('ann@example.com');
      // Paging: a cursor continues where the page ended, nothing repeated.
      const first = json<Page>(await t.app.inject({ url: '/api/v1/notifications?limit=2', headers: bearer(ann.token) }));
      const second = json<Page>(await t.app.inject({ url: `/api/v1/notifications?limit=2&cursor=${first.next_cursor}`, headers: bearer(ann.token) }));
      expect([...first.data, ...second.data].map((n) => n.id)).toEqual(annPage.data.slice(0, 4).map((n) => n.id));

      await t.drainJobs();
      const subjects = t.platform.mailbox!.to('ann@example.com').map((m) => m.subject);
      // Chosen (credited), default-on (held, failed), default-off (released): one mail each at most.
      expect(subjects.filter((s) => s.startsWith('Deposit credited'))).toHaveLength(1);
      expect(subjects.filter((s) => s.startsWith('Deposit on hold'))).toHaveLength(1);
      expect(subjects.filter((s) => s.startsWith('Withdrawal failed'))).toHaveLength(1);
      expect(subjects.filter((s) => s.startsWith('Held deposit released'))).toHaveLength(0);
      expect(t.platform.mailbox!.to('ben@example.com').filter((m) => m.subject.includes('您收到了'))).toHaveLength(0);
      expect(t.platform.mailbox!.to('ann@example.com').find((m) => m.subject.startsWith('Withdrawal failed'))!.text).toContain('/payments/pay_wd00000001');
    } finally {
      await t.close();
    }
  });

  it('the older GET /me/notifications lists the same notices in my language', async () => {
    await withPlatform(dialect, async (t) => {
      await register(t, 'kim@example.com');
      const first = json<{ token: string }>(await login(t, 'kim@example.com', PW, {}, '192.0.2.10', UA_A)).token;
      await login(t, 'kim@example.com', PW, {}, '198.51.100.4', UA_B);
      const old = json<{ data: Array<{ kind: string; title: string }> }>(await t.app.inject({ url: '/api/v1/me/notifications', headers: bearer(first) }));
      expect(old.data).toEqual([expect.objectContaining({ kind: 'security.new_device', title: 'New sign-in to your Settle account' })]);
    });
  });
});
