// Incidents as the public status page shows them: what kind, on which chain, when it started, and
// its updates (investigating when opened, identified once staff acknowledged it, resolved when the
// reconciler no longer finds the difference). Nothing else: amounts, addresses and staff stay inside.
import type { DbExecutor } from '../../db/database.ts';
import { isoTime } from '../../shared/clock.ts';

export type IncidentStatus = 'investigating' | 'identified' | 'resolved';

export interface PublicIncident {
  id: string;
  kind: string;
  chain_id: number | null;
  status: IncidentStatus;
  started_at: string;
  resolved_at: string | null;
  updates: Array<{ at: string; status: IncidentStatus }>;
}

function updatesOf(opened: number, acked: number | null, resolved: number | null): PublicIncident['updates'] {
  const u: PublicIncident['updates'] = [{ at: isoTime(opened), status: 'investigating' }];
  if (acked !== null) u.push({ at: isoTime(acked), status: 'identified' });
  if (resolved !== null) u.push({ at: isoTime(resolved), status: 'resolved' });
  return u.sort((a, b) => a.at.localeCompare(b.at));
}

/** Incidents opened since `since_ms` or still open, newest first, at most `limit`. */
export async function recentPublicIncidents(ex: DbExecutor, since_ms: number, limit: number): Promise<PublicIncident[]> {
  const rec = await ex.selectFrom('reconcile_incidents').select(['id', 'kind', 'chain_id', 'opened_at_ms', 'acknowledged_at_ms', 'resolved_at_ms'])
    .where((eb) => eb.or([eb('opened_at_ms', '>=', since_ms), eb('resolved_at_ms', 'is', null)])).orderBy('opened_at_ms', 'desc').limit(limit).execute();
  const chain = await ex.selectFrom('chain_incidents').select(['id', 'kind', 'chain_id', 'created_at_ms', 'acknowledged_at_ms'])
    .where((eb) => eb.or([eb('created_at_ms', '>=', since_ms), eb('acknowledged_at_ms', 'is', null)])).orderBy('created_at_ms', 'desc').limit(limit).execute();
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const list: PublicIncident[] = [
    ...rec.map((r) => {
      const updates = updatesOf(Number(r.opened_at_ms), n(r.acknowledged_at_ms), n(r.resolved_at_ms));
      return { id: r.id, kind: r.kind, chain_id: n(r.chain_id), status: updates.at(-1)!.status, started_at: isoTime(Number(r.opened_at_ms)), resolved_at: r.resolved_at_ms === null ? null : isoTime(Number(r.resolved_at_ms)), updates };
    }),
    ...chain.map((r) => {
      const updates = updatesOf(Number(r.created_at_ms), n(r.acknowledged_at_ms), null);
      return { id: r.id, kind: r.kind, chain_id: Number(r.chain_id), status: updates.at(-1)!.status, started_at: isoTime(Number(r.created_at_ms)), resolved_at: null, updates };
    }),
  ];
  return list.sort((a, b) => b.started_at.localeCompare(a.started_at)).slice(0, limit);
}
