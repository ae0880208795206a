// Internal transfers: by recipient email, instant, idempotent. One database transaction moves
// the money in the ledger (sender available -> recipient available, or the recipient's held
// balance when the recipient is frozen; the fee -> platform fees) and writes both payments
// (`out` for the sender, `in` for the recipient) with their outbox events.
//
// Refusals are decided in an order that reveals as little as possible about who is registered:
// the sender's own standing, the amount, the KYC limits and the sender's balance come first,
// and only a transfer that would otherwise go through learns `recipient_not_found`
// (docs/decisions/0007-transfers-recipient-enumeration.md).
//
// A transfer held for a frozen recipient is released by itself when `account.unfrozen` reaches
// the outbox: the release worker reads the outbox with its own cursor.
import type { Config } from '../../config.ts';
import { serialiseOn, type Db, type DbExecutor } from '../../db/database.ts';
import { groupCommit } from '../../db/group-commit.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from '../../ledger/ledger.ts';
import { consumeEventsOf } from '../../jobs/jobs.ts';
import { AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { ProblemError, problems } from '../../shared/errors.ts';
import { deterministicId, newId } from '../../shared/ids.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import type { UserStatus } from '../../shared/principal.ts';
import { platformAccount } from '../custody/chart.ts';
import { assetsFromChains, referenceCents, userMoneyLock, type AssetInfo } from '../payment-rules.ts';
import { selectHeldPayments } from '../payment-store.ts';
import type { PaymentEventRow } from '../payment-store.ts';
import { createdEventType, getPayment, newPaymentRow, paymentFromRow, paymentSnapshot, timelineRow, transitionPayment, type Payment, type TimelineEntry } from '../payments.ts';
import { checkLimits, transferFeeMinor } from './transfer-rules.ts';
import { transferQueries, type OutboxInsert } from './transfer-store.ts';
import { intervalWorker } from '../../jobs/jobs.ts';
import type { Decided, RiskEngine } from '../../risk/risk.ts';
import { transferDecision } from './transfer-risk.ts';

export const RELEASE_CONSUMER = 'payments.transfer_release';
const RELEASE_BATCH_MAX = 100;
const HELD_PER_USER_MAX = 500;
const DAY_MS = 24 * 3600_000;
/** Ledger accounts remembered as existing (bounded; forgotten all at once when full). */
const KNOWN_ACCOUNTS_MAX = 100_000;

/** How an account stands, as far as transfers care. */
export interface TransferStanding {
  user_id: string;
  status: UserStatus;
  send: { ok: true } | { ok: false; code: string; until_ms: number | null };
  receive: 'credit' | 'hold' | 'refuse';
  limits: { daily_withdrawal_minor: bigint; single_transfer_minor: bigint };
}

/** What transfers need from the accounts module (its face satisfies this). */
export interface TransferAccounts {
  /** The sender and the recipient found by email (exact, case-insensitive), in one read. */
  transferParties(sender_id: string, email: string, ex?: DbExecutor): Promise<{ sender: TransferStanding; recipient: { email: string; email_verified: boolean; standing: TransferStanding } | null }>;
  standing(user_id: string, ex?: DbExecutor): Promise<TransferStanding>;
}

/** A transfer sent: the sender's payment and, when this call created it, the recipient (for the answer's counterparty). */
export interface SentTransfer {
  payment: Payment;
  timeline: TimelineEntry[];
  /** null when the transfer already existed (a retry): the caller looks the counterparty up. */
  counterparty: { user_id: string; email: string } | null;
}

export interface TransfersDeps {
  db: Db;
  clock: Clock;
  config: Config;
  ledger: Ledger;
  accounts: TransferAccounts;
  /** The risk engine (event `transfer`, transfer-risk.ts); without it transfers are not risk-checked. */
  risk?: RiskEngine;
  /** A `freeze` decision freezes the sender (accounts' own freeze, reason abnormal_activity). */
  freezeAccount?: (user_id: string) => Promise<void>;
}

export interface TransferInputBody {
  to_email: string;
  asset: string;
  amount: string;
  memo?: string | undefined;
}

const USER_FLAGS = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };

