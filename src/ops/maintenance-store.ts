// Kysely queries for maintenance windows.
import type { DbExecutor } from '../db/database.ts';
import type { MaintenanceWindow } from './maintenance-rules.ts';

function fromRow(r: MaintenanceWindow): MaintenanceWindow {
  return { ...r, starts_at_ms: Number(r.starts_at_ms), ends_at_ms: Number(r.ends_at_ms), created_at_ms: Number(r.created_at_ms), ended_at_ms: r.ended_at_ms === null ? null : Number(r.ended_at_ms) };
}

export async function insertWindow(ex: DbExecutor, w: MaintenanceWindow): Promise<void> {
  await ex.insertInto('maintenance_windows').values(w).execute();
}

export async function selectWindow(ex: DbExecutor, id: string): Promise<MaintenanceWindow | null> {
  const r = await ex.selectFrom('maintenance_windows').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Windows not over yet at now_ms (active or upcoming), soonest first. */
export async function selectCurrentWindows(ex: DbExecutor, now_ms: number, limit: number): Promise<MaintenanceWindow[]> {
  const rows = await ex
    .selectFrom('maintenance_windows')
    .selectAll()
    .where('ends_at_ms', '>', now_ms)
    .where((eb) => eb.or([eb('ended_at_ms', 'is', null), eb('ended_at_ms', '>', now_ms)]))
    .orderBy('starts_at_ms')
    .limit(limit)
    .execute();
  return rows.map(fromRow);
}

export async function selectRecentWindows(ex: DbExecutor, limit: number): Promise<MaintenanceWindow[]> {
  const rows = await ex.selectFrom('maintenance_windows').selectAll().orderBy('starts_at_ms', 'desc').limit(limit).execute();
  return rows.map(fromRow);
}

export async function markEnded(ex: DbExecutor, id: string, now_ms: number, by: string): Promise<void> {
  await ex.updateTable('maintenance_windows').set({ ended_at_ms: now_ms, ended_by: by }).where('id', '=', id).where('ended_at_ms', 'is', null).execute();
}
