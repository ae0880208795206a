// Withdrawals: the payments side of sending coins out.
//
// request (one database transaction): checks -> PENDING ledger transfers user available ->
// hot_wallet (amount: the coins leave custody from the hot wallet) and user available -> fees
// (fee), linked -> the withdrawal row -> the payment
// (`requested`, with its outbox event) -> a durable `withdrawal.advance` job. Nothing touches the
// chain inside it.
//
// The job (exactly once: each step a compare-and-set on the withdrawal's status, committed with
// the job's completion and the next job) signs and broadcasts, then follows the transaction to
// depth: POST the pending transfers -> `completed`, or VOID them -> `failed` with why.
// Risk review: when a review rule fires at request (withdrawal-rules reviewRules), the same
// reservation is made but the withdrawal and its payment go to `review` (hold risk_review, the
// rules in the payment's params) and no job is queued: nothing is signed until staff approve
// (-> `requested` + the job) or reject (-> VOID the pending transfers -> `failed` with the
// reason), each decision audited in the same database transaction.
// Ids derive from (user, Idempotency-Key), so a retried request or a re-run job finds its own
// records and never makes a second withdrawal, ledger transfer or chain transaction.
//
// The face of withdrawals: its dependencies, the default gate over accounts, and the service.
// The parts: withdrawal-request.ts (the request), withdrawal-advance.ts (the job's steps),
// withdrawal-review.ts (staff review), withdrawal-moves.ts (what they share).
import type { Config } from '../../config.ts';
import type { Db, DbExecutor } from '../../db/database.ts';
import type { JobContext, JobRunner } from '../../jobs/jobs.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Sender } from '../../chain/chain.ts';
import type { Clock } from '../../shared/clock.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import type { UserStatus } from '../../shared/principal.ts';
import type { Payment, TimelineEntry } from '../payments.ts';
import { assetsFromChains } from '../payment-rules.ts';
import { dailyLimitRefusal } from './withdrawal-rules.ts';
import type { RiskEngine } from '../../risk/risk.ts';
import { withdrawalRiskEngine } from './withdrawal-risk.ts';
import { getWithdrawal, withdrawnSince, type WithdrawalRow } from './withdrawal-store.ts';
import { advanceWithdrawal } from './withdrawal-advance.ts';
import { ADVANCE_JOB, type WithdrawalContext } from './withdrawal-moves.ts';
import { requestWithdrawal } from './withdrawal-request.ts';
import { approve, reject, reviews } from './withdrawal-review.ts';

/** What accounts decide about a withdrawal (cool-down after unfreeze, KYC limits); null = allowed. */
export type WithdrawalGate = (ex: DbExecutor, q: { user_id: string; asset: string; amount_minor: bigint; now_ms: number }) => Promise<{ status: number; code: string; detail: string } | null>;

/** What the gate needs from accounts: how the account stands (accounts.standing). */
export interface StandingFacts {
  withdraw: { ok: true } | { ok: false; code: string; until_ms: number | null };
  limits: { decimals: number; daily_withdrawal_minor: bigint };
}

/**
 * The default gate over accounts: the cool-down after an unfreeze (and status) from `standing`,
 * and the KYC daily withdrawal limit, in US dollars across every priced asset (an asset without
 * a price is not counted; its withdrawals still go to review above `review_above`).
 */
export function standingGate(standing: (user_id: string, ex: DbExecutor) => Promise<StandingFacts>, config: Pick<Config, 'chains'>): WithdrawalGate {
  const assets = new Map(assetsFromChains(config.chains).map((a) => [a.code, a]));
  return async (ex, q) => {
    const s = await standing(q.user_id, ex);
    if (!s.withdraw.ok) {
      const until = s.withdraw.until_ms ? ` until ${new Date(s.withdraw.until_ms).toISOString()}` : '';
      return { status: 403, code: s.withdraw.code, detail: `Withdrawals are blocked${until} (${s.withdraw.code.replace(/_/g, ' ')}).` };
    }
    const refusal = dailyLimitRefusal(assets, q.asset, q.amount_minor, await withdrawnSince(ex, q.user_id, q.now_ms - 24 * 3600_000), s.limits);
    if (!refusal) return null;
    const usd = (c: bigint) => formatAmount(c, 2);
    return {
      status: 403,
      code: 'limit_exceeded',
      detail: `This withdrawal (about ${usd(refusal.amount_cents)} USD) would exceed the 24-hour limit of your verification level: ${usd(refusal.limit_cents)} USD, of which ${usd(refusal.used_cents)} USD is used.`,
    };
  };
}

