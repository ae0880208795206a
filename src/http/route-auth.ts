// Who may call a route, declared by the route itself in `config.auth` and enforced by an
// `onRequest` hook of its plugin, BEFORE body validation, so that an anonymous caller learns
// nothing about a route's input (401 first, then 400). Every module's routes use this one rule;
// the authorization walk test (test/api/authz.test.ts) reads the same declarations.
import { ProblemError } from '../shared/errors.ts';
import { STAFF_ROLES, requirePrincipal, requireRole, type Principal, type Role } from '../shared/principal.ts';

/** Who may call a route: nobody in particular, any signed-in caller (session or API key), sessions only, or sessions with one of the roles. */
export type RouteAuth = 'public' | 'any' | 'session' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declared by every route that needs a caller: see RouteAuth. */
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
