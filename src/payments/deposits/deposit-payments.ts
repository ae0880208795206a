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
import { applyChange, createdEventType, type AppliedChange, newPaymentRow, paymentFromRow, paymentSnapshot, timelineRow, type NewPayment, type Payment, type PaymentChange } from '../payments.ts';
import type { PaymentEventRow, PaymentRow } from '../payment-store.ts';
import { insertRows } from './bulk-insert.ts';

/** Rows per statement, under both dialects' bound-parameter limits (payments have 27 columns). */
const PAYMENT_ROWS_PER_STATEMENT = 1000;
const EVENT_ROWS_PER_STATEMENT = 3000;
const SELECT_IDS_PER_STATEMENT = 1000;
/** Below this many rows a group on average, transitioned rows are upserted whole (see updatePaymentRows). */
const ROWS_PER_GROUP_MIN = 8;

/** The columns a transition may change (payments.ts's updatePaymentRow patch; updatePaymentRows sets these). */
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

const EVENT_COLUMNS = ['payment_id', 'n', 'at_ms', 'status', 'code', 'code_params', 'hold_reason'] as const satisfies ReadonlyArray<keyof PaymentEventRow>;
const OUTBOX_COLUMNS = ['id', 'type', 'aggregate_type', 'aggregate_id', 'payload', 'created_at_ms'] as const satisfies ReadonlyArray<keyof OutboxInsert>;

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

/** The payments among `ids`, each with the number of its last timeline row (0: none), in one statement a chunk. */
async function selectPaymentRowsWithLastEvent(ex: DbExecutor, ids: string[]): Promise<Map<string, { row: PaymentRow; last_n: number }>> {
  const out = new Map<string, { row: PaymentRow; last_n: number }>();
  await inChunks(ids, SELECT_IDS_PER_STATEMENT, async (chunk) => {
    const rows = await ex
      .selectFrom('payments')
      .selectAll('payments')
      .select((eb) => eb.selectFrom('payment_events').select((e) => e.fn.max('n').as('n')).whereRef('payment_events.payment_id', '=', 'payments.id').as('last_n'))
      .where('payments.id', 'in', chunk)
      .execute();
    for (const { last_n, ...row } of rows) out.set(row.id, { row, last_n: Number(last_n ?? 0) });
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
  await insertRows(ex, 'payment_events', EVENT_COLUMNS, events, EVENT_ROWS_PER_STATEMENT);
  await insertRows(ex, 'outbox_events', OUTBOX_COLUMNS, outbox, EVENT_ROWS_PER_STATEMENT);
}

/**
 * Writes transitioned rows. A release or a refresh changes many rows the same way (the same
 * status, code and times; the same count for the deposits of one block), so the rows are grouped
 * by the columns they change and each group is one UPDATE … WHERE id IN (…) setting only those:
 * a few parameters a row instead of a whole row, and no index rewritten for a column that stays.
 * When the changes hardly repeat (few rows a group), a whole-row upsert per chunk (every row
 * exists, so each is an update) is one statement per chunk instead of one per group.
 */
async function updatePaymentRows(ex: DbExecutor, rows: Array<{ before: PaymentRow; columns: AppliedChange['columns'] }>): Promise<void> {
  const groups = new Map<string, { patch: Partial<PaymentRow>; ids: string[] }>();
  for (const { before, columns } of rows) {
    const patch: Record<string, unknown> = {};
    for (const c of UPDATED_COLUMNS) if (c === 'updated_at_ms' || columns[c] !== before[c]) patch[c] = columns[c];
    const key = JSON.stringify(patch);
    const group = groups.get(key);
    if (group) group.ids.push(before.id);
    else groups.set(key, { patch: patch as Partial<PaymentRow>, ids: [before.id] });
  }
  if (groups.size * ROWS_PER_GROUP_MIN <= rows.length) {
    for (const { patch, ids } of groups.values()) await inChunks(ids, SELECT_IDS_PER_STATEMENT, (chunk) => ex.updateTable('payments').set(patch).where('id', 'in', chunk).execute());
    return;
  }
  await inChunks(
    rows.map((r): PaymentRow => ({ ...r.before, ...r.columns })),
    PAYMENT_ROWS_PER_STATEMENT,
    (chunk) =>
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
 * transitionPayment for many (each id at most once): the same rules; the payments read with their
 * last timeline numbers in one statement a chunk, the changed rows written a group of like changes
 * at a time (updatePaymentRows), the timeline rows and outbox events of the significant changes in bulk.
 * A missing payment or a refused transition throws (the scanner only asks for valid moves).
 */
export async function transitionPaymentsBulk(ex: DbExecutor, changes: Array<{ id: string; change: PaymentChange }>, clock: Clock): Promise<number> {
  if (changes.length === 0) return 0;
  const ids = changes.map((c) => c.id);
  assert(new Set(ids).size === ids.length, 'transitionPaymentsBulk: each payment at most once');
  const rows = await selectPaymentRowsWithLastEvent(ex, ids);
  const now = clock.now_ms();
  const updated: Array<{ before: PaymentRow; columns: AppliedChange['columns'] }> = [];
  const significant: Array<{ after: Payment; type: string; n: number }> = [];
  for (const { id, change } of changes) {
    const found = rows.get(id);
    if (!found) throw new AssertionError(`payment ${id} not found`);
    const row = found.row;
    const before = paymentFromRow(row);
    const applied = applyChange(before, change, now);
    if (!applied) throw new AssertionError(`payment ${id}: ${before.status} -> ${change.status} is not a ${before.kind} transition`);
    const columns = applied.columns;
    // Nothing shown changes (a count refreshed to the same value): the row is left alone.
    if (applied.event_type || UPDATED_COLUMNS.some((c) => c !== 'updated_at_ms' && columns[c] !== row[c])) updated.push({ before: row, columns });
    if (applied.event_type) significant.push({ after: applied.after, type: applied.event_type, n: found.last_n + 1 });
  }
  await updatePaymentRows(ex, updated);
  const events: PaymentEventRow[] = [];
  const outbox: OutboxInsert[] = [];
  for (const { after, type, n } of significant) {
    const r = recordRows(after, n, type, now);
    events.push(r.event);
    outbox.push(r.outbox);
  }
  await writeRecords(ex, events, outbox);
  return significant.length;
}
