// One writer for the core audit_log, for modules that record staff actions beside their own
// change (maintenance windows, …): the row commits in the caller's transaction, so an action
// and its audit entry exist together or not at all.
import type { DbExecutor } from './database.ts';
import { newId } from '../shared/ids.ts';

/** Where a request came from (null outside HTTP: the CLI, tests). */
export interface AuditMeta {
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export interface AuditEntry {
  actor: { type: 'user' | 'staff' | 'system'; id: string | null };
  action: string;
  subject: { type: string; id: string } | null;
  meta: AuditMeta | null;
  details: Record<string, unknown>;
}

/** await writeAudit(trx, { actor: { type: 'staff', id }, action: 'maintenance_window_ended', subject: { type: 'maintenance_window', id }, meta, details: {} }, now) */
export async function writeAudit(ex: DbExecutor, e: AuditEntry, at_ms: number): Promise<void> {
  await ex.insertInto('audit_log').values({
    id: newId('aud', at_ms), at_ms, actor_type: e.actor.type, actor_id: e.actor.id, action: e.action,
    subject_type: e.subject?.type ?? null, subject_id: e.subject?.id ?? null,
    ip: e.meta?.ip ?? null, user_agent: e.meta?.user_agent ?? null, request_id: e.meta?.request_id ?? null, details: JSON.stringify(e.details),
  }).execute();
}
