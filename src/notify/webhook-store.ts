// Kysely queries for webhook endpoints, messages, attempts and the user event feed.
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { AuditTable } from '../db/schema.ts';
import type { UserEventsTable, WebhookAttemptsTable, WebhookEndpointsTable, WebhookMessagesTable } from '../db/schema-notify.ts';

export type EndpointRow = Selectable<WebhookEndpointsTable>;
export type MessageRow = Selectable<WebhookMessagesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;
export type UserEventRow = Selectable<UserEventsTable>;

const num = <T extends Record<string, unknown>>(r: T, keys: Array<keyof T>): T => {
  const out = { ...r };
  for (const k of keys) if (out[k] !== null && out[k] !== undefined) (out as Record<keyof T, unknown>)[k] = Number(out[k]);
  return out;
};

export async function insertEndpoint(ex: DbExecutor, row: EndpointRow): Promise<void> {
  await ex.insertInto('webhook_endpoints').values(row).execute();
}
export async function liveEndpointsOf(ex: DbExecutor, user_id: string, limit: number): Promise<EndpointRow[]> {
  return ex.selectFrom('webhook_endpoints').selectAll().where('user_id', '=', user_id).where('deleted_at_ms', 'is', null).orderBy('id').limit(limit).execute();
}
export async function endpointById(ex: DbExecutor, id: string): Promise<EndpointRow | undefined> {
  return ex.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}
export async function deleteEndpoint(ex: DbExecutor, id: string, now_ms: number): Promise<void> {
  await ex.updateTable('webhook_endpoints').set({ deleted_at_ms: now_ms }).where('id', '=', id).execute();
}
/** Endpoints whose secret is still the plain `whsec_…` of before sealing (deleted ones too): not 'enc:v1:…'. */
export async function plainSecretEndpoints(ex: DbExecutor, limit: number): Promise<Array<{ id: string; secret: string }>> {
  return ex.selectFrom('webhook_endpoints').select(['id', 'secret']).where('secret', 'not like', 'enc:v1:%').orderBy('id').limit(limit).execute();
}
/** Compare-and-set on the current secret: two rotations at once cannot both win. */
export async function rotateSecret(ex: DbExecutor, id: string, from: string, to: string, previous: string, previous_until_ms: number): Promise<boolean> {
  const r = await ex.updateTable('webhook_endpoints').set({ secret: to, previous_secret: previous, previous_secret_until_ms: previous_until_ms }).where('id', '=', id).where('secret', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
/** The core audit log (security-relevant changes to endpoints). */
export async function insertAudit(ex: DbExecutor, row: AuditTable): Promise<void> {
  await ex.insertInto('audit_log').values(row).execute();
}
/** Compare-and-set, so that two workers sealing the same row leave one envelope. */
export async function replaceSecret(ex: DbExecutor, id: string, from: string, to: string): Promise<boolean> {
  const r = await ex.updateTable('webhook_endpoints').set({ secret: to }).where('id', '=', id).where('secret', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
export async function insertMessage(ex: DbExecutor, row: Omit<MessageRow, 'claimed_by' | 'claimed_until_ms'>): Promise<void> {
  await ex.insertInto('webhook_messages').values(row).onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing()).execute();
}
export async function messageById(ex: DbExecutor, id: string): Promise<MessageRow | undefined> {
  const r = await ex.selectFrom('webhook_messages').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? num(r, ['event_seq', 'next_attempt_at_ms', 'created_at_ms', 'delivered_at_ms']) : undefined;
}
export async function dueMessages(ex: DbExecutor, now_ms: number, limit: number): Promise<MessageRow[]> {
  const rows = await ex.selectFrom('webhook_messages').selectAll().where('status', '=', 'pending').where('next_attempt_at_ms', '<=', now_ms).orderBy('event_seq').limit(limit).execute();
  return rows.map((r) => num(r, ['event_seq', 'next_attempt_at_ms', 'created_at_ms', 'delivered_at_ms']));
}
/** The earliest undelivered message of an (endpoint, key) line: only it may be attempted. */
export async function headOfLine(ex: DbExecutor, endpoint_id: string, ordering_key: string): Promise<number | null> {
  const r = await ex.selectFrom('webhook_messages').select((eb) => eb.fn.min('event_seq').as('s')).where('endpoint_id', '=', endpoint_id).where('ordering_key', '=', ordering_key).where('status', '=', 'pending').executeTakeFirst();
  return r?.s === null || r?.s === undefined ? null : Number(r.s);
}
export async function updateMessage(ex: DbExecutor, id: string, patch: Partial<MessageRow>): Promise<void> {
  await ex.updateTable('webhook_messages').set(patch).where('id', '=', id).execute();
}
/**
 * Claims a pending message for one sender until `until_ms`, unless another's claim still holds,
 * so that two processes never both send it; a crashed sender's claim simply expires. The
 * attempt count fences it too: a message already attempted again by someone else is not claimed.
 */
export async function claimMessage(ex: DbExecutor, id: string, attempts: number, claimer: string, now_ms: number, until_ms: number): Promise<boolean> {
  const r = await ex
    .updateTable('webhook_messages')
    .set({ claimed_by: claimer, claimed_until_ms: until_ms })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempts)
    .where((eb) => eb.or([eb('claimed_until_ms', 'is', null), eb('claimed_until_ms', '<=', now_ms)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
/** Records the outcome of a claimed attempt and frees the claim; false when the claim was lost meanwhile. */
export async function finishClaimed(ex: DbExecutor, id: string, attempts_before: number, claimer: string, patch: Partial<MessageRow>): Promise<boolean> {
  const r = await ex
    .updateTable('webhook_messages')
    .set({ ...patch, claimed_by: null, claimed_until_ms: null })
    .where('id', '=', id)
    .where('attempts', '=', attempts_before)
    .where('claimed_by', '=', claimer)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
export async function insertAttempt(ex: DbExecutor, row: AttemptRow): Promise<void> {
  await ex.insertInto('webhook_attempts').values(row).execute();
}
export async function attemptsOf(ex: DbExecutor, message_id: string): Promise<AttemptRow[]> {
  const rows = await ex.selectFrom('webhook_attempts').selectAll().where('message_id', '=', message_id).orderBy('n').execute();
  return rows.map((r) => num(r, ['at_ms']));
}
export async function messagesOf(ex: DbExecutor, endpoint_id: string, limit: number): Promise<MessageRow[]> {
  const rows = await ex.selectFrom('webhook_messages').selectAll().where('endpoint_id', '=', endpoint_id).orderBy('event_seq', 'desc').limit(limit).execute();
  return rows.map((r) => num(r, ['event_seq', 'next_attempt_at_ms', 'created_at_ms', 'delivered_at_ms']));
}
export async function insertUserEvent(ex: DbExecutor, row: UserEventRow): Promise<void> {
  await ex.insertInto('user_events').values(row).onConflict((oc) => oc.columns(['user_id', 'seq']).doNothing()).execute();
}
export async function userEventsAfter(ex: DbExecutor, user_id: string, after: number, limit: number): Promise<UserEventRow[]> {
  // In-app notifications share the feed table for /stream but are no webhook events: not listed here.
  const rows = await ex.selectFrom('user_events').selectAll().where('user_id', '=', user_id).where('seq', '>', after).where('type', 'not like', 'notification.%').orderBy('seq').limit(limit).execute();
  return rows.map((r) => num(r, ['seq', 'created_at_ms']));
}
