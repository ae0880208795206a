// Bulk payment writes for the deposit scanner: the same rows, timeline entries and outbox events
// as createPayment / transitionPayment (payments.ts), for thousands of deposits at once, with a
// statement per table per chunk instead of four or five statements per payment. The scanner calls
// these inside its own transaction, so a range's deposits, ledger transfers, payments and outbox
// rows still commit together. The rules (which transitions are allowed, which code explains a
// status, when a change earns a timeline row) are payment-rules.ts's, exactly as payments.ts uses them.
//
//   await createPaymentsBulk(trx, [{ id, user_id, kind: 'deposit', direction: 'in', … }], clock);
//   await transitionPaymentsBulk(trx, [{ id, change: { status: 'credited' } }], clock);
import type { Insertable } from 'kysely';
import type { DbExecutor } from '../../db/database.ts';
import type { OutboxTable } from '../../db/schema.ts';
import { assert, AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { applyChange, createdEventType, newPaymentRow, paymentFromRow, paymentSnapshot, timelineRow, type NewPayment, type Payment, type PaymentChange } from '../payments.ts';
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

type OutboxInsert = Insertable<OutboxTable>;

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
  return {
    event: timelineRow(p, n),
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
    const row = newPaymentRow(input, now);
    rows.push(row);
    const payment = paymentFromRow(row);
    const r = recordRows(payment, 1, createdEventType(payment), now);
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
    const applied = applyChange(before, change, now);
    if (!applied) throw new AssertionError(`payment ${id}: ${before.status} -> ${change.status} is not a ${before.kind} transition`);
    const next: PaymentRow = { ...row, ...applied.columns };
    // Nothing shown changes (a count refreshed to the same value): the row is left alone.
    if (applied.event_type || UPDATED_COLUMNS.some((c) => c !== 'updated_at_ms' && next[c] !== row[c])) updated.push(next);
    if (applied.event_type) {
      significantIds.push(id);
      afters.set(id, { after: applied.after, type: applied.event_type });
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