function userSpec(user_id: string, asset: string, kind: 'user_available' | 'user_held'): AccountSpec {
  return { id: ledgerAccountId('user', user_id, asset, kind), asset, owner_type: 'user', owner_id: user_id, kind, flags: USER_FLAGS };
}

function refuse(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): ProblemError {
  return new ProblemError(status, code, detail, extra);
}

function sentTodayCents(rows: Array<{ asset: string; amount_minor: bigint }>, assets: ReadonlyMap<string, AssetInfo>): bigint {
  let total = 0n;
  for (const r of rows) {
    const a = assets.get(r.asset);
    total += (a && referenceCents(a, r.amount_minor)) ?? 0n;
  }
  return total;
}

function insufficientFunds(asset: AssetInfo, amount: bigint, fee: bigint): ProblemError {
  return refuse(422, 'insufficient_funds', `Your available ${asset.code} balance does not cover ${formatAmount(amount, asset.decimals)} plus the fee of ${formatAmount(fee, asset.decimals)}.`);
}

/** The first timeline entry of a new payment, as getPayment reads it back. */
function timelineEntryOf(row: PaymentEventRow): TimelineEntry {
  return { at_ms: row.at_ms, status: row.status as TimelineEntry['status'], code: row.code as TimelineEntry['code'], params: JSON.parse(row.code_params) as TimelineEntry['params'], hold_reason: row.hold_reason as TimelineEntry['hold_reason'] };
}

/** A new payment's outbox event (payments.ts's record(): jobs.ts's emitEvent). */
function outboxOf(p: Payment, now_ms: number): OutboxInsert {
  return { id: newId('evt', now_ms), type: createdEventType(p), aggregate_type: 'payment', aggregate_id: p.id, payload: JSON.stringify(paymentSnapshot(p)), created_at_ms: now_ms };
}

/** What the parts of one transfers service share. */
interface TransferContext {
  db: Db;
  clock: Clock;
  ledger: Ledger;
  accounts: TransferAccounts;
  assets: Map<string, AssetInfo>;
  queries: ReturnType<typeof transferQueries>;
  risk: RiskEngine | null;
  freezeAccount: ((user_id: string) => Promise<void>) | undefined;
  /**
   * Ledger accounts that a committed transfer used. Ledger accounts are never deleted, so these
   * need no ensureAccounts (one statement) again; should one be missing all the same, the ledger
   * says so and the transfer creates them all and tries again.
   */
  knownAccounts: Set<string>;
}

/** Moves amount + fee in the ledger -> 'exists' when this transfer was already applied (a retry). */
async function moveMoney(c: TransferContext, trx: Transaction<Database>, transfer_id: string, sender: string, recipient: string, asset: AssetInfo, amount: bigint, fee: bigint, toHeld: boolean): Promise<{ result: 'ok' | 'exists'; account_ids: string[] }> {
  const { ledger, knownAccounts } = c;
  const debit = userSpec(sender, asset.code, 'user_available');
  const credit = userSpec(recipient, asset.code, toHeld ? 'user_held' : 'user_available');
  const fees = platformAccount(asset.code, 'fees');
  const specs = [debit, credit, fees];
  const unknown = specs.filter((a) => !knownAccounts.has(a.id));
  if (unknown.length) await ledger.ensureAccounts(unknown, trx);
  const batch: TransferInput[] = [
    { id: `${transfer_id}:amount`, debit_account_id: debit.id, credit_account_id: credit.id, amount_minor: amount, asset: asset.code, linked: fee > 0n, reason: 'transfer', reference: transfer_id },
  ];
  if (fee > 0n) batch.push({ id: `${transfer_id}:fee`, debit_account_id: debit.id, credit_account_id: fees.id, amount_minor: fee, asset: asset.code, reason: 'transfer.fee', reference: transfer_id });
  let results = await ledger.createTransfersIn(trx, batch);
  if (results.some((r) => r.result === 'debit_account_not_found' || r.result === 'credit_account_not_found')) {
    knownAccounts.clear();
    await ledger.ensureAccounts(specs, trx);
    results = await ledger.createTransfersIn(trx, batch);
  }
  // The ledger is the authority on the balance (the sender's available account may not go below zero).
  if (results.some((r) => r.result === 'exceeds_credits')) throw insufficientFunds(asset, amount, fee);
  for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`transfer ${transfer_id}: ledger refused ${r.id}: ${r.result}`);
  const existed = results.filter((r) => r.result === 'exists').length;
  if (existed !== 0 && existed !== results.length) throw new AssertionError(`transfer ${transfer_id}: only part of it exists in the ledger`);
  return { result: existed ? 'exists' : 'ok', account_ids: specs.map((a) => a.id) };
}

