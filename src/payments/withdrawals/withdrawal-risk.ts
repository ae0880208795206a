// A withdrawal's risk decision: the facts gathered here, in the payments layer (the risk module
// decides over facts handed to it and reads no payment table), then what each action does:
// allow -> the job; review -> `review` with hold risk_review (the money reserved, nothing
// broadcast); step_up -> already satisfied (POST /withdrawals always needs the privileged window
// or totp_code); block -> 403 risk_blocked, or address_blocked for a listed destination;
// freeze -> the account's own freeze (abnormal_activity) and 403 account_frozen. Every decision
// is stored: with the withdrawal's own transaction when it goes ahead, on its own when refused.
import type { DbExecutor } from '../../db/database.ts';
import { BLOCKED_ADDRESS_RULE, LEGACY_RULE_IDS, defaultRules, memoryRisk, type Decided, type RiskEngine, type RiskFacts } from '../../risk/risk.ts';
import { assertNever } from '../../shared/assert.ts';
import { ProblemError } from '../../shared/errors.ts';
import { referenceCents, type AssetInfo } from '../payment-rules.ts';
import { isReviewRule, NEW_ACCOUNT_MS, reviewCode, reviewThreshold } from './withdrawal-rules.ts';
import { addressUsedBefore, recentWithdrawals } from './withdrawal-store.ts';
import type { AssetOnChain, WithdrawalContext } from './withdrawal-moves.ts';
import type { WithdrawalDeps, WithdrawalRequest } from './withdrawals.ts';

const HOUR_MS = 3600_000;
/** Rows read for the velocity facts (one user's last 24 h of withdrawals); beyond it the counts saturate. */
export const VELOCITY_ROWS_MAX = 1000;

/**
 * The engine a withdrawal asks: the wired one (platform: versioned rules in the database), or the
 * default rules in memory for withdrawals built alone (their new-account window from the deps).
 */
export function withdrawalRiskEngine(deps: Pick<WithdrawalDeps, 'risk' | 'new_account_ms'>): RiskEngine {
  if (deps.risk) return deps.risk;
  const window_ms = deps.new_account_ms === undefined ? NEW_ACCOUNT_MS : deps.new_account_ms;
  return memoryRisk(defaultRules({ new_account_s: window_ms === null ? null : Math.floor(window_ms / 1000) }));
}

/** US dollars of an amount, 0 for an asset without a price. */
function usd(assets: ReadonlyMap<string, AssetInfo>, asset: string, amount_minor: bigint): number {
  const info = assets.get(asset);
  const cents = info ? referenceCents(info, amount_minor) : null;
  return cents === null ? 0 : Number(cents) / 100;
}

/** Count and US dollar sum of the user's withdrawals over the last hour and day (before this one), from one indexed read. */
async function velocity(ex: DbExecutor, assets: ReadonlyMap<string, AssetInfo>, user_id: string, now_ms: number): Promise<Pick<RiskFacts, 'count_1h' | 'count_24h' | 'sum_usd_1h' | 'sum_usd_24h'>> {
  const rows = await recentWithdrawals(ex, user_id, now_ms - 24 * HOUR_MS, VELOCITY_ROWS_MAX);
  let count_1h = 0;
  let sum_usd_1h = 0;
  let sum_usd_24h = 0;
  for (const r of rows) {
    const v = usd(assets, r.asset, r.amount_minor);
    sum_usd_24h += v;
    if (r.created_at_ms >= now_ms - HOUR_MS) {
      count_1h += 1;
      sum_usd_1h += v;
    }
  }
  return { count_1h, count_24h: rows.length, sum_usd_1h, sum_usd_24h };
}

/**
 * Gathers a withdrawal's facts (API.md part 2 "Risk" and GET /admin/risk/facts): the amount in US
 * dollars and against the asset's review threshold, the address's novelty, the account's age,
 * KYC level and last credential change, and the velocity of the last hour and day.
 */
export async function withdrawalFacts(c: WithdrawalContext, req: WithdrawalRequest, asset: AssetOnChain, address: string, now_ms: number): Promise<Partial<RiskFacts>> {
  const { db, deps, assets } = c;
  const account = deps.accountFacts ? await deps.accountFacts(db.kysely, req.user_id, now_ms) : { created_at_ms: null, credentials_changed_at_ms: null };
  const threshold = reviewThreshold(req.asset, asset.decimals, asset.review_above);
  const age_s = (at_ms: number | null) => (at_ms === null ? -1 : Math.max(0, Math.floor((now_ms - at_ms) / 1000)));
  return {
    user_id: req.user_id,
    asset: req.asset,
    amount_usd: usd(assets, req.asset, req.amount_minor),
    over_review_above: threshold !== null && req.amount_minor >= threshold,
    to_address: address.toLowerCase(),
    to_address_new: !(await addressUsedBefore(db.kysely, req.user_id, address)),
    account_age_s: age_s(account.created_at_ms),
    credentials_changed_age_s: age_s(account.credentials_changed_at_ms),
    kyc_level: account.kyc_level ?? 0,
    ...(await velocity(db.kysely, assets, req.user_id, now_ms)),
  };
}

/**
 * Refuses the withdrawal when the decision blocks or freezes (the decision stored first, and for a
 * freeze the account frozen); allow, step_up and review go on.
 */
export async function refuseIfRisky(c: WithdrawalContext, engine: RiskEngine, req: WithdrawalRequest, d: Decided, subject_id: string): Promise<void> {
  switch (d.action) {
    case 'allow':
    case 'step_up':
    case 'review':
      return;
    case 'block':
      await engine.record(null, d, { subject_id, user_id: req.user_id });
      if (d.deciding_rule === BLOCKED_ADDRESS_RULE) throw new ProblemError(403, 'address_blocked', 'Withdrawals to this address are not allowed. If you think this is a mistake, contact support.');
      throw new ProblemError(403, 'risk_blocked', 'This withdrawal was refused by our risk controls. If you think this is a mistake, contact support.');
    case 'freeze':
      await engine.record(null, d, { subject_id, user_id: req.user_id });
      await c.deps.freezeAccount?.(req.user_id);
      throw new ProblemError(403, 'account_frozen', 'Your account is frozen: withdrawals are blocked until it is unfrozen.');
    default:
      return assertNever(d.action, 'risk action');
  }
}

/**
 * How a review is explained to the user and to staff: a rule of the defaults keeps its own
 * explanation (as before the engine); any other rule gets the plain review message, which says
 * what happens next and never names the rule. `rules` (for the staff queue) lists the active
 * rules that asked for a review or more.
 */
export function reviewExplanation(d: Decided): { code: ReturnType<typeof reviewCode> | 'withdrawal_review'; rules: string[] } {
  const rules = d.fired.filter((f) => f.mode === 'active' && f.action === 'review').map((f) => f.rule_id);
  const deciding = d.deciding_rule;
  const legacy = deciding !== null && (LEGACY_RULE_IDS as readonly string[]).includes(deciding) && isReviewRule(deciding);
  return { code: legacy ? reviewCode(deciding) : 'withdrawal_review', rules };
}
