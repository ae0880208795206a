// The payments module's face: the one payment model every kind writes through.
//
// Deposits, withdrawals, transfers, invoices and trades each keep their own tables for their
// mechanics, and mirror every user-visible change here with createPayment / transitionPayment,
// inside the caller's transaction, so that the status, its timeline row and the outbox event
// (`payment.<status>`, which webhooks and the event feed deliver) commit together with the
// ledger transfers that caused them.
//
//   await db.transaction(async (trx) => {
//     await ledger.createTransfersIn(trx, [...]);
//     await createPayment(trx, { id: deterministicId('pay', 'dep', chain, tx, log), user_id, kind: 'deposit',
//       direction: 'in', asset: 'USDT', amount_minor, status: 'confirming', confirmations: { current: 1, required: 6 },
//       chain: { chain_id, tx_hash, log_index, block_number, from, to, token } }, clock);
//   });
//   await db.transaction((trx) => transitionPayment(trx, id, { status: 'credited' }, clock));
import type { DbExecutor } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { assert } from '../shared/assert.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { MessageParams } from './payment-messages.ts';
import {
  canTransition,
  defaultCode,
  eventTypeOf,
  isStatusOf,
  type Direction,
  type ExplanationCode,
  type Hold,
  type HoldReason,
  type PaymentKind,
  type PaymentStatus,
} from './payment-rules.ts';
import {
  insertPaymentEvent,
  insertPaymentRow,
  lastEventNumber,
  queryPayments,
  selectPayment,
  selectTimelines,
  updatePaymentRow,
  type PaymentEventRow,
  type PaymentRow,
} from './payment-store.ts';
export { PaymentSchema, toPaymentDto } from './payment-dto.ts';

export type { PaymentKind, PaymentStatus, HoldReason, ExplanationCode, Direction } from './payment-rules.ts';

export interface PaymentChain {
  chain_id: number;
  tx_hash: string | null;
  log_index: number | null;
  block_number: number | null;
  from: string | null;
  to: string | null;
  /** ERC-20 contract (lower-case hex); null for the native coin. */
  token: string | null;
}

export interface Confirmations {
  current: number;
  required: number;
}