function remember(c: TransferContext, account_ids: string[]): void {
  const { knownAccounts } = c;
  if (knownAccounts.size + account_ids.length > KNOWN_ACCOUNTS_MAX) knownAccounts.clear();
  for (const id of account_ids) knownAccounts.add(id);
}

/**
 * Sends a transfer; returns the sender's payment. Throws ProblemError refusals.
 * await transfers.send('usr_a', { to_email: 'b@x.test', asset: 'USDT', amount: '10' }, idempotencyKey)
 */
async function sendTransfer(c: TransferContext, sender_id: string, input: TransferInputBody, idempotency_key: string | null, opts: { privileged_until_ms: number | null }): Promise<SentTransfer> {
  const { db, clock, assets } = c;
  const asset = assets.get(input.asset);
  if (!asset) throw refuse(422, 'unknown_asset', `No configured asset is called ${input.asset}.`);
  const parsed = parseAmount(input.amount, asset.decimals);
  if (!parsed.ok || parsed.amount_minor === 0n) throw refuse(422, 'invalid_amount', parsed.ok ? 'The amount must be more than zero.' : `The amount is not valid for ${asset.code} (${parsed.reason}, ${asset.decimals} decimals at most).`);
  const amount = parsed.amount_minor;
  const fee = transferFeeMinor(amount);
  const transfer_id = idempotency_key ? deterministicId('trf', sender_id, idempotency_key) : newId('trf', clock.now_ms());
  const out_id = deterministicId('pay', transfer_id, 'out');
  const decision = c.risk ? await transferDecision(c.risk, db.kysely, assets, { sender_id, asset, amount_minor: amount, privileged: opts.privileged_until_ms !== null && opts.privileged_until_ms > clock.now_ms(), now_ms: clock.now_ms() }, out_id, c.freezeAccount) : null;

  // Concurrent transfers share one commit (one fsync) on SQLite; each still runs alone, in
  // arrival order, inside its own savepoint, and is acknowledged only once committed.
  const done = await groupCommit(db).transaction((trx) => recordTransfer(c, trx, { transfer_id, out_id, sender_id, input, asset, amount, fee, decision }));
  remember(c, done.account_ids);
  if (done.created) return done.created;
  const found = await getPayment(db.kysely, out_id);
  if (!found) throw problems.notFound('payment');
  return { ...found, counterparty: null };
}

