// Goal: a signed-in user who chose Chinese gets refusals in Chinese whatever their client sends,
// and one who chose English gets English even from a Chinese browser; the stable `code` and the
// English detail (`detail_en`) stay for programs and support.
// Method: the payments harness (real accounts, ledger and routes over SQLite) and app.inject().
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/payment-testkit.ts';

describe('problem details in the user\'s language', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness('sqlite');
  });
  afterEach(async () => h.close());

  it('follows the account\'s locale before Accept-Language', async () => {
    const zh = await h.user('zh@example.test');
    const en = await h.user('en@example.test');
    await h.t.db.kysely.updateTable('users').set({ locale: 'zh-CN' }).where('id', '=', zh.id).execute(); // as PATCH /me {locale} does

    const a = await h.app.inject({ url: '/api/v1/payments/pay_nope', headers: zh.headers });
    expect(a.statusCode).toBe(404);
    expect(a.headers['content-language']).toBe('zh-CN');
    expect(a.json()).toMatchObject({ code: 'not_found', title: '未找到', detail: '没有这个编号的记录，或它不属于您。', detail_en: expect.stringMatching(/^No payment/) });

    const b = await h.app.inject({ url: '/api/v1/payments/pay_nope', headers: { ...en.headers, 'accept-language': 'zh-CN' } });
    expect(b.headers['content-language']).toBe('en');
    expect(b.json()).toMatchObject({ code: 'not_found', title: 'Not found' });
    expect(b.json().detail).toMatch(/^No payment/);

    // Before sign-in the browser's language decides.
    const anon = await h.app.inject({ url: '/api/v1/payments', headers: { 'accept-language': 'zh-CN' } });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ code: 'unauthenticated', title: '需要登录' });
  });
});
