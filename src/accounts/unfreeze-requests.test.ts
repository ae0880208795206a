// Goal: prove the unfreeze workflow through the HTTP API on both dialects — requirements, staff
// approval, two different staff for compliance, the 24 h withdrawal cool-down, a staff unfreeze on
// the staff member's word (the waiver audited), and restriction.
// Method: a whole platform per test (real database), app.inject(), a ManualClock moved explicitly.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, login, signedIn, stepUp, staff } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('unfreeze is a workflow: requirements, staff approval, two different staff for compliance, 24 h withdrawal cool-down', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'lee@example.com');
      const agent = await staff(t, 'agent@settle.test', 'agent');
      const risk = await staff(t, 'risk@settle.test', 'risk');
      const admin = await staff(t, 'admin@settle.test', 'admin');
      const frozenByAgent = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(agent.token), payload: { reason: 'compliance' } });
      expect(frozenByAgent.statusCode).toBe(403);
      const f = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(risk.token), payload: { reason: 'compliance', note: 'sanctions screening hit' } });
      expect(f.statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(u.token) })).statusCode).toBe(401); // sessions ended
      const tok = json<{ token: string }>(await login(t, 'lee@example.com')).token;
      const me = json<{ status: string; freezes: Array<{ reason: string; by: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tok) }));
      expect(me).toMatchObject({ status: 'frozen', freezes: [{ reason: 'compliance', by: 'staff' }] });
      expect((await t.platform.accounts.canSend(u.id)).ok).toBe(false);

      const req = json<{ id: string; requirements: Array<{ code: string; met: boolean }>; approvals_required: number }>(
        await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(tok) }),
      );
      expect(req.requirements).toEqual([expect.objectContaining({ code: 'identity_verified', met: false })]);
      expect(req.approvals_required).toBe(2);
      const early = await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(risk.token), payload: {} });
      expect(early.statusCode).toBe(409);
      expect(json(early)).toMatchObject({ code: 'unfreeze_requirements_unmet', requirements: ['identity_verified'] });

      t.clock.advance(60_000);
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('passport scan pixels')]);
      const up = await t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents?kind=passport', headers: { ...bearer(tok), 'content-type': 'image/png' }, payload: png });
      expect(up.statusCode).toBe(201);
      const list = json<{ data: Array<{ id: string; reasons: string[] }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/admin/unfreeze-requests', headers: bearer(agent.token) }));
      expect(list.data.map((r) => r.id)).toEqual([req.id]);
      const one = await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(risk.token), payload: { note: 'passport checked' } });
      expect(one.statusCode).toBe(200);
      expect(json<{ user: { status: string }; unfreeze_request: { approvals: number } }>(one)).toMatchObject({ user: { status: 'frozen' }, unfreeze_request: { approvals: 1 } });
      const again = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(risk.token), payload: { reason: 'me again' } });
      expect(json(again).code).toBe('already_approved');
      const two = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(admin.token), payload: { reason: 'second pair of eyes' } });
      expect(two.statusCode).toBe(200);
      const after = json<{ user: { status: string; cooldown_until: string } }>(two).user;
      expect(after.status).toBe('active');
      expect(Date.parse(after.cooldown_until) - t.clock.now_ms()).toBe(24 * 3600_000);
      expect(await t.platform.accounts.canSend(u.id)).toEqual({ ok: true });
      expect(await t.platform.accounts.canWithdraw(u.id)).toMatchObject({ ok: false, code: 'cooldown' });
      t.clock.advance(24 * 3600_000);
      expect(await t.platform.accounts.canWithdraw(u.id)).toEqual({ ok: true });
      const events = await t.platform.db.kysely.selectFrom('outbox_events').select('type').orderBy('seq').execute();
      expect(events.map((e) => e.type).filter((x) => x.startsWith('account.'))).toEqual(['account.frozen', 'account.unfrozen']);
      expect((await t.platform.db.kysely.selectFrom('unfreeze_approvals').select('staff_id').execute()).map((r) => r.staff_id).sort()).toEqual([risk.id, admin.id].sort());
    });
  });

  it('a self-freeze needs a changed password before one staff approval lifts it; staff can restrict', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'max@example.com');
      const agent = await staff(t, 'agent2@settle.test', 'agent');
      const risk = await staff(t, 'risk2@settle.test', 'risk');
      t.clock.advance(60_000);
      await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(u.token), payload: { reason: 'user_request' } });
      const queued = json<{ id: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) }));
      expect(json(await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${queued.id}/approve`, headers: bearer(agent.token), payload: {} })).code).toBe('unfreeze_requirements_unmet');
      t.clock.advance(60_000);
      await stepUp(t, u.token, { password: PW });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(u.token), payload: { new_password: 'another fine passphrase' } })).statusCode).toBe(204);
      const r = json<{ requirements: Array<{ met: boolean }> }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) }));
      expect(r.requirements.every((x) => x.met)).toBe(true);
      const ok = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'called in' } });
      expect(json<{ user: { status: string } }>(ok).user.status).toBe('active');
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(u.token) })).code).toBe('not_frozen');
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: bearer(agent.token), payload: { reason: 'x' } })).statusCode).toBe(403);
      const rs = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/restrict`, headers: bearer(risk.token), payload: { reason: 'chargeback review' } });
      expect(json<{ user: { status: string } }>(rs).user.status).toBe('restricted');
      expect(await t.platform.accounts.canSend(u.id)).toMatchObject({ ok: false, code: 'account_restricted' });
      expect((await t.platform.accounts.standing(u.id)).receive).toBe('credit');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/users/usr_0000000000zzzzzzzzzz/restrict', headers: bearer(risk.token), payload: { reason: 'x' } })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/admin/users/nope/freeze', headers: bearer(risk.token), payload: { reason: 'compliance' } })).statusCode).toBe(400);
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(risk.token), payload: { reason: 'because' } })).statusCode).toBe(400);
    });
  });

  it('POST /admin/users/{id}/unfreeze approves on the staff member\'s word: unmet requirements are waived and the waiver audited', async () => {
    await withPlatform(dialect, async (t) => {
      const u = await signedIn(t, 'ann@example.com');
      const agent = await staff(t, 'agent3@settle.test', 'agent');
      // An agent's own freeze (a risk officer's would need risk or above to lift: test/api/staff-rank-and-2fa.test.ts).
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/freeze`, headers: bearer(agent.token), payload: { reason: 'abnormal_activity' } })).statusCode).toBe(200);
      const tok = json<{ token: string }>(await login(t, 'ann@example.com')).token;
      const req = json<{ id: string; requirements: Array<{ code: string; met: boolean }> }>(await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(tok) }));
      const unmet = req.requirements.filter((r) => !r.met).map((r) => r.code);
      expect(unmet.length).toBeGreaterThan(0);
      // The queue still insists on the requirements …
      expect(json(await t.app.inject({ method: 'POST', url: `/api/v1/admin/unfreeze-requests/${req.id}/approve`, headers: bearer(agent.token), payload: {} })).code).toBe('unfreeze_requirements_unmet');
      // … the staff member's word is enough.
      const ok = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${u.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'verified on a video call' } });
      expect(ok.statusCode).toBe(200);
      expect(json<{ user: { status: string } }>(ok).user.status).toBe('active');
      const rows = await t.platform.db.kysely.selectFrom('audit_log').select(['actor_id', 'details']).where('action', '=', 'unfreeze_approved').where('subject_id', '=', u.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.actor_id).toBe(agent.id);
      expect(JSON.parse(rows[0]!.details as string)).toMatchObject({ note: 'verified on a video call', requirements_waived: unmet });
    });
  });
});
