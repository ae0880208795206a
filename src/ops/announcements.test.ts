// Goal: announcements end to end on both dialects — only admins publish (audited), bad input is
// refused and changes nothing, the public reads active and upcoming ones in their language beside
// the maintenance windows and as an escaped Atom feed, and they leave by themselves at their end
// (or when ended). A scheduled maintenance window tells the users whose payments are in flight on
// its chain (maintenance.announced, in-app and by mail), and nobody else.
// Method: a whole platform with one never-contacted chain, real database and SMTP, app.inject().
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { json } from '../../test/helpers/accounts-testkit.ts';
import { auditRows, signUp, steppedUpStaff, withSecurityPlatform } from '../../test/helpers/security-kit.ts';
import { createPayment } from '../payments/payments.ts';

type Ann = { id: string; kind: string; severity: string; active: boolean; title: string; message: string; starts_at: string; ends_at: string | null };
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)('announcements on %s', (dialect) => {
  it('admins publish in both languages (audited); the public reads them, in JSON and Atom, until they end', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const agent = await steppedUpStaff(t, 'agent@settle.test', 'agent');
      const now = t.clock.now_ms();
      const good = {
        title: { en: 'Fees <lower> & faster', 'zh-CN': '手续费降低' }, body: { en: 'From today "fees" drop.', 'zh-CN': '从今天起手续费降低。' },
        severity: 'info', starts_at: iso(now), ends_at: iso(now + 600_000),
      };
      const post = (payload: unknown, headers = admin.headers) => t.app.inject({ method: 'POST', url: '/api/v1/admin/announcements', headers, payload: payload as object });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/announcements', payload: good })).statusCode).toBe(401);
      expect((await post(good, agent.headers)).statusCode).toBe(403);
      const refusals = [
        [{ ...good, title: { en: 'x', 'zh-CN': '  ' } }, 422, 'announcement_text_missing'],
        [{ ...good, ends_at: iso(now - 1) }, 422, 'announcement_ends_before_start'],
        [{ ...good, scope: 'chain:999' }, 422, 'announcement_unknown_chain'],
        [{ ...good, title: { en: 'x'.repeat(201), 'zh-CN': 'y' } }, 400, 'validation_failed'],
        [{ ...good, severity: 'panic' }, 400, 'validation_failed'],
        [{ ...good, body: { en: 'only English' } }, 400, 'validation_failed'],
      ] as const;
      for (const [payload, status, code] of refusals) {
        const r = await post(payload);
        expect([r.statusCode, json(r).code]).toEqual([status, code]);
      }
      expect(json<{ data: unknown[] }>(await t.app.inject({ url: '/api/v1/announcements' })).data).toEqual([]);

      const created = await post(good);
      expect(created.statusCode, created.body).toBe(201);
      const later = await post({ ...good, title: { en: 'Upcoming', 'zh-CN': '即将' }, severity: 'critical', starts_at: iso(now + 1200_000), ends_at: undefined, scope: 'chain:31337' });
      expect(later.statusCode).toBe(201);
      expect((await auditRows(t, 'announcement_published')).length).toBe(2);

      const en = json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements' })).data;
      expect(en.map((a) => [a.kind, a.title, a.active, a.severity])).toEqual([['announcement', 'Fees <lower> & faster', true, 'info'], ['announcement', 'Upcoming', false, 'critical']]);
      expect(en[1]!.ends_at).toBeNull();
      const zh = json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements', headers: { 'accept-language': 'zh-CN,zh;q=0.9' } })).data;
      expect(zh[0]).toMatchObject({ title: '手续费降低', message: '从今天起手续费降低。' });

      const feed = await t.app.inject({ url: '/api/v1/announcements/feed.atom?lang=en' });
      expect(feed.statusCode).toBe(200);
      expect(feed.headers['content-type']).toMatch(/^application\/atom\+xml/);
      expect(feed.body).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom" xml:lang="en">/);
      expect(feed.body).toContain('<title type="text">[info] Fees &lt;lower&gt; &amp; faster</title>');
      expect(feed.body).toContain('From today &quot;fees&quot; drop.');
      expect(feed.body).not.toMatch(/<lower>|& faster/);
      expect(feed.body.match(/<entry>/g)).toHaveLength(2);
      expect(feed.body.match(/<\/entry>/g)).toHaveLength(2);
      expect((await t.app.inject({ url: '/api/v1/announcements/feed.atom?lang=zh-CN' })).body).toContain('<title type="text">[info] 手续费降低</title>');

      // Leaves by itself at its end; the open-ended one stays until an admin ends it (audited).
      t.clock.advance(600_000);
      await admin.stepUp();
      const after = json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements' })).data;
      expect(after.map((a) => a.title)).toEqual(['Upcoming']);
      const laterId = json<{ id: string }>(later).id;
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/announcements/${laterId}/end`, headers: agent.headers })).statusCode).toBe(403);
      const ended = await t.app.inject({ method: 'POST', url: `/api/v1/admin/announcements/${laterId}/end`, headers: admin.headers });
      expect(json(ended)).toMatchObject({ active: false, ended_early: true });
      expect(json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements' })).data).toEqual([]);
      expect((await auditRows(t, 'announcement_ended')).length).toBe(1);
      const listed = json<{ data: unknown[] }>(await t.app.inject({ url: '/api/v1/admin/announcements', headers: agent.headers }));
      expect(listed.data).toHaveLength(2);
    });
  });

  it('a scheduled maintenance window is announced publicly and tells the users with payments in flight on its chain', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const admin = await steppedUpStaff(t, 'admin@settle.test', 'admin');
      const waiting = await signUp(t, 'waiting@example.com');
      const idle = await signUp(t, 'idle@example.com');
      await t.platform.db.transaction((trx) => createPayment(trx, { id: 'pay_inflight001', user_id: waiting.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 5_000_000n, status: 'confirming', confirmations: { current: 1, required: 3 } }, t.clock));
      const now = t.clock.now_ms();
      const w = await t.app.inject({ method: 'POST', url: '/api/v1/admin/maintenance-windows', headers: admin.headers, payload: { scope: 'chain:31337', starts_at: iso(now + 600_000), ends_at: iso(now + 4200_000), message: 'Node upgrade', message_zh: '节点升级' } });
      expect(w.statusCode, w.body).toBe(201);
      const listed = json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements', headers: { 'accept-language': 'zh-CN' } })).data;
      expect(listed).toEqual([expect.objectContaining({ kind: 'maintenance', severity: 'warning', active: false, title: '计划维护', message: '节点升级' })]);

      while ((await t.platform.notifications!.consumeTick()) > 0);
      const notes = async (token: string) => json<{ data: Array<{ kind: string; title: string; link: string }> }>(await t.app.inject({ url: '/api/v1/notifications', headers: { authorization: `Bearer ${token}` } })).data;
      expect(await notes(waiting.token)).toEqual([expect.objectContaining({ kind: 'maintenance.announced', title: 'Planned maintenance: Test chain', link: '/status' })]);
      expect(await notes(idle.token)).toEqual([]);
      await t.drainJobs();
      const mail = t.platform.mailbox!.to('waiting@example.com').find((m) => m.subject === 'Planned maintenance: Test chain');
      expect(mail?.text).toContain('Node upgrade');
      expect(t.platform.mailbox!.to('idle@example.com').filter((m) => m.subject.startsWith('Planned maintenance'))).toEqual([]);

      // It leaves by itself once over.
      t.clock.advance(4200_000);
      expect(json<{ data: Ann[] }>(await t.app.inject({ url: '/api/v1/announcements' })).data).toEqual([]);
    });
  });
});
