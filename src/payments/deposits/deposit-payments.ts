// Bulk payment writes for the deposit scanner: the same rows, timeline entries and outbox events
// as createPayment / transitionPayment (payments.ts), for thousands of deposits at once, with a
// statement per table per chunk instead of four or five statements per payment. The scanner calls
// these inside its own transaction, so a range's deposits, ledger transfers, payments and outbox
// rows still commit together. The rules (which transitions are allowed, which code explains a
// status, when a change earns a timeline row) are payment-rules.ts's, exactly as payments.ts uses them.
//
//   await createPaymentsBulk(trx, [{ id, user_id, kind: 'deposit', direction: 'in', … }], clock);
//   await transitionPaymentsBulk(trx, [{ id, change: { status: 'credited' } }], clock);
import type { DbExecutor } from '../../db/database.ts';
import { assert, AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { paymentFromRow, paymentSnapshot, type NewPayment, type Payment, type PaymentChain, type PaymentChange } from '../payments.ts';
import { canTransition, defaultCode, eventTypeOf, isStatusOf, type Hold } from '../payment-rules.ts';
import type { PaymentEventRow, PaymentRow } from '../payment-store.ts';

/** Rows per statement, under both dialects' bound-parameter limits (payments have 27 columns). */
const PAYMENT_ROWS_PER_STATEMENT = 1000;
const EVENT_ROWS_PER_STATEMENT = 3000;
const SELECT_IDS_PER_STATEMENT = 1000;

/** The columns a transition may change (payments.ts's updatePaymentRow patch; the upsert below sets these). */
const UPDATED_COLUMNS = [
  'status',
  'hold_reason',
  'hold_since_ms',
  'code',
  'code_params',
  'confirmations_current',
  'confirmations_required',
  'chain_id',
  'tx_hash',
  'log_index',
  'block_number',
  'chain_from',
  'chain_to',
  'chain_token',
  'status_since_ms',
  'updated_at_ms',
] as const satisfies ReadonlyArray<keyof PaymentRow>;

interface OutboxInsert {
  id: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  created_at_ms: number;
}

function chainColumns(chain: PaymentChain | null | undefined): Pick<PaymentRow, 'chain_id' | 'tx_hash' | 'log_index' | 'block_number' | 'chain_from' | 'chain_to' | 'chain_token'> {
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

async function inChunks<T>(rows: T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await fn(rows.slice(i, i + size));
}

async function selectPaymentRows(ex: DbExecutor, ids: string[]): Promise<Map<string, PaymentRow>> {
  const out = new Map<string, PaymentRow>();
  await inChunks(ids, SELECT_IDS_PER_STATEMENT, async (chunk) => {
    for (const r of await ex.selectFrom('payments').selectAll().where('id', 'in', chunk).execute()) out.set(r.id, r);
  });
  return out;
}

async function lastEventNumbers(ex: DbExecutor, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await inChunks(ids, SELECT_IDS_PER_STATEMENT, async (chunk) => {
    const rows = await ex.selectFrom('payment_events').select(['payment_id', (eb) => eb.fn.max('n').as('n')]).where('payment_id', 'in', chunk).groupBy('payment_id').execute();
    for (const r of rows) out.set(r.payment_id, Number(r.n ?? 0));
  });
  return out;
}

/** The timeline row and outbox event of a payment's significant change (payments.ts's record()). */
function recordRows(p: Payment, n: number, type: string, now_ms: number): { event: PaymentEventRow; outbox: OutboxInsert } {
  const params = p.confirmations ? { current: p.confirmations.current, required: p.confirmations.required, ...p.params } : p.params;
  return {
    event: { payment_id: p.id, n, at_ms: p.updated_at_ms, status: p.status, code: p.code, code_params: JSON.stringify(params), hold_reason: p.hold?.reason ?? null },
    outbox: { id: newId('evt', now_ms), type, aggregate_type: 'payment', aggregate_id: p.id, payload: JSON.stringify(paymentSnapshot(p)), created_at_ms: now_ms },
  };
}

async function writeRecords(ex: DbExecutor, events: PaymentEventRow[], outbox: OutboxInsert[]): Promise<void> {
  await inChunks(events, EVENT_ROWS_PER_STATEMENT, (chunk) => ex.insertInto('payment_events').values(chunk).execute());
  await inChunks(outbox, EVENT_ROWS_PER_STATEMENT, (chunk) => ex.insertInto('outbox_events').values(chunk).execute());
}

/** createPayment for many: payments that already exist are left alone. -> how many were created. */
export async function createPaymentsBulk(ex: DbExecutor, inputs: NewPayment[], clock: Clock): Promise<number> {
  if (inputs.length === 0) return 0;
  const existing = await selectPaymentRows(
    ex,
    inputs.map((i) => i.id),
  );
  const now = clock.now_ms();
  const rows: PaymentRow[] = [];
  const events: PaymentEventRow[] = [];
  const outbox: OutboxInsert[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    if (existing.has(input.id) || seen.has(input.id)) continue;
    seen.add(input.id);
    assert(isStatusOf(input.kind, input.status), `status ${input.status} is not a ${input.kind} status`);
    assert(input.amount_minor >= 0n && (input.fee_minor ?? 0n) >= 0n, 'payment amounts are never negative');
    const hold = input.hold ?? null;
    const row: PaymentRow = {
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
    rows.push(row);
    const payment = paymentFromRow(row);
    const r = recordRows(payment, 1, hold ? 'payment.held' : eventTypeOf(payment.status), now);
    events.push(r.event);
    outbox.push(r.outbox);
  }
  await inChunks(rows, PAYMENT_ROWS_PER_STATEMENT, (chunk) => ex.insertInto('payments').values(chunk).execute());
  await writeRecords(ex, events, outbox);
  return rows.length;
}

/**
 * transitionPayment for many (each id at most once): the same rules, one upsert of the changed
 * rows per chunk, the timeline rows and outbox events of the significant changes in bulk.
 * A missing payment or a refused transition throws (the scanner only asks for valid moves).
 */
export async function transitionPaymentsBulk(ex: DbExecutor, changes: Array<{ id: string; change: PaymentChange }>, clock: Clock): Promise<number> {
  if (changes.length === 0) return 0;
  const ids = changes.map((c) => c.id);
  assert(new Set(ids).size === ids.length, 'transitionPaymentsBulk: each payment at most once');
  const rows = await selectPaymentRows(ex, ids);
  const now = clock.now_ms();
  const updated: PaymentRow[] = [];
  const significantIds: string[] = [];
  const afters = new Map<string, { after: Payment; type: string }>();
  for (const { id, change } of changes) {
    const row = rows.get(id);
    if (!row) throw new AssertionError(`payment ${id} not found`);
    const before = paymentFromRow(row);
    if (!canTransition(before.kind, before.status, change.status)) throw new AssertionError(`payment ${id}: ${before.status} -> ${change.status} is not a ${before.kind} transition`);
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
    const next: PaymentRow = {
      ...row,
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
    };
    // Nothing shown changes (a count refreshed to the same value): the row is left alone.
    if (significant || UPDATED_COLUMNS.some((c) => c !== 'updated_at_ms' && next[c] !== row[c])) updated.push(next);
    if (significant) {
      significantIds.push(id);
      afters.set(id, { after, type: hold && hold.reason !== before.hold?.reason ? 'payment.held' : eventTypeOf(after.status) });
    }
  }
  // One statement per chunk for rows that each change differently: an upsert of the whole row
  // (every row exists, so each is an update), the same on SQLite and PostgreSQL.
  await inChunks(updated, PAYMENT_ROWS_PER_STATEMENT, (chunk) =>
    ex
      .insertInto('payments')
      .values(chunk)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          hold_reason: eb.ref('excluded.hold_reason'),
          hold_since_ms: eb.ref('excluded.hold_since_ms'),
          code: eb.ref('excluded.code'),
          code_params: eb.ref('excluded.code_params'),
          confirmations_current: eb.ref('excluded.confirmations_current'),
          confirmations_required: eb.ref('excluded.confirmations_required'),
          chain_id: eb.ref('excluded.chain_id'),
          tx_hash: eb.ref('excluded.tx_hash'),
          log_index: eb.ref('excluded.log_index'),
          block_number: eb.ref('excluded.block_number'),
          chain_from: eb.ref('excluded.chain_from'),
          chain_to: eb.ref('excluded.chain_to'),
          chain_token: eb.ref('excluded.chain_token'),
          status_since_ms: eb.ref('excluded.status_since_ms'),
          updated_at_ms: eb.ref('excluded.updated_at_ms'),
        })),
      )
      .execute(),
  );
  if (significantIds.length) {
    const last = await lastEventNumbers(ex, significantIds);
    const events: PaymentEventRow[] = [];
    const outbox: OutboxInsert[] = [];
    for (const id of significantIds) {
      const { after, type } = afters.get(id)!;
      const r = recordRows(after, (last.get(id) ?? 0) + 1, type, now);
      events.push(r.event);
      outbox.push(r.outbox);
    }
    await writeRecords(ex, events, outbox);
  }
  return significantIds.length;
}
