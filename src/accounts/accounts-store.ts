// Kysely queries for the accounts tables: no decisions here, only reads and writes.
import { sql, type Selectable } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import { precompile, type Placeholder } from '../db/precompiled.ts';
import type { AuditTable } from '../db/schema.ts';
import type {
  ApiKeysTable, FreezesTable, KnownDevicesTable, LoginThrottleTable, SessionsTable, UnfreezeRequestsTable, UsersTable,
} from '../db/schema-accounts.ts';

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type FreezeRow = Selectable<FreezesTable>;
export type UnfreezeRequestRow = Selectable<UnfreezeRequestsTable>;
export type KnownDeviceRow = Selectable<KnownDevicesTable>;
export type ThrottleRow = Selectable<LoginThrottleTable>;

// ------------------------------------------------------------ users
export async function insertUser(ex: DbExecutor, row: UserRow): Promise<void> {
  await ex.insertInto('users').values(row).execute();
}
export async function userById(ex: DbExecutor, id: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function userByEmail(ex: DbExecutor, email: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}
function usersByIdOrEmailQuery(ex: DbExecutor, id: string, email: string) {
  return ex
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', id), eb('email', '=', email)]));
}
export async function usersByIdOrEmail(ex: DbExecutor, id: string, email: string): Promise<UserRow[]> {
  return usersByIdOrEmailQuery(ex, id, email).execute();
}
/**
 * A staff search, newest first (ids sort by creation time), strictly before `before_id`: users
 * whose email or id starts with `prefix` (compared with substr, which is exact and alike on
 * SQLite and PostgreSQL, where LIKE differs in case and escaping), or whose id is in `ids`.
 * With neither, every user.
 */
export async function searchUsers(ex: DbExecutor, filter: { prefix: string | null; ids: readonly string[]; before_id: string | null }, limit: number): Promise<UserRow[]> {
  let q = ex.selectFrom('users').selectAll();
  const { prefix, ids } = filter;
  if (prefix !== null) {
    const n = sql.lit(prefix.length);
    q = q.where((eb) => eb.or([
      eb(sql<string>`substr(email, 1, ${n})`, '=', prefix),
      eb(sql<string>`substr(id, 1, ${n})`, '=', prefix),
      ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
    ]));
  } else if (ids.length > 0) q = q.where('id', 'in', ids);
  if (filter.before_id !== null) q = q.where('id', '<', filter.before_id);
  return q.orderBy('id', 'desc').limit(limit).execute();
}
export async function updateUser(ex: DbExecutor, id: string, patch: Partial<UserRow>): Promise<void> {
  await ex.updateTable('users').set(patch).where('id', '=', id).execute();
}

// ------------------------------------------------------------ sessions
export async function insertSession(ex: DbExecutor, row: SessionRow): Promise<void> {
  await ex.insertInto('sessions').values(row).execute();
}
export async function sessionByTokenHash(ex: DbExecutor, token_hash: string): Promise<SessionRow | undefined> {
  return ex.selectFrom('sessions').selectAll().where('token_hash', '=', token_hash).executeTakeFirst();
}
/**
 * The session for a token hash and the fields of its user that authentication needs, in one
 * statement: every API request runs this, so it is one round trip instead of two.
 */
function sessionWithUserQuery(ex: DbExecutor, token_hash: string) {
  return ex
    .selectFrom('sessions')
    .leftJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select(['users.email as user_email', 'users.roles as user_roles', 'users.status as user_status', 'users.locale as user_locale', 'users.totp_enabled as user_totp_enabled'])
    .where('sessions.token_hash', '=', token_hash);
}
export async function sessionWithUserByTokenHash(ex: DbExecutor, token_hash: string) {
  return sessionWithUserQuery(ex, token_hash).executeTakeFirst();
}
export type SessionWithUserRow = NonNullable<Awaited<ReturnType<typeof sessionWithUserByTokenHash>>>;
export async function liveSessions(ex: DbExecutor, user_id: string, limit: number): Promise<SessionRow[]> {
  return ex.selectFrom('sessions').selectAll().where('user_id', '=', user_id).where('ended_at_ms', 'is', null).orderBy('created_at_ms', 'desc').limit(limit).execute();
}
export async function touchSession(ex: DbExecutor, id: string, now_ms: number): Promise<void> {
  await ex.updateTable('sessions').set({ last_seen_at_ms: now_ms }).where('id', '=', id).execute();
}
export async function setSessionPrivileged(ex: DbExecutor, id: string, until_ms: number): Promise<void> {
  await ex.updateTable('sessions').set({ privileged_until_ms: until_ms }).where('id', '=', id).execute();
}
/** Ends one session of this user; returns whether one was live. */
export async function endSession(ex: DbExecutor, user_id: string, id: string, now_ms: number, reason: string): Promise<boolean> {
  const r = await ex.updateTable('sessions').set({ ended_at_ms: now_ms, ended_reason: reason }).where('id', '=', id).where('user_id', '=', user_id).where('ended_at_ms', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
/** Ends every live session of the user except `keep` (null: all). Returns how many ended. */
export async function endSessionsOf(ex: DbExecutor, user_id: string, keep: string | null, now_ms: number, reason: string): Promise<number> {
  let q = ex.updateTable('sessions').set({ ended_at_ms: now_ms, ended_reason: reason }).where('user_id', '=', user_id).where('ended_at_ms', 'is', null);
  if (keep) q = q.where('id', '!=', keep);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

// ------------------------------------------------------------ API keys
export async function insertApiKey(ex: DbExecutor, row: ApiKeyRow): Promise<void> {
  await ex.insertInto('api_keys').values(row).execute();
}
export async function apiKeyByHash(ex: DbExecutor, key_hash: string): Promise<ApiKeyRow | undefined> {
  return ex.selectFrom('api_keys').selectAll().where('key_hash', '=', key_hash).executeTakeFirst();
}
/** The API key for a hash and the fields of its user that authentication needs, in one statement. */
export async function apiKeyWithUserByHash(ex: DbExecutor, key_hash: string) {
  return ex
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('api_keys')
    .select(['users.email as user_email', 'users.roles as user_roles', 'users.status as user_status', 'users.locale as user_locale', 'users.totp_enabled as user_totp_enabled'])
    .where('api_keys.key_hash', '=', key_hash)
    .executeTakeFirst();
}
export async function apiKeysOf(ex: DbExecutor, user_id: string, limit: number): Promise<ApiKeyRow[]> {
  return ex.selectFrom('api_keys').selectAll().where('user_id', '=', user_id).orderBy('created_at_ms', 'desc').limit(limit).execute();
}
export async function revokeApiKey(ex: DbExecutor, user_id: string, id: string, now_ms: number): Promise<boolean> {
  const r = await ex.updateTable('api_keys').set({ revoked_at_ms: now_ms }).where('id', '=', id).where('user_id', '=', user_id).where('revoked_at_ms', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
export async function touchApiKey(ex: DbExecutor, id: string, now_ms: number): Promise<void> {
  await ex.updateTable('api_keys').set({ last_used_at_ms: now_ms }).where('id', '=', id).execute();
}

// ------------------------------------------------------------ recovery codes
export async function replaceRecoveryCodes(ex: DbExecutor, user_id: string, hashes: string[], now_ms: number, ids: string[]): Promise<void> {
  await ex.deleteFrom('recovery_codes').where('user_id', '=', user_id).execute();
  if (hashes.length) await ex.insertInto('recovery_codes').values(hashes.map((code_hash, i) => ({ id: ids[i]!, user_id, code_hash, created_at_ms: now_ms, used_at_ms: null }))).execute();
}
/** Marks an unused code used; true only for the one caller that wins (single use). */
export async function useRecoveryCode(ex: DbExecutor, user_id: string, code_hash: string, now_ms: number): Promise<boolean> {
  const r = await ex.updateTable('recovery_codes').set({ used_at_ms: now_ms }).where('user_id', '=', user_id).where('code_hash', '=', code_hash).where('used_at_ms', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
/**
 * Consumes a TOTP time step: true only for the one caller that moves the user's last used step
 * forward to `counter` (a conditional update), so one code cannot be used twice, even by
 * parallel requests that all read the old step.
 */
export async function claimTotpStep(ex: DbExecutor, user_id: string, counter: number): Promise<boolean> {
  const r = await ex
    .updateTable('users')
    .set({ totp_last_counter: counter })
    .where('id', '=', user_id)
    .where((eb) => eb.or([eb('totp_last_counter', 'is', null), eb('totp_last_counter', '<', counter)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
export async function unusedRecoveryCodes(ex: DbExecutor, user_id: string): Promise<number> {
  const r = await ex.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', user_id).where('used_at_ms', 'is', null).executeTakeFirstOrThrow();
  return Number(r.n);
}

// ------------------------------------------------------------ throttle
export async function throttleRow(ex: DbExecutor, key: string): Promise<ThrottleRow | undefined> {
  return ex.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}
export async function saveThrottle(ex: DbExecutor, row: ThrottleRow): Promise<void> {
  const { key: _key, ...rest } = row;
  await ex.insertInto('login_throttle').values(row).onConflict((oc) => oc.column('key').doUpdateSet(rest)).execute();
}
export async function clearThrottle(ex: DbExecutor, key: string): Promise<void> {
  await ex.deleteFrom('login_throttle').where('key', '=', key).execute();
}

// ------------------------------------------------------------ devices
export async function knownDevice(ex: DbExecutor, user_id: string, fingerprint: string): Promise<KnownDeviceRow | undefined> {
  return ex.selectFrom('known_devices').selectAll().where('user_id', '=', user_id).where('fingerprint', '=', fingerprint).executeTakeFirst();
}
export async function countKnownDevices(ex: DbExecutor, user_id: string): Promise<number> {
  const r = await ex.selectFrom('known_devices').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', user_id).executeTakeFirstOrThrow();
  return Number(r.n);
}
export async function insertKnownDevice(ex: DbExecutor, row: KnownDeviceRow): Promise<void> {
  await ex.insertInto('known_devices').values(row).onConflict((oc) => oc.columns(['user_id', 'fingerprint']).doNothing()).execute();
}
export async function touchKnownDevice(ex: DbExecutor, id: string, now_ms: number): Promise<void> {
  await ex.updateTable('known_devices').set({ last_seen_at_ms: now_ms }).where('id', '=', id).execute();
}

// ------------------------------------------------------------ freezes
export async function insertFreeze(ex: DbExecutor, row: FreezeRow): Promise<void> {
  await ex.insertInto('freezes').values(row).execute();
}
/** The roles (JSON text) of some users, by id. */
export async function rolesOf(ex: DbExecutor, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ex.selectFrom('users').select(['id', 'roles']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.roles]));
}
export async function activeFreezes(ex: DbExecutor, user_id: string): Promise<FreezeRow[]> {
  return ex.selectFrom('freezes').selectAll().where('user_id', '=', user_id).where('lifted_at_ms', 'is', null).orderBy('created_at_ms', 'asc').execute();
}
export async function liftFreezes(ex: DbExecutor, user_id: string, request_id: string | null, now_ms: number): Promise<void> {
  await ex.updateTable('freezes').set({ lifted_at_ms: now_ms, lifted_by_request_id: request_id }).where('user_id', '=', user_id).where('lifted_at_ms', 'is', null).execute();
}
export async function insertUnfreezeRequest(ex: DbExecutor, row: UnfreezeRequestRow): Promise<void> {
  await ex.insertInto('unfreeze_requests').values(row).execute();
}
export async function pendingUnfreezeRequestOf(ex: DbExecutor, user_id: string): Promise<UnfreezeRequestRow | undefined> {
  return ex.selectFrom('unfreeze_requests').selectAll().where('user_id', '=', user_id).where('status', '=', 'pending').executeTakeFirst();
}
export async function unfreezeRequestById(ex: DbExecutor, id: string): Promise<UnfreezeRequestRow | undefined> {
  return ex.selectFrom('unfreeze_requests').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function pendingUnfreezeRequests(ex: DbExecutor, limit: number): Promise<UnfreezeRequestRow[]> {
  return ex.selectFrom('unfreeze_requests').selectAll().where('status', '=', 'pending').orderBy('created_at_ms', 'asc').limit(limit).execute();
}
export async function setUnfreezeRequestStatus(ex: DbExecutor, id: string, status: string, now_ms: number): Promise<void> {
  await ex.updateTable('unfreeze_requests').set({ status, updated_at_ms: now_ms, completed_at_ms: status === 'completed' ? now_ms : null }).where('id', '=', id).execute();
}
export async function approvalsOf(ex: DbExecutor, request_id: string): Promise<Array<{ staff_id: string; created_at_ms: number }>> {
  return ex.selectFrom('unfreeze_approvals').select(['staff_id', 'created_at_ms']).where('request_id', '=', request_id).orderBy('created_at_ms', 'asc').execute();
}
export async function insertApproval(ex: DbExecutor, row: { id: string; request_id: string; staff_id: string; note: string | null; created_at_ms: number }): Promise<boolean> {
  const existing = await ex.selectFrom('unfreeze_approvals').select('id').where('request_id', '=', row.request_id).where('staff_id', '=', row.staff_id).executeTakeFirst();
  if (existing) return false;
  await ex.insertInto('unfreeze_approvals').values(row).execute();
  return true;
}

// ------------------------------------------------------------ KYC, not-me tokens
export async function insertKycDocument(ex: DbExecutor, row: { id: string; user_id: string; kind: string; content_type: string; size_bytes: number; sha256: string; ciphertext: string; status: string; created_at_ms: number }): Promise<void> {
  await ex.insertInto('kyc_documents').values(row).execute();
}
export async function kycDocumentsOf(ex: DbExecutor, user_id: string, limit: number): Promise<Array<{ id: string; kind: string; content_type: string; size_bytes: number; sha256: string; status: string; created_at_ms: number }>> {
  return ex.selectFrom('kyc_documents').select(['id', 'kind', 'content_type', 'size_bytes', 'sha256', 'status', 'created_at_ms']).where('user_id', '=', user_id).orderBy('created_at_ms', 'desc').limit(limit).execute();
}
export async function kycDocumentCipher(ex: DbExecutor, user_id: string, id: string): Promise<{ ciphertext: string; content_type: string } | undefined> {
  return ex.selectFrom('kyc_documents').select(['ciphertext', 'content_type']).where('id', '=', id).where('user_id', '=', user_id).executeTakeFirst();
}
export async function lastKycDocumentAt(ex: DbExecutor, user_id: string): Promise<number | null> {
  const r = await ex.selectFrom('kyc_documents').select('created_at_ms').where('user_id', '=', user_id).orderBy('created_at_ms', 'desc').limit(1).executeTakeFirst();
  return r ? r.created_at_ms : null;
}
export async function insertNotMeToken(ex: DbExecutor, row: { token_hash: string; user_id: string; device_id: string | null; created_at_ms: number; expires_at_ms: number }): Promise<void> {
  await ex.insertInto('not_me_tokens').values({ ...row, used_at_ms: null }).execute();
}
/** The user of a live (unused, unexpired) not-me token, without using it; or null. */
export async function peekNotMeToken(ex: DbExecutor, token_hash: string, now_ms: number): Promise<string | null> {
  const row = await ex.selectFrom('not_me_tokens').select(['user_id', 'used_at_ms', 'expires_at_ms']).where('token_hash', '=', token_hash).executeTakeFirst();
  return row && row.used_at_ms === null && row.expires_at_ms > now_ms ? row.user_id : null;
}
/** Uses a live not-me token once; returns its user or null. */
export async function useNotMeToken(ex: DbExecutor, token_hash: string, now_ms: number): Promise<string | null> {
  const row = await ex.selectFrom('not_me_tokens').select(['user_id', 'used_at_ms', 'expires_at_ms']).where('token_hash', '=', token_hash).executeTakeFirst();
  if (!row || row.used_at_ms !== null || row.expires_at_ms <= now_ms) return null;
  const r = await ex.updateTable('not_me_tokens').set({ used_at_ms: now_ms }).where('token_hash', '=', token_hash).where('used_at_ms', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0 ? row.user_id : null;
}

// ------------------------------------------------------------ audit (core table, security events)
export type AuditRow = AuditTable;
export async function insertAudit(ex: DbExecutor, row: AuditRow): Promise<void> {
  await ex.insertInto('audit_log').values(row).execute();
}
/** When `action` was last recorded on this user, or null. */
export async function lastAuditAt(ex: DbExecutor, user_id: string, action: string): Promise<number | null> {
  const r = await ex.selectFrom('audit_log').select('at_ms').where('subject_type', '=', 'user').where('subject_id', '=', user_id).where('action', '=', action)
    .orderBy('at_ms', 'desc').limit(1).executeTakeFirst();
  return r ? Number(r.at_ms) : null;
}
/** Newest first, paged by id (ids sort by time). */
export async function auditPage(ex: DbExecutor, filter: { subject_id?: string; before_id?: string }, limit: number): Promise<AuditRow[]> {
  let q = ex.selectFrom('audit_log').selectAll();
  if (filter.subject_id) q = q.where('subject_type', '=', 'user').where('subject_id', '=', filter.subject_id);
  if (filter.before_id) q = q.where('id', '<', filter.before_id);
  return q.orderBy('id', 'desc').limit(limit).execute();
}

// ------------------------------------------------------------ precompiled
/**
 * The statements that run on every API request (the session lookup) or every transfer (both
 * parties in one read), built and compiled once for this database (db/precompiled.ts); the same
 * builders as the functions above, so the two cannot drift.
 *   const hot = hotQueries(db); const [s] = (await hot.sessionWithUser.execute(db.kysely, [hash])).rows;
 */
export function hotQueries(db: Db) {
  const text = (p: Placeholder, i: number): string => p(i);
  return {
    sessionWithUser: precompile<[token_hash: string], SessionWithUserRow>(db, (k, p) => sessionWithUserQuery(k, text(p, 0))),
    usersByIdOrEmail: precompile<[id: string, email: string], UserRow>(db, (k, p) => usersByIdOrEmailQuery(k, text(p, 0), text(p, 1))),
  };
}