export interface Payment {
  id: string;
  user_id: string;
  kind: PaymentKind;
  direction: Direction;
  asset: string;
  amount_minor: bigint;
  fee_minor: bigint;
  status: PaymentStatus;
  hold: Hold | null;
  code: ExplanationCode;
  params: MessageParams;
  confirmations: Confirmations | null;
  chain: PaymentChain | null;
  counterparty: string | null;
  reference: string | null;
  memo: string | null;
  status_since_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface TimelineEntry {
  at_ms: number;
  status: PaymentStatus;
  code: ExplanationCode;
  params: MessageParams;
  hold_reason: HoldReason | null;
}

export interface NewPayment {
  /** Deterministic from the kind's own identity (idempotent: a second create returns 'exists'). */
  id: string;
  user_id: string;
  kind: PaymentKind;
  direction: Direction;
  asset: string;
  amount_minor: bigint;
  fee_minor?: bigint;
  status: PaymentStatus;
  hold?: HoldReason | null;
  /** Defaults to the status's (or the hold's) own code. */
  code?: ExplanationCode;
  params?: MessageParams;
  confirmations?: Confirmations | null;
  chain?: PaymentChain | null;
  counterparty?: string | null;
  reference?: string | null;
  memo?: string | null;
}

export interface PaymentChange {
  status: PaymentStatus;
  /**
   * The hold after this change. Omitted: kept when the status stays, cleared when it changes.
   * null: cleared.
   */
  hold?: HoldReason | null;
  code?: ExplanationCode;
  params?: MessageParams;
  confirmations?: Confirmations | null;
  chain?: PaymentChain | null;
}

export type CreatePaymentResult = { result: 'created' | 'exists'; payment: Payment };
export type TransitionResult =
  | { result: 'ok'; payment: Payment; changed: boolean }
  | { result: 'not_found'; payment: null }
  | { result: 'invalid_transition'; payment: Payment };

export function paymentFromRow(row: PaymentRow): Payment {
  return {
    id: row.id,
    user_id: row.user_id,
    kind: row.kind as PaymentKind,
    direction: row.direction as Direction,
    asset: row.asset,
    amount_minor: row.amount_minor,
    fee_minor: row.fee_minor,
    status: row.status as PaymentStatus,
    hold: row.hold_reason ? { reason: row.hold_reason as HoldReason, since_ms: Number(row.hold_since_ms ?? row.updated_at_ms) } : null,
    code: row.code as ExplanationCode,
    params: JSON.parse(row.code_params) as MessageParams,
    confirmations: row.confirmations_required !== null ? { current: row.confirmations_current ?? 0, required: row.confirmations_required } : null,
    chain:
      row.chain_id !== null
        ? { chain_id: Number(row.chain_id), tx_hash: row.tx_hash, log_index: row.log_index, block_number: row.block_number === null ? null : Number(row.block_number), from: row.chain_from, to: row.chain_to, token: row.chain_token }
        : null,
    counterparty: row.counterparty,
    reference: row.reference,
    memo: row.memo,
    status_since_ms: Number(row.status_since_ms),
    created_at_ms: Number(row.created_at_ms),
    updated_at_ms: Number(row.updated_at_ms),
  };
}

function timelineFromRow(row: PaymentEventRow): TimelineEntry {
  return { at_ms: Number(row.at_ms), status: row.status as PaymentStatus, code: row.code as ExplanationCode, params: JSON.parse(row.code_params) as MessageParams, hold_reason: row.hold_reason as HoldReason | null };
}

export function chainColumns(chain: PaymentChain | null | undefined): Pick<PaymentRow, 'chain_id' | 'tx_hash' | 'log_index' | 'block_number' | 'chain_from' | 'chain_to' | 'chain_token'> {
  return {
    chain_id: chain?.chain_id ?? null,
    tx_hash: chain?.tx_hash ?? null,
    log_index: chain?.log_index ?? null,
    block_number: chain?.block_number ?? null,
    chain_from: chain?.from ?? null,
    chain_to: chain?.to ?? null,
    chain_token: chain?.token ?? null,
  };
}

/** The outbox payload of a payment event: a snapshot the webhook dispatcher renders later. */
export function paymentSnapshot(p: Payment): Record<string, unknown> {
  return {
    id: p.id,
    user_id: p.user_id,
    kind: p.kind,
    direction: p.direction,
    asset: p.asset,
    amount_minor: p.amount_minor.toString(),
    fee_minor: p.fee_minor.toString(),
    status: p.status,
    hold: p.hold,
    code: p.code,
    params: p.params,
    confirmations: p.confirmations,
    chain: p.chain,
    counterparty: p.counterparty,
    reference: p.reference,
    created_at_ms: p.created_at_ms,
    updated_at_ms: p.updated_at_ms,
  };
}

/** The n-th timeline row of a payment, as it is now. */
export function timelineRow(p: Payment, n: number): PaymentEventRow {
  // The timeline row keeps the confirmations of its moment, so its message reads right later.
  const params = p.confirmations ? { current: p.confirmations.current, required: p.confirmations.required, ...p.params } : p.params;
  return { payment_id: p.id, n, at_ms: p.updated_at_ms, status: p.status, code: p.code, code_params: JSON.stringify(params), hold_reason: p.hold?.reason ?? null };
}

async function record(trx: DbExecutor, p: Payment, n: number, type: string, clock: Clock): Promise<void> {
  await insertPaymentEvent(trx, timelineRow(p, n));
  await emitEvent(trx, { type, aggregate_type: 'payment', aggregate_id: p.id, payload: paymentSnapshot(p) }, clock);
}

/** The row of a new payment (checked: a status of its kind, no negative amounts). */
export function newPaymentRow(input: NewPayment, now: number): PaymentRow {
  assert(isStatusOf(input.kind, input.status), `status ${input.status} is not a ${input.kind} status`);
  assert(input.amount_minor >= 0n && (input.fee_minor ?? 0n) >= 0n, 'payment amounts are never negative');
  const hold = input.hold ?? null;
  return {
    id: input.id,
    user_id: input.user_id,
    kind: input.kind,
    direction: input.direction,
    asset: input.asset,
    amount_minor: input.amount_minor,
    fee_minor: input.fee_minor ?? 0n,
    status: input.status,
    hold_reason: hold,
    hold_since_ms: hold ? now : null,
    code: input.code ?? defaultCode(input.kind, input.direction, input.status, hold),
    code_params: JSON.stringify(input.params ?? {}),
    confirmations_current: input.confirmations?.current ?? null,
    confirmations_required: input.confirmations?.required ?? null,
    ...chainColumns(input.chain),
    counterparty: input.counterparty ?? null,
    reference: input.reference ?? null,
    memo: input.memo ?? null,
    status_since_ms: now,
    created_at_ms: now,
    updated_at_ms: now,
  };
}

/** The outbox event type of a new payment. */
export function createdEventType(p: Payment): string {
  return p.hold ? 'payment.held' : eventTypeOf(p.status);
}

/** Creates a payment with its first timeline row and outbox event; idempotent by id. */
export async function createPayment(trx: DbExecutor, input: NewPayment, clock: Clock = systemClock): Promise<CreatePaymentResult> {
  const existing = await selectPayment(trx, input.id);
  if (existing) return { result: 'exists', payment: paymentFromRow(existing) };
  const row = newPaymentRow(input, clock.now_ms());
  await insertPaymentRow(trx, row);
  const payment = paymentFromRow(row);
  await record(trx, payment, 1, createdEventType(payment), clock);
  return { result: 'created', payment };
}

/** What a change makes of a payment: its new state, the row's new columns, and the event it records (null: none). */
export interface AppliedChange {
  after: Payment;
  columns: Pick<PaymentRow, 'status' | 'hold_reason' | 'hold_since_ms' | 'code' | 'code_params' | 'confirmations_current' | 'confirmations_required' | 'chain_id' | 'tx_hash' | 'log_index' | 'block_number' | 'chain_from' | 'chain_to' | 'chain_token' | 'status_since_ms' | 'updated_at_ms'>;
  event_type: string | null;
}

/**
 * The transition rules, pure: null when the table refuses the move. A change of status, hold or
 * code is significant (a timeline row and an outbox event); confirmations alone are not.
 */
export function applyChange(before: Payment, change: PaymentChange, now: number): AppliedChange | null {
  if (!canTransition(before.kind, before.status, change.status)) return null;
  const statusChanged = change.status !== before.status;
  const holdReason = change.hold !== undefined ? change.hold : statusChanged ? null : (before.hold?.reason ?? null);
  const hold: Hold | null = holdReason ? { reason: holdReason, since_ms: before.hold?.reason === holdReason ? before.hold.since_ms : now } : null;
  const code = change.code ?? (statusChanged || holdReason !== (before.hold?.reason ?? null) ? defaultCode(before.kind, before.direction, change.status, holdReason) : before.code);
  const params = change.params ?? (code === before.code ? before.params : {});
  const significant = statusChanged || holdReason !== (before.hold?.reason ?? null) || code !== before.code;
  const after: Payment = {
    ...before,
    status: change.status,
    hold,
    code,
    params,
    confirmations: change.confirmations !== undefined ? change.confirmations : before.confirmations,
    chain: change.chain !== undefined ? change.chain : before.chain,
    status_since_ms: statusChanged ? now : before.status_since_ms,
    updated_at_ms: now,
  };
  return {
    after,
    columns: {
      status: after.status,
      hold_reason: hold?.reason ?? null,
      hold_since_ms: hold?.since_ms ?? null,
      code,
      code_params: JSON.stringify(params),
      confirmations_current: after.confirmations?.current ?? null,
      confirmations_required: after.confirmations?.required ?? null,
      ...chainColumns(after.chain),
      status_since_ms: after.status_since_ms,
      updated_at_ms: now,
    },
    event_type: significant ? (hold && hold.reason !== before.hold?.reason ? 'payment.held' : eventTypeOf(after.status)) : null,
  };
}

/**
 * Moves a payment to a status (or updates its hold, explanation, confirmations or chain data).
 * A change of status, hold or code adds a timeline row and an outbox event; a change of
 * confirmations alone only updates the row (it would flood the timeline).
 */
export async function transitionPayment(trx: DbExecutor, id: string, change: PaymentChange, clock: Clock = systemClock): Promise<TransitionResult> {
  const row = await selectPayment(trx, id);
  if (!row) return { result: 'not_found', payment: null };
  const before = paymentFromRow(row);
  const applied = applyChange(before, change, clock.now_ms());
  if (!applied) return { result: 'invalid_transition', payment: before };
  await updatePaymentRow(trx, id, applied.columns);
  if (applied.event_type) await record(trx, applied.after, (await lastEventNumber(trx, id)) + 1, applied.event_type, clock);
  return { result: 'ok', payment: applied.after, changed: applied.event_type !== null };
}

/** A payment with its timeline, or null. */
export async function getPayment(ex: DbExecutor, id: string): Promise<{ payment: Payment; timeline: TimelineEntry[] } | null> {
  const row = await selectPayment(ex, id);
  if (!row) return null;
  const timelines = await selectTimelines(ex, [id]);
  return { payment: paymentFromRow(row), timeline: (timelines.get(id) ?? []).map(timelineFromRow) };
}

export interface ListPaymentsQuery {
  user_id: string;
  kind?: string | undefined;
  status?: string | undefined;
  limit: number;
  cursor?: string | null | undefined;
}

/** Newest first; next_cursor is the last id of a full page. */
export async function listPayments(ex: DbExecutor, q: ListPaymentsQuery): Promise<{ data: Array<{ payment: Payment; timeline: TimelineEntry[] }>; next_cursor: string | null }> {
  const rows = await queryPayments(ex, { user_id: q.user_id, kind: q.kind, status: q.status, before_id: q.cursor, limit: q.limit });
  const timelines = await selectTimelines(ex, rows.map((r) => r.id));
  const data = rows.map((r) => ({ payment: paymentFromRow(r), timeline: (timelines.get(r.id) ?? []).map(timelineFromRow) }));
  return { data, next_cursor: rows.length === q.limit ? rows[rows.length - 1]!.id : null };
}
