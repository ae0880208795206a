// Goal: nobody reads or changes what is not theirs, on EVERY route the platform registers —
// including routes that later modules add — as anonymous, as another user, as another user's
// API key, and as each role (user, merchant, agent, risk, admin).
// Method: an onRoute hook collects every /api/v1 route of the real platform. Owner A gets a
// session, an API key, a KYC document, devices and notifications; A's ids are found
// generically (every row of every table with a user_id column). Then every route is called
// with each of A's ids in its path parameters (and with none) by each actor, and we assert:
//   - no 500 anywhere;
//   - anonymous gets 401 on routes that declare `config.auth` other than 'public', and never a
//     2xx on undeclared routes (except a short list of public ones);
//   - routes that declare roles answer 403 to every other role; undeclared /admin/* routes never
//     answer 2xx to user or merchant;
//   - another user (session or API key) never gets a 2xx when the path names one of A's ids, and
//     no response shows A's email or an id of A's that the caller did not send;
//   - every row of A's (users row and all user_id tables) is byte-for-byte unchanged afterwards.
// Only then are staff allowed to act on A, and they must not be refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestPlatform, turnOnTotp, type TestPlatform } from '../helpers/accounts-testkit.ts';
import { fillParams as fill, idsOf, paramCount, routeCollector as collector, snapshotOf, type CollectedRoute } from '../helpers/route-walk-kit.ts';
import type { RouteAuth } from '../../src/http/route-auth.ts';
import { ROLES, type Role } from '../../src/shared/principal.ts';

/** Public by nature although they may not declare it (status page, announcements, docs). */
const PUBLIC_UNDECLARED = new Set(['GET /api/v1/openapi.json', 'GET /api/v1/announcements', 'GET /api/v1/status']);
const PW = 'correct horse battery staple';