export interface WithdrawalDeps {
  db: Db;
  clock: Clock;
  /** `support.four_eyes_above_usd` defaults to the config's own default (1000) when absent. */
  config: Pick<Config, 'chains'> & Partial<Pick<Config, 'support'>>;
  ledger: Ledger;
  /** The hot wallet of a chain, or null when the chain has none. */
  sender: (chain_id: number) => Sender | null;
  /** Whether an address is one of the platform's deposit addresses on that chain. */
  isOwnDepositAddress?: (ex: DbExecutor, chain_id: number, address: string) => Promise<boolean>;
  /** Whether an address is one of the platform's invoice addresses on that chain (refused: see address-rules). */
  isInvoiceAddress?: (ex: DbExecutor, chain_id: number, address: string) => Promise<boolean>;
  gate?: WithdrawalGate;
  /**
   * How the account stands now (accounts.standing): an approval re-checks it, so that a
   * withdrawal reviewed while its owner froze the account ("this wasn't me") cannot go out.
   */
  standing?: (user_id: string, ex: DbExecutor) => Promise<Pick<StandingFacts, 'withdraw'>>;
  /** The fee in the asset's smallest unit; default 0. */
  feeFor?: (asset: string, amount_minor: bigint) => bigint;
  /** How soon the job looks at the chain again; default: the chain's poll interval or 1 s. */
  poll_ms?: number;
  /**
   * What the risk rules know of the account (age, last password/email change); without it only
   * the amount rule applies. accountRiskFacts reads them from the accounts tables.
   */
  accountFacts?: AccountFacts;
  /** The new-account review window (default 24 h); null turns that rule off. Only for the default rules in memory (no `risk`). */
  new_account_ms?: number | null;
  /**
   * The risk engine (platform: versioned rules in the database, every decision stored); without
   * it the default rules decide in memory (withdrawal-risk.ts), as the review rules did before.
   */
  risk?: RiskEngine;
  /** A `freeze` decision freezes the account (accounts' own freeze, reason abnormal_activity). */
  freezeAccount?: (user_id: string) => Promise<void>;
}

/**
 * What the review rules need from accounts; nulls when unknown. `createdAtOf` reads several
 * users' registration times in one query (the review queue); users it does not know are left out.
 */
export type AccountFacts = ((ex: DbExecutor, user_id: string, now_ms: number) => Promise<{ created_at_ms: number | null; credentials_changed_at_ms: number | null; kyc_level?: number }>) & {
  createdAtOf?: (ex: DbExecutor, user_ids: readonly string[]) => Promise<Map<string, number>>;
};

/**
 * The account facts from the accounts module's tables (read only): the user's registration time
 * and the newest `password_changed` / `email_changed` audit row.
 */
export function accountRiskFacts(): AccountFacts {
  const createdAtOf = async (ex: DbExecutor, user_ids: readonly string[]) => {
    if (user_ids.length === 0) return new Map<string, number>();
    const rows = await ex.selectFrom('users').select(['id', 'created_at_ms']).where('id', 'in', [...user_ids]).execute();
    return new Map(rows.map((r) => [r.id, Number(r.created_at_ms)]));
  };
  return Object.assign(facts, { createdAtOf });
  async function facts(ex: DbExecutor, user_id: string): Promise<{ created_at_ms: number | null; credentials_changed_at_ms: number | null; kyc_level?: number }> {
    const u = await ex.selectFrom('users').select(['created_at_ms', 'kyc_level']).where('id', '=', user_id).executeTakeFirst();
    const changed = await ex
      .selectFrom('audit_log')
      .select('at_ms')
      .where('subject_type', '=', 'user')
      .where('subject_id', '=', user_id)
      .where('action', 'in', ['password_changed', 'email_changed'])
      .orderBy('at_ms', 'desc')
      .limit(1)
      .executeTakeFirst();
    return { created_at_ms: u ? Number(u.created_at_ms) : null, credentials_changed_at_ms: changed ? Number(changed.at_ms) : null, ...(u ? { kyc_level: Number(u.kyc_level) } : {}) };
  }
}

