// An internal transfer's risk decision (only when a risk engine is wired): the facts gathered
// here in the payments layer — the amount in US dollars, the sender's KYC level and account age,
// the count and US dollar sum of the sender's transfers over the last hour and day (index
// payments_user_kind_time) — then what each action does before any money moves: block -> 403
// risk_blocked; freeze -> the account's own freeze (abnormal_activity) and 403 account_frozen;
// step_up -> 401 step_up_required unless the session's privileged window is open. Transfers have
// no review queue (a transfer is completed or held at once), so `review` asks for a step-up too.
// Refusals are stored here; a decision that lets the transfer go is stored in its transaction.
import type { DbExecutor } from '../../db/database.ts';
import type { Decided, RiskEngine, RiskFacts } from '../../risk/risk.ts';
import { assertNever } from '../../shared/assert.ts';
import { ProblemError } from '../../shared/errors.ts';
import { referenceCents, type AssetInfo } from '../payment-rules.ts';

const HOUR_MS = 3600_000;
/** Rows read for the velocity facts; beyond it the counts saturate. */
export const TRANSFER_VELOCITY_ROWS_MAX = 1000;

/** What a transfer's risk check needs from its caller. */
export interface TransferRiskCall {
  sender_id: string;
  asset: AssetInfo;
  amount_minor: bigint;
  /** The session's privileged window is open (a fresh second factor). */
  privileged: boolean;
  now_ms: number;
}

function usd(assets: ReadonlyMap<string, AssetInfo>, asset: string, amount_minor: bigint): number {
  const info = assets.get(asset);
  const cents = info ? referenceCents(info, amount_minor) : null;
  return cents === null ? 0 : Number(cents) / 100;
}

/** The facts of a transfer: two indexed reads (the sender's row, their last day of transfers out). */
export async function transferFacts(ex: DbExecutor, assets: ReadonlyMap<string, AssetInfo>, t: TransferRiskCall): Promise<Partial<RiskFacts>> {
  const user = await ex.selectFrom('users').select(['created_at_ms', 'kyc_level']).where('id', '=', t.sender_id).executeTakeFirst();
  const rows = await ex
    .selectFrom('payments')
    .select(['asset', 'amount_minor', 'created_at_ms'])
    .where('user_id', '=', t.sender_id)
    .where('kind', '=', 'transfer')
    .where('created_at_ms', '>=', t.now_ms - 24 * HOUR_MS)
    .where('direction', '=', 'out')
    .limit(TRANSFER_VELOCITY_ROWS_MAX)
    .execute();
  let count_1h = 0;
  let sum_usd_1h = 0;
  let sum_usd_24h = 0;
  for (const r of rows) {
    const v = usd(assets, r.asset, BigInt(r.amount_minor));
    sum_usd_24h += v;
    if (Number(r.created_at_ms) >= t.now_ms - HOUR_MS) {
      count_1h += 1;
      sum_usd_1h += v;
    }
  }
  return {
    user_id: t.sender_id,
    asset: t.asset.code,
    amount_usd: usd(assets, t.asset.code, t.amount_minor),
    kyc_level: user ? Number(user.kyc_level) : 0,
    account_age_s: user ? Math.max(0, Math.floor((t.now_ms - Number(user.created_at_ms)) / 1000)) : -1,
    count_1h,
    count_24h: rows.length,
    sum_usd_1h,
    sum_usd_24h,
  };
}

/**
 * Evaluates the transfer; refuses it (the decision stored) when the action says so, else returns
 * the decision for the transfer's own transaction to store.
 */
export async function transferDecision(risk: RiskEngine, ex: DbExecutor, assets: ReadonlyMap<string, AssetInfo>, t: TransferRiskCall, subject_id: string, freezeAccount: ((user_id: string) => Promise<void>) | undefined): Promise<Decided> {
  const d = await risk.evaluate('transfer', await transferFacts(ex, assets, t));
  const about = { subject_id, user_id: t.sender_id };
  switch (d.action) {
    case 'allow':
      return d;
    case 'step_up':
    case 'review':
      if (t.privileged) return d;
      await risk.record(null, d, about);
      throw new ProblemError(401, 'step_up_required', 'This transfer needs a fresh second factor: POST /api/v1/auth/step-up, then send it again with the same Idempotency-Key.', { factors: ['password', 'totp', 'recovery_code'] });
    case 'block':
      await risk.record(null, d, about);
      throw new ProblemError(403, 'risk_blocked', 'This transfer was refused by our risk controls. If you think this is a mistake, contact support.');
    case 'freeze':
      await risk.record(null, d, about);
      await freezeAccount?.(t.sender_id);
      throw new ProblemError(403, 'account_frozen', 'Your account is frozen: it can receive, but cannot send.');
    default:
      return assertNever(d.action, 'risk action');
  }
}