/** One transfer inside its transaction: the refusals, the ledger move, both payments and their outbox events. */
async function recordTransfer(
  c: TransferContext,
  trx: Transaction<Database>,
  t: { transfer_id: string; out_id: string; sender_id: string; input: TransferInputBody; asset: AssetInfo; amount: bigint; fee: bigint; decision: Decided | null },
): Promise<{ account_ids: string[]; created: SentTransfer | null }> {
  const { db, clock, queries } = c;
  const { transfer_id, out_id, sender_id, input, asset, amount, fee } = t;
  const now = clock.now_ms();
  // One transfer or withdrawal of this sender at a time: the day's total read below holds
  // until this transaction commits (PostgreSQL; SQLite's writers are serial anyway).
  await serialiseOn(trx, db.dialect, userMoneyLock(sender_id));
  const { them, email } = await recipientOf(c, trx, sender_id, input.to_email, asset, amount, fee, now);
  const held = them.receive === 'hold';

  const moved = await moveMoney(c, trx, transfer_id, sender_id, them.user_id, asset, amount, fee, held);
  // Applied before (a retry of a request whose answer was lost): its payments were
  // committed with it, and are read back below.
  if (moved.result === 'exists') return { account_ids: moved.account_ids, created: null };
  if (t.decision) await c.risk!.record(trx, t.decision, { subject_id: out_id, user_id: sender_id });
  const memo = input.memo ?? null;
  const outRow = newPaymentRow({ id: out_id, user_id: sender_id, kind: 'transfer', direction: 'out', asset: asset.code, amount_minor: amount, fee_minor: fee, status: 'completed', counterparty: them.user_id, reference: transfer_id, memo }, now);
  const inRow = newPaymentRow(
    { id: deterministicId('pay', transfer_id, 'in'), user_id: them.user_id, kind: 'transfer', direction: 'in', asset: asset.code, amount_minor: amount, fee_minor: 0n, status: held ? 'held' : 'completed', hold: held ? 'account_frozen' : null, counterparty: sender_id, reference: transfer_id, memo },
    now,
  );
  const out = paymentFromRow(outRow);
  const into = paymentFromRow(inRow);
  const timeline = [timelineRow(out, 1), timelineRow(into, 1)] as const;
  await queries.insertPair(trx, [outRow, inRow], timeline, [outboxOf(out, now), outboxOf(into, now)]);
  return { account_ids: moved.account_ids, created: { payment: out, timeline: [timelineEntryOf(timeline[0])], counterparty: { user_id: them.user_id, email } } };
}

/**
 * The recipient, once the refusals have been decided in the order that leaks least: the
 * sender's standing, the limits, then (only for a transfer that would not go through) the
 * balance before whether anyone receives at that address.
 */
async function recipientOf(c: TransferContext, trx: Transaction<Database>, sender_id: string, to_email: string, asset: AssetInfo, amount: bigint, fee: bigint, now: number): Promise<{ them: TransferStanding; email: string }> {
  const { ledger, accounts, assets, queries } = c;
  // Both parties in one read; the refusals below still come in the order that leaks least.
  const { sender: me, recipient } = await accounts.transferParties(sender_id, to_email, trx);
  if (!me.send.ok) throw refuse(403, me.send.code, me.send.code === 'account_frozen' ? 'Your account is frozen: it can receive, but cannot send.' : me.send.code === 'account_restricted' ? 'Your account is restricted: sending is not allowed.' : 'Your account cannot send.');
  // The day's total (summed per asset in SQL) is read only when the limits apply: assets
  // without a reference price are not limited.
  const amount_cents = referenceCents(asset, amount);
  const sent_today_cents = amount_cents === null ? 0n : sentTodayCents(await queries.sentSince(trx, sender_id, now - DAY_MS), assets);
  const limit = checkLimits(amount_cents, sent_today_cents, { single_transfer_minor: me.limits.single_transfer_minor, daily_minor: me.limits.daily_withdrawal_minor });
  if (limit) throw refuse(422, 'limit_exceeded', `This transfer is above your verification level's ${limit.limit === 'daily' ? 'daily' : 'single-transfer'} limit of ${formatAmount(limit.limit_cents, 2)} USD.`, { limit: limit.limit, limit_usd: formatAmount(limit.limit_cents, 2), used_usd: formatAmount(limit.used_cents, 2) });
  // An address receives only once its owner confirmed it (issue 16): whoever registered
  // someone else's address first must not collect what is sent to it. Unconfirmed and
  // unknown answer alike (docs/decisions/0007-transfers-recipient-enumeration.md).
  const them = recipient && recipient.email_verified && recipient.standing.receive !== 'refuse' ? recipient.standing : null;
  if (!them || them.user_id === sender_id) {
    // A short balance is said before whether anyone receives at that address
    // (docs/decisions/0007-transfers-recipient-enumeration.md). A transfer that goes ahead needs
    // no such read: the ledger refuses one the balance does not cover.
    const [balance] = await ledger.balancesOf('user', sender_id, [asset.code], trx);
    if ((balance?.available_minor ?? 0n) < amount + fee) throw insufficientFunds(asset, amount, fee);
    if (!them) throw refuse(422, 'recipient_not_found', 'No account can receive at that email address: nobody has registered it, or its owner has not confirmed it yet. Check the address with the recipient and ask them to sign up and confirm their email (with the code we mail them), then send again.');
    throw refuse(422, 'recipient_is_sender', 'You cannot send to yourself.');
  }
  return { them, email: recipient!.email };
}