/** A withdrawal waiting for staff, with the evidence for the decision. */
export interface PendingReview {
  withdrawal: WithdrawalRow;
  /** The rules that asked for the review (the defaults' ids, or the risk rule set's). */
  rules: string[];
  account_created_at_ms: number | null;
}

/** Who decides, for the audit log. */
export interface StaffDecision {
  staff_id: string;
  note: string | null;
  meta: { ip: string | null; user_agent: string | null; request_id: string | null };
}

const DEFAULT_FOUR_EYES_USD = '1000';

/** Where a withdrawal's four-eyes stands after an approval: it goes ahead once `given` reaches `required`. */
export interface ReviewApprovals {
  given: number;
  required: 1 | 2;
}

export interface WithdrawalRequest {
  user_id: string;
  user_status: UserStatus;
  idempotency_key: string;
  asset: string;
  to_address: string;
  amount_minor: bigint;
}

export interface Withdrawals {
  request(req: WithdrawalRequest): Promise<{ result: 'created' | 'exists'; payment: Payment; timeline: TimelineEntry[] }>;
  /** One step of the job (tests call it directly through the JobRunner). */
  advance(id: string, ctx: Pick<JobContext, 'commit'>): Promise<void>;
  get(id: string): Promise<WithdrawalRow | undefined>;
  /** Withdrawals waiting for staff, oldest first. */
  reviews(limit: number): Promise<PendingReview[]>;
  /** Staff approve: back to `requested` and the job that broadcasts it. Throws 403/404/409 problems. */
  approve(id: string, by: StaffDecision): Promise<{ payment: Payment; timeline: TimelineEntry[]; approvals: ReviewApprovals }>;
  /** Staff reject: the pending transfers voided, `failed` with the reason. Throws 403/404/409 problems. */
  reject(id: string, by: StaffDecision & { reason: string }): Promise<{ payment: Payment; timeline: TimelineEntry[] }>;
}

/** const w = createWithdrawals({ db, clock, config, ledger, sender }); registerWithdrawalJobs(jobs, w) */
export function createWithdrawals(deps: WithdrawalDeps): Withdrawals {
  const { db, clock, ledger } = deps;
  const fourEyes = parseAmount(deps.config.support?.four_eyes_above_usd ?? DEFAULT_FOUR_EYES_USD, 2);
  const c: WithdrawalContext = {
    deps,
    db,
    clock,
    ledger,
    assets: new Map(assetsFromChains(deps.config.chains).map((a) => [a.code, a])),
    // loadConfig checks the key; a hand-built config with a bad one gets the strictest rule.
    fourEyesCents: fourEyes.ok ? fourEyes.amount_minor : 0n,
    risk: withdrawalRiskEngine(deps),
  };
  return {
    request: (req) => requestWithdrawal(c, req),
    advance: (id, ctx) => advanceWithdrawal(c, id, ctx),
    get: (id) => getWithdrawal(db.kysely, id),
    reviews: (limit) => reviews(c, limit),
    approve: (id, by) => approve(c, id, by),
    reject: (id, by) => reject(c, id, by),
  };
}

export function registerWithdrawalJobs(jobs: JobRunner, withdrawals: Withdrawals): void {
  jobs.register(ADVANCE_JOB, async (payload, ctx) => withdrawals.advance((payload as { id: string }).id, ctx));
}
