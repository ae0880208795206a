// Withdrawals: the payments side of sending coins out.
//
// request (one database transaction): checks -> PENDING ledger transfers user available ->
// hot_wallet (amount: the coins leave custody from the hot wallet) and user available -> fees
// (fee), linked -> the withdrawal row -> the payment
// (`requested`, with its outbox event) -> a durable `withdrawal.advance` job. Nothing touches the
// chain inside it.
//
// The job (exactly once: each step is a compare-and-set on the withdrawal's status committed
// together with the job's completion and the next job, through ctx.commit):
//   requested  -> the hot wallet signs and records the transaction (nonce from the database),
//                 broadcasts it -> `broadcast`;
//                 a transfer the chain would revert -> VOID the pending transfers -> `failed`.
//   broadcast / confirming -> the hot wallet refreshes (receipt, depth, rebroadcast, fee bump,
//                 cancel of an unbroadcastable nonce) -> `confirming n/required`, or at depth
//                 POST the pending transfers -> `completed`, or VOID them -> `failed` with why.
//                 Either way, the gas the hot wallet paid for the mined transaction (payload or
//                 cancel) is booked gas <- hot_wallet in the chain's native coin, in the same
//                 database transaction, with an id derived from the mined hash (withdrawalGasId).
// Risk review: when a review rule fires at request (withdrawal-rules reviewRules), the same
// reservation is made but the withdrawal and its payment go to `review` (hold risk_review, the
// rules in the payment's params) and no job is queued: nothing is signed until staff approve
// (-> `requested` + the job) or reject (-> VOID the pending transfers -> `failed` with the
// reason), each decision audited in the same database transaction.
// Ids derive from (user, Idempotency-Key), so a retried request or a re-run job finds its own
// records and never makes a second withdrawal, ledger transfer or chain transaction.
import type { Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import { serialiseOn, type Db, type DbExecutor } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { enqueueJob, type JobContext, type JobRunner } from '../../jobs/jobs.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from '../../ledger/ledger-types.ts';
import { checkWithdrawalAddress } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { erc20TransferData, type Sender, type TxView } from '../../chain/chain.ts';
import { getChainTxByPurpose } from '../../chain/chain.ts';
import { platformAccount } from '../custody/chart.ts';
import type { Clock } from '../../shared/clock.ts';
import { ProblemError } from '../../shared/errors.ts';
import type { UserStatus } from '../../shared/principal.ts';
import { createPayment, getPayment, transitionPayment, type Payment, type TimelineEntry } from '../payments.ts';
import { assetsFromChains, referenceCents, userMoneyLock } from '../payment-rules.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import { newId } from '../../shared/ids.ts';
import { confirmationsFor, dailyLimitRefusal, decideReview, isReviewRule, nextStep, NEW_ACCOUNT_MS, postIds, reviewApprovalsRequired, reviewCode, reviewRules, reviewThreshold, voidIds, withdrawalGasId, withdrawalIds, type ReviewRule, type WithdrawalStatus } from './withdrawal-rules.ts';
import { addressUsedBefore, approversOf, getWithdrawal, insertApproval, insertWithdrawal, reviewQueue, updateWithdrawal, withdrawnSince, type WithdrawalRow } from './withdrawal-store.ts';

export const ADVANCE_JOB = 'withdrawal.advance';

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
  /** The new-account review window (default 24 h); null turns that rule off. */
  new_account_ms?: number | null;
}

/**
 * What the review rules need from accounts; nulls when unknown. `createdAtOf` reads several
 * users' registration times in one query (the review queue); users it does not know are left out.
 */