/** Releases a user's transfers held for a freeze (idempotent: release ids are deterministic). */
async function releaseHeldTransfers(c: TransferContext, trx: Transaction<Database>, user_id: string): Promise<number> {
  const { clock, ledger, accounts } = c;
  const standing = await accounts.standing(user_id, trx);
  if (standing.receive !== 'credit') return 0;
  const held = (await selectHeldPayments(trx, user_id, 'account_frozen', HELD_PER_USER_MAX)).filter((p) => p.kind === 'transfer' && p.status === 'held');
  for (const p of held) {
    await ledger.ensureAccounts([userSpec(user_id, p.asset, 'user_held'), userSpec(user_id, p.asset, 'user_available')], trx);
    const results = await ledger.createTransfersIn(trx, [
      { id: `${p.reference}:release`, debit_account_id: userSpec(user_id, p.asset, 'user_held').id, credit_account_id: userSpec(user_id, p.asset, 'user_available').id, amount_minor: p.amount_minor, asset: p.asset, reason: 'transfer.release', reference: p.id },
    ]);
    for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`release of ${p.id}: ledger refused: ${r.result}`);
    await transitionPayment(trx, p.id, { status: 'completed', hold: null, code: 'released' }, clock);
  }
  return held.length;
}

export function createTransfers(deps: TransfersDeps) {
  const { db, clock, ledger, accounts } = deps;
  const assets = new Map(assetsFromChains(deps.config.chains).map((a) => [a.code, a]));
  const c: TransferContext = { db, clock, ledger, accounts, assets, queries: transferQueries(db), risk: deps.risk ?? null, freezeAccount: deps.freezeAccount, knownAccounts: new Set<string>() };

  const service = {
    assets,
    /** opts.privileged_until_ms: the session's step-up window (open: a risk step_up is satisfied). */
    send: (sender_id: string, input: TransferInputBody, idempotency_key: string | null, opts: { privileged_until_ms: number | null } = { privileged_until_ms: null }) => sendTransfer(c, sender_id, input, idempotency_key, opts),
    releaseHeld: (trx: Transaction<Database>, user_id: string) => releaseHeldTransfers(c, trx, user_id),

    /** One pass of the release consumer over the outbox; returns events read. */
    async releaseTick(): Promise<number> {
      return consumeEventsOf(db, RELEASE_CONSUMER, 'account.unfrozen', RELEASE_BATCH_MAX, clock.now_ms(), (trx, p: { user_id: string }) => service.releaseHeld(trx, p.user_id));
    },

    /** A Worker for platform.workers: polls the outbox for unfreezes. */
    releaseWorker(poll_ms = 1000) {
      return intervalWorker('transfers.release', poll_ms, () => service.releaseTick());
    },
  };
  return service;
}

export type Transfers = ReturnType<typeof createTransfers>;
