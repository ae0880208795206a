// A withdrawal request (one database transaction): checks -> PENDING ledger transfers user
// available -> hot_wallet (amount) and user available -> fees (fee), linked -> the withdrawal row
// -> the payment (`requested`, with its outbox event) -> a durable `withdrawal.advance` job, or
// `review` (hold risk_review) with no job when the risk decision is a review (withdrawal-risk.ts),
// the decision stored in the same transaction. Nothing touches the chain.
import type { Transaction } from 'kysely';
import { serialiseOn } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { enqueueJob } from '../../jobs/jobs.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from '../../ledger/ledger.ts';
import { checkWithdrawalAddress } from '../../chain/chain.ts';
import { platformAccount } from '../custody/chart.ts';
import { ProblemError } from '../../shared/errors.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import type { UserStatus } from '../../shared/principal.ts';
import { createPayment, getPayment, transitionPayment, type Payment, type TimelineEntry } from '../payments.ts';
import { userMoneyLock } from '../payment-rules.ts';
import { confirmationsFor, withdrawalIds } from './withdrawal-rules.ts';
import { insertWithdrawal, type WithdrawalRow } from './withdrawal-store.ts';
import { refuseIfRisky, reviewExplanation, withdrawalFacts } from './withdrawal-risk.ts';
import type { Decided } from '../../risk/risk.ts';
import { ADVANCE_JOB, findAsset, type AssetOnChain, type WithdrawalContext } from './withdrawal-moves.ts';
import type { WithdrawalRequest } from './withdrawals.ts';

type Requested = { result: 'created' | 'exists'; payment: Payment; timeline: TimelineEntry[] };

/** What the checks before the transaction settled: the asset, the address, the fee, the risk decision. */
interface Checked {
  ids: ReturnType<typeof withdrawalIds>;
  asset: AssetOnChain;
  address: string;
  fee: bigint;
  now: number;
  decision: Decided;
  /** The rules that asked for a review (empty: no review). */
  rules: string[];
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

/** Requests a withdrawal; a retried request (same user and Idempotency-Key) finds its own. */
export async function requestWithdrawal(c: WithdrawalContext, req: WithdrawalRequest): Promise<Requested> {
  const { db, ledger } = c;
  const ids = withdrawalIds(req.user_id, req.idempotency_key);
  const existing = await getPayment(db.kysely, ids.id);
  if (existing) return { result: 'exists', ...existing };
  const checked = await check(c, req, ids);
  await ledger.ensureAccounts(accountSpecs(req.asset, req.user_id));
  return db.transaction((trx) => reserve(c, trx, req, checked));
}

/** The checks that need no transaction: asset, address, amount, account status, fee and review rules. */
async function check(c: WithdrawalContext, req: WithdrawalRequest, ids: Checked['ids']): Promise<Checked> {
  const { db, clock, deps } = c;
  const asset = findAsset(deps.config, req.asset);
  if (!asset) throw new ProblemError(422, 'unknown_asset', `No configured asset is called ${req.asset}.`);
  const wellFormed = /^0x[0-9a-fA-F]{40}$/.test(req.to_address);
  const own = deps.isOwnDepositAddress && wellFormed ? await deps.isOwnDepositAddress(db.kysely, asset.chain_id, req.to_address.toLowerCase()) : false;
  const invoice = deps.isInvoiceAddress && wellFormed ? await deps.isInvoiceAddress(db.kysely, asset.chain_id, req.to_address.toLowerCase()) : false;
  const address = checkWithdrawalAddress(req.to_address, { isOwnDepositAddress: own, isInvoiceAddress: invoice });
  if (!address.ok) throw new ProblemError(422, 'invalid_address', address.detail, { reason: address.reason });
  if (req.amount_minor <= 0n) throw new ProblemError(422, 'invalid_amount', 'The amount must be more than zero.');
  const minimum = configuredMinor(asset.min_withdrawal, asset.decimals);
  if (minimum !== null && req.amount_minor < minimum) {
    throw new ProblemError(422, 'amount_below_minimum', `The smallest ${asset.code} withdrawal is ${asset.min_withdrawal}; a smaller one would cost more in network fees than it moves.`);
  }
  const blocked = refuseStatus(req.user_status);
  if (blocked) throw blocked;
  const now = clock.now_ms();
  const fee = deps.feeFor?.(req.asset, req.amount_minor) ?? configuredMinor(asset.withdrawal_fee, asset.decimals) ?? 0n;
  const decision = await c.risk.evaluate('withdrawal', await withdrawalFacts(c, req, asset, address.address, now));
  await refuseIfRisky(c, c.risk, req, decision, ids.id);
  return { ids, asset, address: address.address, fee, now, decision, rules: decision.action === 'review' ? reviewExplanation(decision).rules : [] };
}

/** Reserves the money and records the withdrawal and its payment, in one transaction. */
async function reserve(c: WithdrawalContext, trx: Transaction<Database>, req: WithdrawalRequest, k: Checked): Promise<Requested> {
  const { db, clock, ledger, deps } = c;
  const { ids, asset, address, fee, now, decision } = k;
  const review = decision.action === 'review';
  const a = acct(req.asset);
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
  await insertWithdrawal(trx, withdrawalRow(req, k));
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
      chain: { chain_id: asset.chain_id, tx_hash: null, log_index: null, block_number: null, from: null, to: address, token: asset.contract },
      reference: ids.id,
    },
    clock,
  );
  await c.risk.record(trx, decision, { subject_id: ids.id, user_id: req.user_id });
  if (review) {
    // The money stays reserved (pending transfers above); nothing is broadcast until staff approve.
    const r = await transitionPayment(trx, ids.id, { status: 'review', hold: 'risk_review', code: reviewExplanation(decision).code, params: { rules: k.rules.join(','), amount: formatAmount(req.amount_minor, asset.decimals), asset: req.asset } }, clock);
    if (r.result !== 'ok') throw new Error(`payment ${ids.id}: ${r.result}`);
  } else {
    await enqueueJob(trx, ADVANCE_JOB, { id: ids.id }, { unique_key: `${ADVANCE_JOB}:${ids.id}:0` }, clock);
  }
  const created = (await getPayment(trx, ids.id))!;
  return { result: 'created' as const, ...created };
}

/** The withdrawal's row as requested: `review` when the risk decision says so, its timeline saying which rules. */
function withdrawalRow(req: WithdrawalRequest, k: Checked): WithdrawalRow {
  const { ids, asset, address, fee, now, rules } = k;
  const review = k.decision.action === 'review';
  return {
    id: ids.id,
    user_id: req.user_id,
    idempotency_key: req.idempotency_key,
    asset: req.asset,
    chain_id: asset.chain_id,
    to_address: address,
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
  };
}

/** A configured decimal amount in the asset's smallest unit (config validated its decimals), or null when not set. */
function configuredMinor(text: string | undefined, decimals: number): bigint | null {
  if (text === undefined) return null;
  const parsed = parseAmount(text, decimals);
  if (!parsed.ok) throw new Error(`configured amount ${text} did not parse: ${parsed.reason}`);
  return parsed.amount_minor;
}