export type AccountFacts = ((ex: DbExecutor, user_id: string, now_ms: number) => Promise<{ created_at_ms: number | null; credentials_changed_at_ms: number | null }>) & {
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
  async function facts(ex: DbExecutor, user_id: string): Promise<{ created_at_ms: number | null; credentials_changed_at_ms: number | null }> {
    const u = await ex.selectFrom('users').select('created_at_ms').where('id', '=', user_id).executeTakeFirst();
    const changed = await ex
      .selectFrom('audit_log')
      .select('at_ms')
      .where('subject_type', '=', 'user')
      .where('subject_id', '=', user_id)
      .where('action', 'in', ['password_changed', 'email_changed'])
      .orderBy('at_ms', 'desc')
      .limit(1)
      .executeTakeFirst();
    return { created_at_ms: u ? Number(u.created_at_ms) : null, credentials_changed_at_ms: changed ? Number(changed.at_ms) : null };
  }
}

/** A withdrawal waiting for staff, with the evidence for the decision. */
export interface PendingReview {
  withdrawal: WithdrawalRow;
  rules: ReviewRule[];
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

interface AssetOnChain {
  code: string;
  decimals: number;
  chain_id: number;
  contract: Hex | null;
  confirmations: Array<{ max_amount: string | null; blocks: number }> | undefined;
  review_above: string | undefined;
  poll_ms: number;
  /** The chain's native coin (what gas is paid in), or null when the chain configures none. */
  native: string | null;
}

function findAsset(config: Pick<Config, 'chains'>, code: string): AssetOnChain | null {
  for (const c of config.chains) {
    const poll_ms = c.poll_interval_ms ?? 1000;
    const native = c.native?.symbol ?? null;
    if (c.native?.symbol === code) return { code, decimals: c.native.decimals, chain_id: c.chain_id, contract: null, confirmations: c.native.confirmations, review_above: c.native.review_above, poll_ms, native };
    const t = c.tokens?.find((x) => x.symbol === code);
    if (t) return { code, decimals: t.decimals, chain_id: c.chain_id, contract: t.address.toLowerCase() as Hex, confirmations: t.confirmations, review_above: t.review_above, poll_ms, native };
  }
  return null;
}

const acct = (asset: string) => ({
  user: (user_id: string) => ledgerAccountId('user', user_id, asset, 'user_available'),
  hot: platformAccount(asset, 'hot_wallet').id,
  fees: platformAccount(asset, 'fees').id,
});

function accountSpecs(asset: string, user_id: string): AccountSpec[] {
  const a = acct(asset);
  return [
    { id: a.user(user_id), asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    platformAccount(asset, 'hot_wallet'),
    platformAccount(asset, 'fees'),
  ];
}

function refuseStatus(status: UserStatus): ProblemError | null {
  switch (status) {
    case 'active':
      return null;
    case 'frozen':
      return new ProblemError(403, 'account_frozen', 'Your account is frozen: withdrawals are blocked until it is unfrozen.');
    case 'restricted':
      return new ProblemError(403, 'account_restricted', 'Your account is restricted: withdrawals are blocked.');
    case 'closed':
      return new ProblemError(403, 'account_closed', 'This account is closed.');
  }
}

function log(row: Pick<WithdrawalRow, 'timeline'>, at_ms: number, status: WithdrawalStatus, reason: string | null): string {
  const entries = JSON.parse(row.timeline) as unknown[];
  entries.push({ at_ms, status, reason });
  return JSON.stringify(entries);
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
  const assets = new Map(assetsFromChains(deps.config.chains).map((a) => [a.code, a]));
  const fourEyes = parseAmount(deps.config.support?.four_eyes_above_usd ?? DEFAULT_FOUR_EYES_USD, 2);
  // loadConfig checks the key; a hand-built config with a bad one gets the strictest rule.
  const fourEyesCents = fourEyes.ok ? fourEyes.amount_minor : 0n;

  async function request(req: WithdrawalRequest): Promise<{ result: 'created' | 'exists'; payment: Payment; timeline: TimelineEntry[] }> {
    const ids = withdrawalIds(req.user_id, req.idempotency_key);
    const existing = await getPayment(db.kysely, ids.id);
    if (existing) return { result: 'exists', ...existing };
    const asset = findAsset(deps.config, req.asset);
    if (!asset) throw new ProblemError(422, 'unknown_asset', `No configured asset is called ${req.asset}.`);
    const own = deps.isOwnDepositAddress && /^0x[0-9a-fA-F]{40}$/.test(req.to_address) ? await deps.isOwnDepositAddress(db.kysely, asset.chain_id, req.to_address.toLowerCase()) : false;
    const address = checkWithdrawalAddress(req.to_address, { isOwnDepositAddress: own });
    if (!address.ok) throw new ProblemError(422, 'invalid_address', address.detail, { reason: address.reason });
    if (req.amount_minor <= 0n) throw new ProblemError(422, 'invalid_amount', 'The amount must be more than zero.');
    const blocked = refuseStatus(req.user_status);
    if (blocked) throw blocked;
    const now = clock.now_ms();
    const fee = deps.feeFor?.(req.asset, req.amount_minor) ?? 0n;
    const account = deps.accountFacts ? await deps.accountFacts(db.kysely, req.user_id, now) : { created_at_ms: null, credentials_changed_at_ms: null };
    const rules = reviewRules({
      now_ms: now,
      amount_minor: req.amount_minor,
      threshold_minor: reviewThreshold(req.asset, asset.decimals, asset.review_above),
      account_created_at_ms: account.created_at_ms,
      credentials_changed_at_ms: account.credentials_changed_at_ms,
      address_used_before: await addressUsedBefore(db.kysely, req.user_id, address.address),
      new_account_ms: deps.new_account_ms === undefined ? NEW_ACCOUNT_MS : deps.new_account_ms,
    });
    const review = rules.length > 0;
    await ledger.ensureAccounts(accountSpecs(req.asset, req.user_id));
    const a = acct(req.asset);

    return db.transaction(async (trx) => {
      const again = await getPayment(trx, ids.id);
      if (again) return { result: 'exists' as const, ...again };
      // The gate (standing, the day's KYC total) is read inside the transaction that reserves the
      // money, one transaction per user at a time: parallel requests cannot all pass on one total.
      await serialiseOn(trx, db.dialect, userMoneyLock(req.user_id));
      const gate = deps.gate ? await deps.gate(trx, { user_id: req.user_id, asset: req.asset, amount_minor: req.amount_minor, now_ms: now }) : null;
      if (gate) throw new ProblemError(gate.status, gate.code, gate.detail);
      const batch: TransferInput[] = [
        { id: ids.amount_transfer_id, debit_account_id: a.user(req.user_id), credit_account_id: a.hot, amount_minor: req.amount_minor, asset: req.asset, pending: true, linked: fee > 0n, reason: 'withdrawal', reference: ids.id },
      ];
      if (fee > 0n) batch.push({ id: ids.fee_transfer_id, debit_account_id: a.user(req.user_id), credit_account_id: a.fees, amount_minor: fee, asset: req.asset, pending: true, reason: 'withdrawal_fee', reference: ids.id });
      const results = await ledger.createTransfersIn(trx, batch);
      const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists' && r.result !== 'linked_event_failed');
      if (bad) {
        if (bad.result === 'exceeds_credits') throw new ProblemError(422, 'insufficient_funds', 'Your available balance does not cover the amount and the fee.');
        throw new Error(`withdrawal ledger transfer refused: ${bad.result}`);
      }
      await insertWithdrawal(trx, {
        id: ids.id,
        user_id: req.user_id,
        idempotency_key: req.idempotency_key,
        asset: req.asset,
        chain_id: asset.chain_id,
        to_address: address.address,
        amount_minor: req.amount_minor,
        fee_minor: fee,
        status: review ? 'review' : 'requested',
        ledger_transfer_id: ids.amount_transfer_id,
        chain_tx_id: null,
        tx_hash: null,
        block_number: null,
        confirmations: 0,
        confirmations_required: confirmationsFor(req.amount_minor, asset.decimals, asset.confirmations),
        failure_code: null,
        failure_reason: null,
        timeline: JSON.stringify([{ at_ms: now, status: 'requested', reason: null }, ...(review ? [{ at_ms: now, status: 'review', reason: rules.join(',') }] : [])]),
        created_at_ms: now,
        updated_at_ms: now,
      });
      await createPayment(
        trx,
        {
          id: ids.id,
          user_id: req.user_id,
          kind: 'withdrawal',
          direction: 'out',
          asset: req.asset,
          amount_minor: req.amount_minor,
          fee_minor: fee,
          status: 'requested',
          chain: { chain_id: asset.chain_id, tx_hash: null, log_index: null, block_number: null, from: null, to: address.address, token: asset.contract },
          reference: ids.id,
        },
        clock,
      );
      if (review) {
        // The money stays reserved (pending transfers above); nothing is broadcast until staff approve.
        const r = await transitionPayment(trx, ids.id, { status: 'review', hold: 'risk_review', code: reviewCode(rules[0]!), params: { rules: rules.join(','), amount: formatAmount(req.amount_minor, asset.decimals), asset: req.asset } }, clock);
        if (r.result !== 'ok') throw new Error(`payment ${ids.id}: ${r.result}`);
      } else {
        await enqueueJob(trx, ADVANCE_JOB, { id: ids.id }, { unique_key: `${ADVANCE_JOB}:${ids.id}:0` }, clock);
      }
      const created = (await getPayment(trx, ids.id))!;
      return { result: 'created' as const, ...created };
    });
  }

  /** Moves the withdrawal from `from` (fenced), with its payment, in the caller's transaction. */
  async function move(trx: Transaction<Database>, w: WithdrawalRow, to: WithdrawalStatus, patch: Partial<WithdrawalRow>, reason: string | null, payment: Parameters<typeof transitionPayment>[2]): Promise<void> {
    const now = clock.now_ms();
    const ok = await updateWithdrawal(trx, w.id, w.status, { ...patch, status: to, updated_at_ms: now, timeline: to !== w.status ? log(w, now, to, reason) : w.timeline });
    if (!ok) throw new Error(`withdrawal ${w.id} moved under us (was ${w.status})`);
    const r = await transitionPayment(trx, w.id, payment, clock);
    if (r.result !== 'ok') throw new Error(`payment ${w.id}: ${r.result}`);
  }

  async function resolveLedger(trx: Transaction<Database>, w: WithdrawalRow, how: 'post' | 'void'): Promise<void> {
    const ids = how === 'post' ? postIds(w.id) : voidIds(w.id);
    const pid = withdrawalIds(w.user_id, w.idempotency_key);
    const linked = w.fee_minor > 0n;
    const batch: TransferInput[] =
      how === 'post'
        ? [{ id: ids.amount, post_pending_id: pid.amount_transfer_id, linked, reason: 'withdrawal_completed', reference: w.id }]
        : [{ id: ids.amount, void_pending_id: pid.amount_transfer_id, linked, reason: 'withdrawal_failed', reference: w.id }];
    if (linked) {
      batch.push(
        how === 'post'
          ? { id: ids.fee, post_pending_id: pid.fee_transfer_id, reason: 'withdrawal_completed', reference: w.id }
          : { id: ids.fee, void_pending_id: pid.fee_transfer_id, reason: 'withdrawal_failed', reference: w.id },
      );
    }
    const results = await ledger.createTransfersIn(trx, batch);
    const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
    if (bad) throw new Error(`withdrawal ${w.id}: ${how} refused by the ledger: ${bad.result}`);
  }

  /**
   * Books the gas the hot wallet paid for the withdrawal's mined transaction (payload or cancel):
   * gas <- hot_wallet in the native coin. Nothing when no attempt was mined (no fee was paid).
   */
  async function bookGas(trx: Transaction<Database>, w: WithdrawalRow, native: string | null, view: Pick<TxView, 'hash' | 'block_number' | 'gas_fee_minor'>): Promise<void> {
    if (!native || view.block_number === null || !view.gas_fee_minor) return;
    await ledger.ensureAccounts([platformAccount(native, 'gas'), platformAccount(native, 'hot_wallet')], trx);
    const [r] = await ledger.createTransfersIn(trx, [
      { id: withdrawalGasId(w.chain_id, view.hash), debit_account_id: platformAccount(native, 'gas').id, credit_account_id: platformAccount(native, 'hot_wallet').id, amount_minor: view.gas_fee_minor, asset: native, reason: 'gas', reference: w.id },
    ]);
    if (r!.result !== 'ok' && r!.result !== 'exists') throw new Error(`withdrawal ${w.id}: gas booking refused by the ledger: ${r!.result}`);
  }

  async function fail(trx: Transaction<Database>, w: WithdrawalRow, code: string, reason: string): Promise<void> {
    await resolveLedger(trx, w, 'void');
    await move(trx, w, 'failed', { failure_code: code, failure_reason: reason }, reason, { status: 'failed', params: { reason } });
  }

  async function advance(id: string, ctx: Pick<JobContext, 'commit'>): Promise<void> {
    const w = await getWithdrawal(db.kysely, id);
    if (!w) return;
    const status = w.status as WithdrawalStatus;
    const asset = findAsset(deps.config, w.asset);
    const poll_ms = deps.poll_ms ?? asset?.poll_ms ?? 1000;
    const again = (trx: Transaction<Database>) => enqueueJob(trx, ADVANCE_JOB, { id }, { run_at_ms: clock.now_ms() + poll_ms }, clock);
    const step = nextStep(status);
    if (step === 'done' || step === 'wait_for_staff') return;
    const sender = deps.sender(w.chain_id);
    if (!sender || !asset) throw new Error(`no hot wallet for chain ${w.chain_id}`);

    if (step === 'sign_and_broadcast') {
      // Nothing signed yet: the account must still be allowed to withdraw. A withdrawal that
      // waited (for liquidity, or after an approval) while its owner froze the account ("this
      // wasn't me") is cancelled, not sent later; once signed, the transaction is already out.
      if (deps.standing && !(await getChainTxByPurpose(db.kysely, 'withdrawal', w.id))) {
        const standing = (await deps.standing(w.user_id, db.kysely)).withdraw;
        if (!standing.ok) {
          const reason = `cancelled before signing: the account cannot withdraw (${standing.code})`;
          await ctx.commit(async (trx) => {
            await resolveLedger(trx, w, 'void');
            await move(trx, w, 'cancelled', { failure_code: standing.code, failure_reason: reason }, reason, { status: 'cancelled', hold: null, code: 'withdrawal_cancelled_account_blocked', params: { reason: standing.code } });
          });
          return;
        }
      }
      const to = w.to_address as Hex;
      const intent = asset.contract
        ? { to: asset.contract, value_minor: 0n, data: erc20TransferData(to, w.amount_minor) }
        : { to, value_minor: w.amount_minor };
      const prepared = await sender.prepare({ purpose: 'withdrawal', purpose_id: w.id, confirmations_required: w.confirmations_required, ...intent });
      if (!prepared.ok && isHotWalletShort(prepared.reason)) {
        // The platform's hot wallet lacks the coins right now (sweeps or a top-up will bring
        // them): the user's withdrawal waits and retries with backoff instead of failing.
        throw new Error(`hot wallet short of ${w.asset} for ${w.id}; retrying: ${prepared.reason.slice(0, 200)}`);
      }
      if (!prepared.ok) {
        await ctx.commit((trx) => fail(trx, w, 'unbroadcastable', prepared.reason));
        return;
      }
      await sender.broadcast(prepared.tx.id);
      const [view] = [await sender.refresh(prepared.tx.id)];
      await ctx.commit(async (trx) => {
        await move(trx, w, 'broadcast', { chain_tx_id: prepared.tx.id, tx_hash: view.hash }, null, {
          status: 'broadcast',
          chain: { chain_id: w.chain_id, tx_hash: view.hash, log_index: null, block_number: null, from: sender.address, to: w.to_address, token: asset.contract },
          confirmations: { current: 0, required: w.confirmations_required },
        });
        await again(trx);
      });
      return;
    }

    // track
    const view = await sender.refresh(w.chain_tx_id!);
    const chain = { chain_id: w.chain_id, tx_hash: view.hash, log_index: null, block_number: view.block_number, from: sender.address, to: w.to_address, token: asset.contract };
    const confirmations = { current: Math.min(view.confirmations, w.confirmations_required), required: w.confirmations_required };
    await ctx.commit(async (trx) => {
      switch (view.status) {
        case 'confirmed':
          await resolveLedger(trx, w, 'post');
          await bookGas(trx, w, asset.native, view);
          await move(trx, w, 'completed', { tx_hash: view.hash, block_number: view.block_number, confirmations: view.confirmations }, null, { status: 'completed', chain, confirmations });
          return;
        case 'failed':
          await fail(trx, { ...w }, 'failed_on_chain', view.failure_reason ?? 'failed on chain');
          await bookGas(trx, w, asset.native, view);
          return;
        case 'mined':
          await move(trx, w, 'confirming', { tx_hash: view.hash, block_number: view.block_number, confirmations: view.confirmations }, null, { status: 'confirming', chain, confirmations });
          await again(trx);
          return;
        case 'signed':
        case 'broadcast':
          await move(trx, w, 'broadcast', { tx_hash: view.hash, block_number: null, confirmations: 0 }, null, { status: 'broadcast', chain, confirmations: { current: 0, required: w.confirmations_required } });
          await again(trx);
          return;
      }
    });
  }

  /**
   * The review queue with its evidence in a fixed number of queries whatever the page size: the
   * withdrawals with their payments' rules (one join), then the owners' registration times (one
   * query through accountFacts.createdAtOf; per distinct owner only for an AccountFacts without it).
   */
  async function reviews(limit: number): Promise<PendingReview[]> {
    const rows = await reviewQueue(db.kysely, limit);
    const created = await createdAtOf([...new Set(rows.map((r) => r.withdrawal.user_id))]);
    return rows.map(({ withdrawal, payment_params }) => {
      const params = payment_params ? (JSON.parse(payment_params) as Record<string, unknown>) : {};
      const rules = String(params.rules ?? '').split(',').filter(isReviewRule);
      return { withdrawal, rules, account_created_at_ms: created.get(withdrawal.user_id) ?? null };
    });
  }

  async function createdAtOf(user_ids: string[]): Promise<Map<string, number>> {
    const facts = deps.accountFacts;
    if (!facts || user_ids.length === 0) return new Map();
    if (facts.createdAtOf) return facts.createdAtOf(db.kysely, user_ids);
    const now = clock.now_ms();
    const out = new Map<string, number>();
    for (const u of user_ids) {
      const f = await facts(db.kysely, u, now);
      if (f.created_at_ms !== null) out.set(u, f.created_at_ms);
    }
    return out;
  }

  /** Loads the withdrawal, checks the decision may be taken, and audits it in the same transaction. */
  async function decide<T extends Record<string, unknown>>(id: string, by: StaffDecision, decision: 'approve' | 'reject', apply: (trx: Transaction<Database>, w: WithdrawalRow) => Promise<T>): Promise<{ payment: Payment; timeline: TimelineEntry[]; outcome: T }> {
    return db.transaction(async (trx) => {
      const w = await getWithdrawal(trx, id);
      if (!w) throw new ProblemError(404, 'not_found', 'No withdrawal has that id.');
      const d = decideReview(w.status as WithdrawalStatus, w.user_id, by.staff_id, decision);
      if (!d.ok) {
        throw d.code === 'own_withdrawal'
          ? new ProblemError(403, 'own_withdrawal', 'Staff cannot review their own withdrawal.')
          : new ProblemError(409, 'review_closed', `This withdrawal is not waiting for a review (it is ${w.status}).`);
      }
      const outcome = await apply(trx, w);
      const now = clock.now_ms();
      await trx
        .insertInto('audit_log')
        .values({
          id: newId('aud', now), at_ms: now, actor_type: 'staff', actor_id: by.staff_id, action: decision === 'approve' ? 'withdrawal_review_approved' : 'withdrawal_review_rejected',
          subject_type: 'withdrawal', subject_id: w.id, ip: by.meta.ip, user_agent: by.meta.user_agent, request_id: by.meta.request_id,
          details: JSON.stringify({ user_id: w.user_id, asset: w.asset, amount_minor: String(w.amount_minor), to_address: w.to_address, note: by.note, ...outcome }),
        })
        .execute();
      return { ...(await getPayment(trx, w.id))!, outcome };
    }).catch((e: unknown) => {
      // A concurrent decision moved it first: the fence in move() refused ours.
      if (e instanceof Error && /moved under us/.test(e.message)) throw new ProblemError(409, 'review_closed', 'This withdrawal is not waiting for a review any more.');
      throw e;
    });
  }

  /**
   * One staff approval. At or above `four_eyes_above_usd` (or for an asset without a US dollar
   * price) a second, different staff member must approve too: the first approval is recorded and
   * audited, and the withdrawal stays in review until the second.
   */
  async function approve(id: string, by: StaffDecision): Promise<{ payment: Payment; timeline: TimelineEntry[]; approvals: ReviewApprovals }> {
    const r = await decide(id, by, 'approve', async (trx, w) => {
      const standing = deps.standing ? (await deps.standing(w.user_id, trx)).withdraw : ({ ok: true } as const);
      if (!standing.ok) {
        throw new ProblemError(409, standing.code, `The account cannot withdraw now (${standing.code.replace(/_/g, ' ')}): reject this withdrawal, or approve it once the account can withdraw again.`);
      }
      const asset = assets.get(w.asset);
      const required = reviewApprovalsRequired(asset ? referenceCents(asset, w.amount_minor) : null, fourEyesCents);
      if (!(await insertApproval(trx, { withdrawal_id: w.id, staff_id: by.staff_id, note: by.note, created_at_ms: clock.now_ms() }))) {
        throw new ProblemError(409, 'already_approved', 'You already approved this withdrawal; a different staff member must approve it next.');
      }
      const given = (await approversOf(trx, w.id)).length;
      if (given < required) return { approvals: given, approvals_required: required };
      await move(trx, w, 'requested', {}, `approved by ${by.staff_id}`, { status: 'requested', hold: null });
      await enqueueJob(trx, ADVANCE_JOB, { id: w.id }, { unique_key: `${ADVANCE_JOB}:${w.id}:approved` }, clock);
      return { approvals: given, approvals_required: required };
    });
    return { payment: r.payment, timeline: r.timeline, approvals: { given: r.outcome.approvals, required: r.outcome.approvals_required } };
  }

  async function reject(id: string, by: StaffDecision & { reason: string }): Promise<{ payment: Payment; timeline: TimelineEntry[] }> {
    const r = await decide(id, by, 'reject', async (trx, w) => {
      await resolveLedger(trx, w, 'void');
      await move(trx, w, 'failed', { failure_code: 'rejected', failure_reason: by.reason }, by.reason, { status: 'failed', hold: null, code: 'withdrawal_rejected', params: { reason: by.reason } });
      return { reason: by.reason };
    });
    return { payment: r.payment, timeline: r.timeline };
  }

  return { request, advance, get: (id) => getWithdrawal(db.kysely, id), reviews, approve, reject };
}

export function registerWithdrawalJobs(jobs: JobRunner, withdrawals: Withdrawals): void {
  jobs.register(ADVANCE_JOB, async (payload, ctx) => withdrawals.advance((payload as { id: string }).id, ctx));
}

/** ERC20InsufficientBalance (OpenZeppelin 5, selector 0xe450d38c) or the classic revert text. */
function isHotWalletShort(reason: string): boolean {
  return /0xe450d38c|ERC20InsufficientBalance|transfer amount exceeds balance/i.test(reason);
}
