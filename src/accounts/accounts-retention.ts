// Retention of accounts' short-lived rows (security review #20): sessions long ended or expired,
// sign-in throttle rows whose wait is long over, "this wasn't me" tokens long expired. Each call
// deletes at most `limit` rows per table; the security log (audit_log) is kept for ever.
import type { DbExecutor } from '../db/database.ts';
import { SESSION_IDLE_MS } from './accounts-rules.ts';

export interface AccountsRetention {
  /** Sessions ended, expired or idle-expired before this are deleted. */
  sessions_before_ms: number;
  /** Throttle rows whose last failure and wait both ended before this are deleted. */
  throttle_before_ms: number;
}

export async function pruneAccountRows(ex: DbExecutor, r: AccountsRetention, limit: number): Promise<{ sessions: number; login_throttle: number; not_me_tokens: number }> {
  const sessions = ex
    .selectFrom('sessions')
    .select('id')
    .where((eb) => eb.or([eb('ended_at_ms', '<', r.sessions_before_ms), eb('expires_at_ms', '<', r.sessions_before_ms), eb('last_seen_at_ms', '<', r.sessions_before_ms - SESSION_IDLE_MS)]))
    .limit(limit);
  const s = await ex.deleteFrom('sessions').where('id', 'in', sessions).executeTakeFirst();
  const throttled = ex.selectFrom('login_throttle').select('key').where('last_failure_at_ms', '<', r.throttle_before_ms).where('wait_until_ms', '<', r.throttle_before_ms).limit(limit);
  const t = await ex.deleteFrom('login_throttle').where('key', 'in', throttled).executeTakeFirst();
  const tokens = ex.selectFrom('not_me_tokens').select('token_hash').where('expires_at_ms', '<', r.sessions_before_ms).limit(limit);
  const n = await ex.deleteFrom('not_me_tokens').where('token_hash', 'in', tokens).executeTakeFirst();
  return { sessions: Number(s.numDeletedRows), login_throttle: Number(t.numDeletedRows), not_me_tokens: Number(n.numDeletedRows) };
}
