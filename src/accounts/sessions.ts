// Sessions: issued at sign-in (bounded per user, the oldest end first), listed and ended by their
// user, ended at logout. Authentication of a request lives in authenticate.ts, the privileged
// window of a session in step-up.ts.
import type { DbExecutor } from '../db/database.ts';
import { isoTime } from '../shared/clock.ts';
import { problems } from '../shared/errors.ts';
import { newId, randomToken } from '../shared/ids.ts';
import type { Principal } from '../shared/principal.ts';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, STEP_UP_WINDOW_MS } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import { audit, tokenHash, type AccountsContext, type RequestMeta } from './accounts-context.ts';

export interface IssuedSession {
  session_id: string;
  token: string;
  csrf_token: string;
  expires_at_ms: number;
}

/** A new session for the user, in the caller's transaction; only hashes of its tokens are stored. */
export async function issueSession(ctx: AccountsContext, ex: DbExecutor, user_id: string, meta: RequestMeta, fingerprint: string | null): Promise<IssuedSession> {
  const { config, clock } = ctx;
  const now = clock.now_ms();
  const token = randomToken(32);
  const csrf_token = randomToken(24);
  const session_id = newId('ses', now);
  const expires_at_ms = now + SESSION_ABSOLUTE_MS;
  await store.insertSession(ex, {
    id: session_id, user_id, token_hash: tokenHash(token), csrf_hash: tokenHash(csrf_token), created_at_ms: now, last_seen_at_ms: now,
    expires_at_ms, privileged_until_ms: null, user_agent: meta.user_agent, ip: meta.ip, device_fingerprint: fingerprint, ended_at_ms: null, ended_reason: null,
  });
  // Keep the number of live sessions bounded: the oldest ones end first.
  const live = (await store.liveSessions(ex, user_id, config.limits.sessions_per_user_max + 10)).filter((s) => s.id !== session_id);
  for (const s of live.slice(config.limits.sessions_per_user_max - 1)) await store.endSession(ex, user_id, s.id, now, 'too_many_sessions');
  return { session_id, token, csrf_token, expires_at_ms };
}

export async function logout(ctx: AccountsContext, p: Principal, meta: RequestMeta): Promise<void> {
  if (!p.session_id) return;
  await ctx.db.transaction(async (trx) => {
    await store.endSession(trx, p.user_id, p.session_id!, ctx.clock.now_ms(), 'logout');
    await audit(ctx, trx, 'logout', p.user_id, { type: 'user', id: p.user_id }, meta, { session_id: p.session_id });
  });
}

export async function listSessions(ctx: AccountsContext, p: Principal) {
  const rows = await store.liveSessions(ctx.db.kysely, p.user_id, ctx.config.limits.sessions_per_user_max);
  const now = ctx.clock.now_ms();
  return rows
    .filter((s) => s.expires_at_ms > now && s.last_seen_at_ms + SESSION_IDLE_MS > now)
    .map((s) => ({
      id: s.id, created_at: isoTime(s.created_at_ms), last_seen_at: isoTime(s.last_seen_at_ms), expires_at: isoTime(Math.min(s.expires_at_ms, s.last_seen_at_ms + SESSION_IDLE_MS)),
      user_agent: s.user_agent, ip: s.ip, current: s.id === p.session_id,
    }));
}

export async function endSession(ctx: AccountsContext, p: Principal, id: string, meta: RequestMeta): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    if (!(await store.endSession(trx, p.user_id, id, ctx.clock.now_ms(), 'ended_by_user'))) throw problems.notFound('session');
    await audit(ctx, trx, 'session_ended', p.user_id, { type: 'user', id: p.user_id }, meta, { session_id: id });
  });
}

/** Issues a session without a password (tests and the authorization walk only). */
export async function issueSessionForTests(ctx: AccountsContext, user_id: string): Promise<{ token: string; csrf_token: string; session_id: string }> {
  return ctx.db.transaction((trx) => issueSession(ctx, trx, user_id, { ip: '127.0.0.1', user_agent: 'test', request_id: null }, null));
}

/** Marks this session as stepped-up (tests only). */
export async function grantStepUpForTests(ctx: AccountsContext, session_id: string): Promise<void> {
  await store.setSessionPrivileged(ctx.db.kysely, session_id, ctx.clock.now_ms() + STEP_UP_WINDOW_MS);
}
