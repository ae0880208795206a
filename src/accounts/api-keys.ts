// Merchant API keys: created by a stepped-up session of an active account (shown once, only a
// hash is kept; the first key makes the user a merchant), listed without the key, revoked. How a
// key authenticates a request lives in authenticate.ts.
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { newId, randomToken } from '../shared/ids.ts';
import type { Principal } from '../shared/principal.ts';
import { API_KEY_SCOPES, type ApiKeyScope } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import { audit, loadUser, notice, parseRoles, tokenHash, type AccountsContext, type RequestMeta } from './accounts-context.ts';
import { requireStepUp } from './step-up.ts';

export async function createApiKey(ctx: AccountsContext, p: Principal, name: string, scopes: ApiKeyScope[] | undefined, meta: RequestMeta) {
  await requireStepUp(ctx, p);
  if (p.status !== 'active') throw new ProblemError(403, p.status === 'frozen' ? 'account_frozen' : 'account_restricted', 'Only an active account can create API keys.');
  const now = ctx.clock.now_ms();
  const keyText = `sk_${randomToken(32)}`;
  const prefix = keyText.slice(0, 11);
  const list = scopes && scopes.length ? [...new Set(scopes)] : [...API_KEY_SCOPES];
  const id = newId('key', now);
  await ctx.db.transaction(async (trx) => {
    const u = await loadUser(trx, p.user_id);
    await store.insertApiKey(trx, { id, user_id: p.user_id, name, prefix, key_hash: tokenHash(keyText), scopes: JSON.stringify(list), created_at_ms: now, last_used_at_ms: null, revoked_at_ms: null });
    const roles = parseRoles(u.roles);
    if (!roles.includes('merchant')) await store.updateUser(trx, u.id, { roles: JSON.stringify([...roles, 'merchant']), updated_at_ms: now });
    await audit(ctx, trx, 'api_key_created', u.id, { type: 'user', id: u.id }, meta, { api_key_id: id, prefix, scopes: list });
    await notice(ctx, trx, u, 'api_key_created', { name, prefix, at: isoTime(now) });
  });
  return { id, name, key: keyText, prefix, scopes: list, created_at: isoTime(now) };
}

export async function listApiKeys(ctx: AccountsContext, p: Principal) {
  const rows = await store.apiKeysOf(ctx.db.kysely, p.user_id, 100);
  return rows.map((k) => ({
    id: k.id, name: k.name, prefix: k.prefix, scopes: JSON.parse(k.scopes) as string[], created_at: isoTime(k.created_at_ms),
    last_used_at: k.last_used_at_ms ? isoTime(k.last_used_at_ms) : null, revoked_at: k.revoked_at_ms ? isoTime(k.revoked_at_ms) : null,
  }));
}

export async function revokeApiKey(ctx: AccountsContext, p: Principal, id: string, meta: RequestMeta): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    if (!(await store.revokeApiKey(trx, p.user_id, id, ctx.clock.now_ms()))) throw problems.notFound('API key');
    await audit(ctx, trx, 'api_key_revoked', p.user_id, { type: 'user', id: p.user_id }, meta, { api_key_id: id });
  });
}
