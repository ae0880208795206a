// New devices: each sign-in records its device; a device never seen before (and not the very
// first) gets an alert by mail and in-app with a "this wasn't me" link, whose page freezes the
// account (abnormal_login) with one press of its button.
import type { DbExecutor } from '../db/database.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import type { Locale } from '../shared/i18n.ts';
import { newId, randomToken } from '../shared/ids.ts';
import { NOT_ME_TOKEN_TTL_MS, deviceFingerprint } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';
import { asLocale, audit, loadUser, notice, toDto, tokenHash, type AccountsContext, type RequestMeta, type UserDto } from './accounts-context.ts';
import { applyFreeze } from './standing.ts';

/** Records the device; alerts the user when it is new and not their very first. */
export async function noteDevice(ctx: AccountsContext, ex: DbExecutor, u: UserRow, meta: RequestMeta): Promise<string> {
  const now = ctx.clock.now_ms();
  const d = deviceFingerprint(meta.user_agent, meta.ip);
  const known = await store.knownDevice(ex, u.id, d.fingerprint);
  if (known) {
    await store.touchKnownDevice(ex, known.id, now);
    return d.fingerprint;
  }
  const before = await store.countKnownDevices(ex, u.id);
  const device_id = newId('dev', now);
  await store.insertKnownDevice(ex, { id: device_id, user_id: u.id, fingerprint: d.fingerprint, ua_family: d.ua_family, network: d.network, first_seen_at_ms: now, last_seen_at_ms: now });
  if (before > 0) {
    const token = randomToken(32);
    await store.insertNotMeToken(ex, { token_hash: tokenHash(token), user_id: u.id, device_id, created_at_ms: now, expires_at_ms: now + NOT_ME_TOKEN_TTL_MS });
    const link = `${ctx.config.public_url}/api/v1/auth/not-me?token=${token}`;
    await notice(ctx, ex, u, 'new_device', { device: d.ua_family, network: d.network, at: isoTime(now), link }, link);
    await audit(ctx, ex, 'new_device', u.id, { type: 'user', id: u.id }, meta, { ua_family: d.ua_family, network: d.network });
  }
  return d.fingerprint;
}

/**
 * The "this wasn't me" link from a new-device mail only shows a page (GET: mail scanners
 * fetch links); it reads the token without using it. -> the user's locale, or null when the
 * link is used or expired.
 */
export async function notMeLocale(ctx: AccountsContext, token: string): Promise<Locale | null> {
  const { db, clock } = ctx;
  const user_id = await store.peekNotMeToken(db.kysely, tokenHash(token), clock.now_ms());
  if (!user_id) return null;
  const u = await store.userById(db.kysely, user_id);
  return u ? asLocale(u.locale) : null;
}

/** The page's button (POST): uses the token once and freezes (abnormal_login, by the user). 404 link_expired. */
export async function notMe(ctx: AccountsContext, token: string, meta: RequestMeta): Promise<UserDto> {
  return ctx.db.transaction(async (trx) => {
    const user_id = await store.useNotMeToken(trx, tokenHash(token), ctx.clock.now_ms());
    if (!user_id) throw new ProblemError(404, 'link_expired', 'This link was already used or has expired. Sign in and use "Freeze my account" instead.');
    const u = await loadUser(trx, user_id);
    if (u.status !== 'closed') await applyFreeze(ctx, trx, u, 'abnormal_login', { type: 'user', id: user_id }, null, meta, 'not_me_link');
    return toDto(ctx, trx, await loadUser(trx, user_id));
  });
}
