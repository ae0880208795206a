// Goal: prove merchant API keys through the HTTP API on both dialects — step-up, shown once,
// hashed, scoped, revocable, never a session; suspended while their owner is frozen, working again after.
// Method: a whole platform per test (real database), app.inject(), a ManualClock moved explicitly.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, login, signedIn, stepUp, staff } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('API keys: step-up, shown once, hashed, scoped, revocable; a key cannot act as a session', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'gina@example.com');
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop' } })).code).toBe('step_up_required');
      await stepUp(t, s.token, { password: PW });
      const bad = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop', scopes: ['admin:all'] } });
      expect(bad.statusCode).toBe(400);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop', scopes: ['invoices:write'] } });
      expect(res.statusCode).toBe(201);
      const key = json<{ id: string; key: string; prefix: string; scopes: string[] }>(res);
      expect(key.key).toMatch(/^sk_[A-Za-z0-9_-]{40,}$/);
      expect(key.key.startsWith(key.prefix)).toBe(true);
      expect(key.scopes).toEqual(['invoices:write']);
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(s.token) });
      expect(list.body).not.toContain(key.key);
      const stored = await t.platform.db.kysely.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(key.key);
      const asKey = json<{ roles: string[] }>(await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key.key) }));
      expect(asKey.roles).toContain('merchant');
      const p = await t.platform.accounts.authenticate({ headers: bearer(key.key), cookies: {}, method: 'GET' } as never);
      expect(p).toMatchObject({ kind: 'api_key', scopes: ['invoices:write'] });
      expect(json(await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(key.key), payload: {} })).code).toBe('session_required');
      const other = await signedIn(t, 'hank@example.com');
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: bearer(other.token) })).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: bearer(s.token) })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key.key) })).statusCode).toBe(401);
    });
  });

  it('a frozen owner\'s API keys are suspended (reads too) while a fresh sign-in still sees the money and asks to be unfrozen; they work again after', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'ivy@example.com');
      const agent = await staff(t, 'agent9@settle.test', 'agent');
      await stepUp(t, s.token, { password: PW });
      const key = json<{ key: string }>(await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop' } })).key;
      const reads = ['/api/v1/balances', '/api/v1/payments', '/api/v1/me', '/api/v1/webhook-endpoints', '/api/v1/events'];
      for (const url of reads) expect((await t.app.inject({ method: 'GET', url, headers: bearer(key) })).statusCode, url).toBe(200);

      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/freeze', headers: bearer(s.token), payload: {} })).statusCode).toBe(200);
      for (const url of reads) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(key) });
        expect(res.statusCode, url).toBe(403);
        expect(json(res).code).toBe('account_frozen');
      }
      const hook = await t.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: bearer(key), payload: { url: 'http://127.0.0.1:9/hook', events: ['payment.*'] } });
      expect(json(hook).code).toBe('account_frozen');
      expect(await t.platform.db.kysely.selectFrom('webhook_endpoints').selectAll().execute()).toEqual([]);
      const audit = await t.platform.db.kysely.selectFrom('audit_log').select('details').where('action', '=', 'account_frozen').executeTakeFirstOrThrow();
      expect(JSON.parse(audit.details)).toMatchObject({ api_keys_suspended: 1 });

      // The owner, signed in again, still sees the money and asks to be unfrozen.
      const again = json<{ token: string }>(await login(t, 'ivy@example.com')).token;
      const balances = await t.app.inject({ method: 'GET', url: '/api/v1/balances', headers: bearer(again) });
      expect(balances.statusCode).toBe(200);
      expect(Array.isArray(json<{ data: unknown[] }>(balances).data)).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/payments', headers: bearer(again) })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/unfreeze-request', headers: bearer(again) })).statusCode).toBe(200);
      // Revoking a suspended key still works from a session.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: bearer(again) })).statusCode).toBe(200);

      t.clock.advance(60_000);
      await stepUp(t, again, { password: PW });
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: bearer(again), payload: { new_password: 'a different passphrase' } })).statusCode).toBe(204);
      expect(json<{ user: { status: string } }>(await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${s.id}/unfreeze`, headers: bearer(agent.token), payload: { reason: 'owner called' } })).user.status).toBe('active');
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/balances', headers: bearer(key) })).statusCode).toBe(200);
    });
  });
});
