// Who is calling: the authenticate hook that runs on every request (docs/decisions/0005-accounts-security.md).
//   Authorization: Bearer <session token> | Bearer sk_<api key>, or the `settle_session` cookie.
//   Cookie-authenticated unsafe requests (not GET/HEAD/OPTIONS) must carry `x-csrf-token` equal
//   to the session's CSRF token (given at login in the body and the readable `settle_csrf`
//   cookie): the double-submit pattern, bound to the session because only its hash is stored.
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../shared/errors.ts';
import type { Principal, UserStatus } from '../shared/principal.ts';
import { SESSION_IDLE_MS, SESSION_TOUCH_MS } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import { asLocale, parseRoles, tokenHash, type AccountsContext } from './accounts-context.ts';

export const SESSION_COOKIE = 'settle_session';
export const CSRF_COOKIE = 'settle_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function apiKeySuspended(): ProblemError {
  return new ProblemError(403, 'account_frozen', 'The account that owns this API key is frozen, so its API keys are suspended until it is unfrozen. The owner can still sign in to see balances and payments and to ask to be unfrozen.');
}

/** The authenticate hook: resolves the caller or null; throws 403 csrf_failed for cookie requests without the token. */
export async function authenticate(ctx: AccountsContext, req: FastifyRequest): Promise<Principal | null> {
  const header = req.headers.authorization;
  let token: string | null = null;
  let viaCookie = false;
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) token = header.replace(/^Bearer\s+/i, '').trim();
  else if (req.cookies?.[SESSION_COOKIE]) {
    token = req.cookies[SESSION_COOKIE] ?? null;
    viaCookie = true;
  }
  if (!token || token.length > 200) return null;
  // A public form (the not-me page's button, sign-in, sign-up) posted from a browser that
  // holds a session cookie: the cookie is not used there, so it needs no CSRF token.
  if (viaCookie && !SAFE_METHODS.has(req.method) && req.routeOptions?.config?.auth === 'public') return null;
  if (token.startsWith('sk_')) return apiKeyPrincipal(ctx, token);
  return sessionPrincipal(ctx, req, token, viaCookie);
}

async function apiKeyPrincipal(ctx: AccountsContext, token: string): Promise<Principal | null> {
  const { db, clock } = ctx;
  const now = clock.now_ms();
  // The key and its user in one statement (this runs on every request).
  const k = await store.apiKeyWithUserByHash(db.kysely, tokenHash(token));
  if (!k || k.revoked_at_ms !== null) return null;
  if (k.user_status === null || k.user_email === null || k.user_locale === null || k.user_status === 'closed') return null;
  // Freezing ends every session; a key cannot sign in again, so it is suspended instead
  // until the unfreeze. The owner still signs in to see the money and ask to be unfrozen.
  if (k.user_status === 'frozen') throw apiKeySuspended();
  if (!k.last_used_at_ms || now - k.last_used_at_ms > SESSION_TOUCH_MS) await store.touchApiKey(db.kysely, k.id, now);
  return {
    kind: 'api_key', user_id: k.user_id, email: k.user_email, roles: ['user', 'merchant'], status: k.user_status as UserStatus, locale: asLocale(k.user_locale),
    session_id: null, api_key_id: k.id, scopes: JSON.parse(k.scopes) as string[], privileged_until_ms: null, totp_enabled: false,
  };
}

async function sessionPrincipal(ctx: AccountsContext, req: FastifyRequest, token: string, viaCookie: boolean): Promise<Principal | null> {
  const { db, clock, hot } = ctx;
  const now = clock.now_ms();
  // The session and its user in one statement (this runs on every request).
  const [s] = (await hot.sessionWithUser.execute(db.kysely, [tokenHash(token)])).rows;
  if (!s || s.ended_at_ms !== null || s.expires_at_ms <= now || s.last_seen_at_ms + SESSION_IDLE_MS <= now) return null;
  if (viaCookie && !SAFE_METHODS.has(req.method)) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || tokenHash(sent) !== s.csrf_hash) {
      throw new ProblemError(403, 'csrf_failed', `Cookie-authenticated requests that change things must send the ${CSRF_HEADER} header (the token from sign-in).`);
    }
  }
  if (s.user_status === null || s.user_email === null || s.user_roles === null || s.user_locale === null || s.user_status === 'closed') return null;
  if (now - s.last_seen_at_ms > SESSION_TOUCH_MS) await store.touchSession(db.kysely, s.id, now);
  return {
    kind: 'session', user_id: s.user_id, email: s.user_email, roles: parseRoles(s.user_roles), status: s.user_status as UserStatus, locale: asLocale(s.user_locale),
    session_id: s.id, api_key_id: null, scopes: null, privileged_until_ms: s.privileged_until_ms, totp_enabled: s.user_totp_enabled === 1,
  };
}

/** The session cookie's options: Secure when the public URL is https. */
export function cookieOptions(ctx: AccountsContext, max_age_s: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.public_url.startsWith('https://'), maxAge: max_age_s };
}
