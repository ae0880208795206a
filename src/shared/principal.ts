// Who is calling: set on every request by the accounts module's authenticate hook, read by every
// route through requirePrincipal / requireRole. Lives in shared/ so that every module can
// authorise without importing accounts' insides.
import { ProblemError, problems } from './errors.ts';
import type { Locale } from './i18n.ts';

export const ROLES = ['user', 'merchant', 'agent', 'risk', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const STAFF_ROLES: readonly Role[] = ['agent', 'risk', 'admin'];

export type UserStatus = 'active' | 'restricted' | 'frozen' | 'closed';

export interface Principal {
  kind: 'session' | 'api_key';
  user_id: string;
  email: string;
  roles: Role[];
  status: UserStatus;
  locale: Locale;
  session_id: string | null;
  api_key_id: string | null;
  /** API-key scopes; null for sessions (a session may do all its user may do). */
  scopes: string[] | null;
  /** Until when this session's step-up (fresh second factor) is valid, epoch ms. */
  privileged_until_ms: number | null;
  /** Whether the user has TOTP on; staff routes refuse staff without it (absent counts as off). */
  totp_enabled?: boolean;
}

/** const me = requirePrincipal(request.principal) */
export function requirePrincipal(principal: Principal | null | undefined): Principal {
  if (!principal) throw problems.unauthenticated();
  return principal;
}

/** requireRole(request.principal, ['agent', 'admin']) */
export function requireRole(principal: Principal | null | undefined, roles: readonly Role[]): Principal {
  const p = requirePrincipal(principal);
  if (!p.roles.some((r) => roles.includes(r))) throw new ProblemError(403, 'forbidden', `This needs one of the roles: ${roles.join(', ')}.`);
  return p;
}

/** requireScope(request.principal, 'invoices:write') — sessions pass, API keys need the scope. */
export function requireScope(principal: Principal | null | undefined, scope: string): Principal {
  const p = requirePrincipal(principal);
  if (p.scopes && !p.scopes.includes(scope)) throw new ProblemError(403, 'insufficient_scope', `This API key lacks the scope ${scope}.`, { scope });
  return p;
}

export function isStaff(p: Principal): boolean {
  return p.roles.some((r) => STAFF_ROLES.includes(r));
}
