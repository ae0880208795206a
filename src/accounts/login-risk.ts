// The login event of the risk engine: the facts gathered here, in accounts (new device, failed
// sign-in attempts on the account in the last hour, account age, KYC level), decided by a hook
// the composition root wires to the risk module (accounts sits above risk in the layers, so it
// names no risk type: the hook's shape is declared here). What each action does at sign-in, once
// the password (and the second factor, when the account has one) is right: block -> 403
// risk_blocked; freeze -> the account's own freeze (abnormal_activity; a frozen user can still
// sign in, read and ask to be unfrozen); step_up and review -> the second factor is that step
// (an account without one is only recorded: it has nothing more to give); allow -> nothing.
import type { DbExecutor } from '../db/database.ts';
import { assertNever } from '../shared/assert.ts';
import { ProblemError } from '../shared/errors.ts';
import { deviceFingerprint } from './accounts-rules.ts';
import * as store from './accounts-store.ts';
import type { UserRow } from './accounts-store.ts';
import type { AccountsContext, RequestMeta } from './accounts-context.ts';
import { freeze } from './standing.ts';

type FactValue = number | string | boolean;

/** The risk module as accounts sees it: decide on a login's facts; the decision is recorded through `record`. */
export type LoginRiskHook = (q: { user_id: string; facts: Record<string, FactValue> }) => Promise<{
  action: 'allow' | 'review' | 'step_up' | 'block' | 'freeze';
  /** Stores the decision (in the caller's transaction when given one). */
  record(ex: DbExecutor | null): Promise<void>;
}>;

const HOUR_MS = 3600_000;

/** A login's facts: two indexed reads (the device, the account's failed sign-ins in the last hour). */
export async function loginFacts(ctx: AccountsContext, u: UserRow, meta: RequestMeta): Promise<Record<string, FactValue>> {
  const now = ctx.clock.now_ms();
  const d = deviceFingerprint(meta.user_agent, meta.ip);
  const known = await store.knownDevice(ctx.db.kysely, u.id, d.fingerprint);
  // The very first device is not "new" (as for the new-device notice).
  const new_device = !known && (await store.countKnownDevices(ctx.db.kysely, u.id)) > 0;
  const failed = await ctx.db.kysely
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_type', '=', 'user')
    .where('subject_id', '=', u.id)
    .where('at_ms', '>=', now - HOUR_MS)
    .where('action', '=', 'login_failed')
    .executeTakeFirst();
  const failed_1h = Number(failed?.n ?? 0);
  return {
    user_id: u.id,
    new_device,
    kyc_level: Number(u.kyc_level),
    account_age_s: Math.max(0, Math.floor((now - Number(u.created_at_ms)) / 1000)),
    failed_logins_1h: failed_1h,
    count_1h: failed_1h,
  };
}

/**
 * Asks the hook about a login whose credentials are right; refuses (403 risk_blocked) or freezes
 * as the decision says. Returns what records the decision in the sign-in's transaction, or null
 * when no hook is wired.
 */
export async function decideLogin(ctx: AccountsContext, u: UserRow, meta: RequestMeta): Promise<{ record(ex: DbExecutor | null): Promise<void>; frozen?: boolean } | null> {
  if (!ctx.loginRisk) return null;
  const d = await ctx.loginRisk({ user_id: u.id, facts: await loginFacts(ctx, u, meta) });
  switch (d.action) {
    case 'allow':
    case 'step_up':
    case 'review':
      return d;
    case 'block':
      await d.record(null);
      throw new ProblemError(403, 'risk_blocked', 'This sign-in was refused by our risk controls. If you think this is a mistake, contact support.');
    case 'freeze':
      await d.record(null);
      await freeze(ctx, u.id, 'abnormal_activity', { type: 'system', id: null }, meta, { note: 'risk rule at sign-in' });
      return { record: async () => undefined, frozen: true };
    default:
      return assertNever(d.action, 'risk action');
  }
}
