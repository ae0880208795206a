// Goal: prove through the HTTP API on both dialects that staff act only on accounts below their own
// role unless admin, and that a refusal is audited and changes nothing.
// Method: a whole platform per test (real database), app.inject().
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { withPlatform, staff } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('staff cannot act on an account of equal or higher role unless admin; the refusal is audited and changes nothing', async () => {
    await withPlatform(dialect, async (t) => {
      const agent = await staff(t, 'agent5@settle.test', 'agent');
      const agent2 = await staff(t, 'agent6@settle.test', 'agent');
      const risk = await staff(t, 'risk5@settle.test', 'risk');
      const admin = await staff(t, 'admin5@settle.test', 'admin');
      const admin2 = await staff(t, 'admin6@settle.test', 'admin');
      const post = (who: { token: string }, path: string, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${path}`, headers: bearer(who.token), payload });
      const statusOf = async (id: string) => (await t.platform.db.kysely.selectFrom('users').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

      for (const [actor, target] of [[agent, admin], [agent, agent2], [agent, risk], [risk, admin], [risk, risk]] as const) {
        const res = await post(actor, `${target.id}/freeze`, { reason: 'abnormal_activity', note: 'looks odd' });
        expect(res.statusCode, `${actor.id} -> ${target.id}`).toBe(403);
        expect(json(res)).toMatchObject({ code: 'target_outranks_actor', action: 'freeze' });
        expect(await statusOf(target.id)).toBe('active');
      }
      expect(json(await post(risk, `${admin.id}/restrict`, { reason: 'x' })).code).toBe('target_outranks_actor');
      expect(json(await post(risk, `${admin.id}/kyc-level`, { level: 2 })).code).toBe('target_outranks_actor');
      expect(json(await post(agent, `${agent2.id}/unfreeze`, { reason: 'x' })).code).toBe('target_outranks_actor');
      expect((await t.platform.db.kysely.selectFrom('freezes').selectAll().execute())).toEqual([]);
      const refusals = await t.platform.db.kysely.selectFrom('audit_log').select(['actor_id', 'subject_id', 'details']).where('action', '=', 'staff_action_refused').orderBy('id').execute();
      expect(refusals).toHaveLength(8);
      const first = refusals.find((r) => r.actor_id === agent.id && r.subject_id === admin.id)!;
      expect(JSON.parse(first.details)).toMatchObject({ action: 'freeze', actor_roles: ['user', 'agent'], target_roles: ['user', 'admin'] });
      // The admin sees the refusals about them in their own security log.
      const adminLog = json<{ data: Array<{ action: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me/security-events', headers: bearer(admin.token) }));
      expect(adminLog.data.filter((e) => e.action === 'staff_action_refused')).toHaveLength(4);

      // Strictly below is allowed; admins act on anyone, another admin included.
      expect((await post(risk, `${agent.id}/freeze`, { reason: 'abnormal_activity' })).statusCode).toBe(200);
      expect((await post(admin, `${admin2.id}/freeze`, { reason: 'compliance', note: 'four eyes' })).statusCode).toBe(200);
      expect(await statusOf(admin2.id)).toBe('frozen');
      // Unknown targets stay a 404, not a refusal.
      expect((await post(risk, 'usr_0000000000zzzzzzzzzz/freeze', { reason: 'abnormal_activity' })).statusCode).toBe(404);
    });
  });
});
