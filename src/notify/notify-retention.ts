// Retention of notify's rows (security review #20): webhook messages delivered or given up on
// (dead) before the cut-off, with their attempts, and the per-user event feed (GET /events,
// /stream's source) older than its cut-off. Pending messages are never touched. Each call deletes
// at most `limit` messages (and their attempts) and `limit` feed rows.
import type { DbExecutor } from '../db/database.ts';

export interface NotifyRetention {
  webhooks_before_ms: number;
  user_events_before_ms: number;
}

export async function pruneNotifyRows(ex: DbExecutor, r: NotifyRetention, limit: number): Promise<{ webhook_messages: number; user_events: number }> {
  const done = await ex.selectFrom('webhook_messages').select('id').where('status', 'in', ['delivered', 'dead']).where('created_at_ms', '<', r.webhooks_before_ms).orderBy('created_at_ms').limit(limit).execute();
  const ids = done.map((m) => m.id);
  if (ids.length) {
    await ex.deleteFrom('webhook_attempts').where('message_id', 'in', ids).execute();
    await ex.deleteFrom('webhook_messages').where('id', 'in', ids).execute();
  }
  const old = ex.selectFrom('user_events').select('event_id').where('created_at_ms', '<', r.user_events_before_ms).limit(limit);
  const u = await ex.deleteFrom('user_events').where('event_id', 'in', old).executeTakeFirst();
  return { webhook_messages: ids.length, user_events: Number(u.numDeletedRows) };
}
