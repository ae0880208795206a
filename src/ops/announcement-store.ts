// Kysely queries for announcements.
import type { DbExecutor } from '../db/database.ts';
import type { Announcement } from './announcement-rules.ts';

function fromRow(r: Announcement): Announcement {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return { ...r, starts_at_ms: Number(r.starts_at_ms), ends_at_ms: n(r.ends_at_ms), created_at_ms: Number(r.created_at_ms), ended_at_ms: n(r.ended_at_ms) };
}

export async function insertAnnouncement(ex: DbExecutor, a: Announcement): Promise<void> {
  await ex.insertInto('announcements').values(a).execute();
}

export async function selectAnnouncement(ex: DbExecutor, id: string): Promise<Announcement | null> {
  const r = await ex.selectFrom('announcements').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

export async function markAnnouncementEnded(ex: DbExecutor, id: string, now_ms: number, by: string): Promise<void> {
  await ex.updateTable('announcements').set({ ended_at_ms: now_ms, ended_by: by }).where('id', '=', id).where('ended_at_ms', 'is', null).execute();
}

/** Not over at now_ms (active or upcoming), soonest first. */
export async function selectCurrentAnnouncements(ex: DbExecutor, now_ms: number, limit: number): Promise<Announcement[]> {
  const rows = await ex
    .selectFrom('announcements')
    .selectAll()
    .where('ended_at_ms', 'is', null)
    .where((eb) => eb.or([eb('ends_at_ms', 'is', null), eb('ends_at_ms', '>', now_ms)]))
    .orderBy('starts_at_ms')
    .limit(limit)
    .execute();
  return rows.map(fromRow);
}

export async function selectRecentAnnouncements(ex: DbExecutor, limit: number): Promise<Announcement[]> {
  return (await ex.selectFrom('announcements').selectAll().orderBy('created_at_ms', 'desc').limit(limit).execute()).map(fromRow);
}
