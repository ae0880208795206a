// HTTP routes of the accounts module (API.md "Authentication", "Staff" and "Details that clients
// rely on"): this plugin mounts one sub-plugin per area, each with its schemas and thin handlers
// (parse, call the face, shape the DTO) — auth-routes.ts (sign-up, sign-in, step-up, the not-me
// link), me-routes.ts (the user's own account and its security), api-key-routes.ts and
// staff-routes.ts. Every route declares who may call it in `config.auth`; a hook of this plugin
// enforces it BEFORE body validation, so an anonymous caller learns nothing about a route's input
// (401 first, then 400). The authorization walk test (test/api/authz.test.ts) reads the same
// declarations.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ProblemError } from '../shared/errors.ts';
import { STAFF_ROLES, requirePrincipal, requireRole, type Principal, type Role } from '../shared/principal.ts';
import type { Clock } from '../shared/clock.ts';
import type { Accounts } from './accounts.ts';
import { apiKeyRoutes } from './api-key-routes.ts';
import { authRoutes, notMeRoutes } from './auth-routes.ts';
import { meAccountRoutes, meKycRoutes, meRoutes } from './me-routes.ts';
import { staffQueueRoutes, staffUserRoutes } from './staff-routes.ts';

/** Who may call a route: nobody in particular, any signed-in caller (session or API key), sessions only, or sessions with one of the roles. */
export type RouteAuth = 'public' | 'any' | 'session' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declared by every route of the accounts module (and welcome in others'): see RouteAuth. */
    auth?: RouteAuth;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Enforces a route's declared `auth` (exported so that every module's routes use the same rule).
 * A staff route (roles among agent, risk, admin) also needs an active account, TOTP on (403
 * staff_2fa_required) and, for anything but a read, a fresh step-up (401 step_up_required):
 * staff actions move money and change accounts, so a stolen staff password alone does nothing.
 *   app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: clock.now_ms() }))
 */
export function enforceRouteAuth(auth: RouteAuth | undefined, p: Principal | null, req: { method: string; now_ms: number }): void {
  if (auth === undefined || auth === 'public') return;
  const me = requirePrincipal(p);
  if (auth === 'any') return;
  if (me.kind !== 'session') throw new ProblemError(403, 'session_required', 'This needs a signed-in session, not an API key.');
  if (auth === 'session') return;
  requireRole(me, auth);
  if (me.status !== 'active') throw new ProblemError(403, 'account_frozen', 'Staff actions need an active account.');
  if (!auth.every((r) => STAFF_ROLES.includes(r))) return;
  if (me.totp_enabled !== true) throw new ProblemError(403, 'staff_2fa_required', 'Staff accounts must have two-factor authentication on: set it up with POST /api/v1/me/totp/setup and /me/totp/enable first.');
  if (READ_METHODS.has(req.method)) return;
  if (me.privileged_until_ms !== null && me.privileged_until_ms > req.now_ms) return;
  throw new ProblemError(401, 'step_up_required', 'Staff actions need a fresh second factor: POST /api/v1/auth/step-up with totp_code or recovery_code.', { factors: ['totp', 'recovery_code'] });
}

/** accountsRoutes(accounts) -> the Fastify plugin mounted under /api/v1. */
export function accountsRoutes(accounts: Accounts, opts: { upload_bytes_max: number; account_body_bytes_max: number; clock: Clock }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: opts.clock.now_ms() }));
    // Accounts routes take a few small fields: a tight limit unless the route says otherwise (the upload).
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= opts.account_body_bytes_max;
    });
    // In this order, so that the OpenAPI document and the authorization walk list routes as before.
    await app.register(authRoutes(accounts));
    await app.register(notMeRoutes(accounts));
    await app.register(meRoutes(accounts));
    await app.register(meAccountRoutes(accounts));
    await app.register(meKycRoutes(accounts, opts));
    await app.register(apiKeyRoutes(accounts));
    await app.register(staffUserRoutes(accounts));
    await app.register(staffQueueRoutes(accounts));
  };
}
