// Kysely queries of notifications and their preferences. No decisions here: notifications.ts decides.
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { NotificationsTable } from '../db/schema-notify.ts';

export type NotificationRow = Selectable<NotificationsTable>;

function num(r: NotificationRow): NotificationRow {
  return { ...r, created_at_ms: Number(r.created_at_ms), read_at_ms: r.read_at_ms === null ? null : Number(r.read_at_ms) };
}

/** Inserts unless a row with the same source_key exists; true when inserted. */
export async function insertNotification(ex: DbExecutor, row: NotificationRow): Promise<boolean> {
  if (row.source_key !== null) {
    const seen = await ex.selectFrom('notifications').select('id').where('source_key', '=', row.source_key).executeTakeFirst();
    if (seen) return false;
  }
  await ex.insertInto('notifications').values(row).execute();
  return true;
}

/** A user's notifications, newest first, before the cursor id; unread only when asked. */
export async function notificationsPage(ex: DbExecutor, user_id: string, opts: { unread: boolean; before_id: string | null; limit: number }): Promise<NotificationRow[]> {
  let q = ex.selectFrom('notifications').selectAll().where('user_id', '=', user_id);
  if (opts.unread) q = q.where('read_at_ms', 'is', null);
  if (opts.before_id) q = q.where('id', '<', opts.before_id);
  return (await q.orderBy('id', 'desc').limit(opts.limit).execute()).map(num);
}

export async function notificationById(ex: DbExecutor, id: string): Promise<NotificationRow | null> {
  const r = await ex.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? num(r) : null;
}

/** Marks one of the user's notifications read (first read wins); false when it is not theirs. */
export async function markRead(ex: DbExecutor, user_id: string, id: string, now_ms: number): Promise<boolean> {
  const r = await ex.selectFrom('notifications').select(['id', 'read_at_ms']).where('id', '=', id).where('user_id', '=', user_id).executeTakeFirst();
  if (!r) return false;
  if (r.read_at_ms === null) await ex.updateTable('notifications').set({ read_at_ms: now_ms }).where('id', '=', id).where('read_at_ms', 'is', null).execute();
  return true;
}

/** Marks every unread notification of the user read; returns how many. */
export async function markAllRead(ex: DbExecutor, user_id: string, now_ms: number): Promise<number> {
  const res = await ex.updateTable('notifications').set({ read_at_ms: now_ms }).where('user_id', '=', user_id).where('read_at_ms', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Unread notifications of a user, counted up to `cap` (a badge shows "99+" beyond). */
export async function unreadCount(ex: DbExecutor, user_id: string, cap: number): Promise<number> {
  const rows = await ex.selectFrom('notifications').select('id').where('user_id', '=', user_id).where('read_at_ms', 'is', null).limit(cap).execute();
  return rows.length;
}

export async function savedPreferences(ex: DbExecutor, user_id: string): Promise<Map<string, { in_app: boolean; email: boolean }>> {
  const rows = await ex.selectFrom('notification_preferences').select(['kind', 'in_app', 'email']).where('user_id', '=', user_id).execute();
  return new Map(rows.map((r) => [r.kind, { in_app: Number(r.in_app) === 1, email: Number(r.email) === 1 }]));
}

export async function savePreference(ex: DbExecutor, user_id: string, kind: string, in_app: boolean, email: boolean, now_ms: number): Promise<void> {
  const values = { in_app: in_app ? 1 : 0, email: email ? 1 : 0, updated_at_ms: now_ms };
  const res = await ex.updateTable('notification_preferences').set(values).where('user_id', '=', user_id).where('kind', '=', kind).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) await ex.insertInto('notification_preferences').values({ user_id, kind, ...values }).execute();
}