describe('authorization walk over every registered route', () => {
  let t: TestPlatform;
  const routes: CollectedRoute[] = [];
  let ownerId = '';
  let ownerEmail = '';
  let ownerSecrets: string[] = [];
  let ownerIds: string[] = [];
  const actorTokens = new Map<string, () => Promise<string | null>>();
  let idem = 0;

  beforeAll(async () => {
    t = await startTestPlatform('sqlite');
    // The collector must be the first route module; rebuild the app with it in front.
    await t.app.close();
    t.platform.routes.unshift({ name: 'authz-collector', plugin: collector(routes) });
    const { buildPlatformApp } = await import('../../src/platform.ts');
    t.app = await buildPlatformApp(t.platform);

    const accounts = t.platform.accounts;
    ownerEmail = 'owner@example.com';
    const owner = await accounts.register({ email: ownerEmail, password: PW }, { ip: null, user_agent: null, request_id: null });
    ownerId = owner.id;
    const login = async (ua: string, ip: string) =>
      (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: ownerEmail, password: PW }, headers: { 'user-agent': ua }, remoteAddress: ip })).json() as { token: string };
    const s1 = await login('Mozilla/5.0 (Windows NT 10.0) Chrome/120.0 Safari/537.36', '192.0.2.1');
    await login('Mozilla/5.0 (Macintosh; Mac OS X 10_15) Firefox/121.0', '198.51.100.1'); // a new device: notification + not-me token
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(s1.token), payload: { password: PW } });
    const key = (await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s1.token), payload: { name: 'owner shop' } })).json() as { key: string };
    const pdf = Buffer.from('%PDF-1.4 owner identity document');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents', headers: { ...bearer(s1.token), 'content-type': 'application/pdf' }, payload: pdf })).statusCode).toBe(201);
    // Best effort, through the public contract (API.md): resources of other modules that the
    // owner can create in this configuration. A refusal (no chain configured …) just means that
    // module has nothing of the owner's to protect here.
    await t.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: bearer(s1.token), payload: { url: 'http://127.0.0.1:9/hook', events: ['payment.credited'] } });
    await t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(key.key), 'idempotency-key': 'owner-invoice-1' }, payload: { asset: 'USDT', amount: '1' } });
    ownerSecrets = [ownerEmail, s1.token, key.key];
    ownerIds = await idsOf(t.platform.db, ownerId);

    // The actors: anonymous, another user (session and API key), a merchant, and each staff role.
    const other = await accounts.createUserWithRoles('other@example.com', PW, []);
    const otherKeySession = await accounts.issueSessionForTests(other.id);
    await accounts.grantStepUpForTests(otherKeySession.session_id);
    const otherKey = (await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(otherKeySession.token), payload: { name: 'other' } })).json() as { key: string };
    actorTokens.set('anonymous', async () => null);
    actorTokens.set('user', async () => (await accounts.issueSessionForTests(other.id)).token);
    actorTokens.set('user-api-key', async () => otherKey.key);
    const merchant = await accounts.createUserWithRoles('merchant@example.com', PW, ['merchant']);
    actorTokens.set('merchant', async () => (await accounts.issueSessionForTests(merchant.id)).token);
    for (const role of ['agent', 'risk', 'admin'] as const) {
      const u = await accounts.createUserWithRoles(`${role}@settle.test`, PW, [role]);
      // Staff routes answer only staff with 2FA on: turned on through the real flow, once.
      await turnOnTotp(t.app, (await accounts.issueSessionForTests(u.id)).token, PW, t.clock.now_ms());
      actorTokens.set(role, async () => {
        const s = await accounts.issueSessionForTests(u.id);
        await accounts.grantStepUpForTests(s.session_id);
        return s.token;
      });
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  async function call(actor: string, route: CollectedRoute, values: string[]) {
    const token = await actorTokens.get(actor)!();
    const url = fill(route.url, values);
    const headers: Record<string, string> = { 'idempotency-key': `walk-${++idem}`, 'user-agent': 'authz-walk' };
    if (token) headers.authorization = `Bearer ${token}`;
    const withBody = !['GET', 'DELETE', 'OPTIONS'].includes(route.method);
    const res = await t.app.inject({ method: route.method as 'GET', url, headers, ...(withBody ? { payload: {} } : {}) });
    return { res, url };
  }

  function substitutions(route: CollectedRoute): string[][] {
    const n = paramCount(route.url);
    if (n === 0) return [[]];
    const out = ownerIds.map((id) => Array(n).fill(id) as string[]);
    if (n > 1) for (const id of ownerIds) out.push([ownerId, ...Array(n - 1).fill(id)]);
    return out;
  }

  function rolesOf(auth: RouteAuth | undefined): readonly Role[] | null {
    return Array.isArray(auth) ? (auth as readonly Role[]) : null;
  }

  it('collects the routes of every module', () => {
    const names = routes.map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(expect.arrayContaining(['POST /api/v1/auth/login', 'GET /api/v1/me', 'POST /api/v1/admin/unfreeze-requests/:id/approve',
      'GET /api/v1/admin/users', 'GET /api/v1/admin/withdrawals/reviews', 'POST /api/v1/admin/withdrawals/:id/approve', 'POST /api/v1/admin/withdrawals/:id/reject']));
    expect(routes.length).toBeGreaterThan(25);
    if (process.env.AUTHZ_PRINT) console.log(`${routes.length} routes walked:\n${names.join('\n')}\nowner ids: ${ownerIds.join(' ')}`);
  });

  it('as anonymous, another user, another user\'s API key and each non-entitled role: nothing of the owner is read or changed', async () => {
    const before = await snapshotOf(t.platform.db, ownerId);
    const failures: string[] = [];
    let calls = 0;
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const roles = rolesOf(route.auth);
      const isPublic = route.auth === 'public' || PUBLIC_UNDECLARED.has(key);
      const actors = ['anonymous', 'user', 'user-api-key', 'merchant', 'agent', 'risk', 'admin'].filter((a) => {
        if (a === 'anonymous' || a === 'user' || a === 'user-api-key') return true;
        // Staff and merchants walk only routes that refuse them; what they may do is walked below.
        if (roles) return !roles.includes(a as Role);
        return route.url.startsWith('/api/v1/admin') && a === 'merchant';
      });
      for (const actor of actors) {
        for (const values of substitutions(route)) {
          const { res, url } = await call(actor, route, values);
          calls++;
          const where = `${actor} ${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 160)}`;
          const body = res.body;
          if (res.statusCode >= 500 && res.statusCode !== 503) failures.push(`5xx: ${where}`);
          for (const secret of ownerSecrets) if (body.includes(secret)) failures.push(`leaks owner secret: ${where}`);
          for (const id of ownerIds) if (!values.includes(id) && body.includes(id)) failures.push(`leaks owner id ${id}: ${where}`);
          const ok = res.statusCode >= 200 && res.statusCode < 300;
          if (actor === 'anonymous' && !isPublic) {
            if (route.auth !== undefined && res.statusCode !== 401) failures.push(`anonymous not 401: ${where}`);
            if (ok) failures.push(`anonymous 2xx: ${where}`);
          }
          if (actor !== 'anonymous' && roles && !roles.includes('user') && res.statusCode !== 403) failures.push(`role not refused: ${where}`);
          if ((actor === 'user' || actor === 'user-api-key' || actor === 'merchant') && route.url.startsWith('/api/v1/admin') && ok) failures.push(`non-staff 2xx on admin: ${where}`);
          if ((actor === 'user' || actor === 'user-api-key') && !isPublic && values.some((v) => ownerIds.includes(v)) && ok) failures.push(`other user 2xx on owner's id: ${where}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(200);
    expect(await snapshotOf(t.platform.db, ownerId)).toBe(before);
  });

  it('each entitled staff role is let through on the routes that declare it', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const roles = rolesOf(route.auth);
      if (!roles) continue;
      for (const role of roles.filter((r) => (ROLES as readonly string[]).includes(r) && actorTokens.has(r))) {
        const { res, url } = await call(role, route, Array(paramCount(route.url)).fill(ownerId));
        if ([401, 403].includes(res.statusCode) || res.statusCode >= 500) failures.push(`${role} ${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
