// Queries of internal transfers, precompiled (db/precompiled.ts): a transfer writes its two
// payments, their two timeline rows and their two outbox events with one statement per table,
// the same rows as createPayment (payments.ts) writes one payment at a time, as the deposit
// scanner's bulk writer does (deposits/deposit-payments.ts). No decisions here.
//
//   const q = transferQueries(db);
//   await q.insertPair(trx, [outRow, inRow], [outEvent, inEvent], [outOutbox, inOutbox]);
import type { Insertable } from 'kysely';
import type { Db, DbExecutor } from '../../db/database.ts';
import { exactSumOf, exactSums } from '../../db/exact-sum.ts';
import { precompile, type Placeholder } from '../../db/precompiled.ts';
import type { OutboxTable } from '../../db/schema.ts';
import type { PaymentEventRow, PaymentRow } from '../payment-store.ts';

export type OutboxInsert = Insertable<OutboxTable>;

const PAYMENT_COLUMNS = [
  'id', 'user_id', 'kind', 'direction', 'asset', 'amount_minor', 'fee_minor', 'status', 'hold_reason', 'hold_since_ms', 'code', 'code_params',
  'confirmations_current', 'confirmations_required', 'chain_id', 'tx_hash', 'log_index', 'block_number', 'chain_from', 'chain_to', 'chain_token',
  'counterparty', 'reference', 'memo', 'status_since_ms', 'created_at_ms', 'updated_at_ms',
] as const satisfies ReadonlyArray<keyof PaymentRow>;
const EVENT_COLUMNS = ['payment_id', 'n', 'at_ms', 'status', 'code', 'code_params', 'hold_reason'] as const satisfies ReadonlyArray<keyof PaymentEventRow>;
const OUTBOX_COLUMNS = ['id', 'type', 'aggregate_type', 'aggregate_id', 'payload', 'created_at_ms'] as const satisfies ReadonlyArray<keyof OutboxInsert>;

// A column added to a table must be added above, or this does not compile (the outbox's seq is generated).
type Covers<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const covered: [Covers<keyof PaymentRow, (typeof PAYMENT_COLUMNS)[number]>, Covers<keyof PaymentEventRow, (typeof EVENT_COLUMNS)[number]>, Covers<Exclude<keyof OutboxInsert, 'seq'>, (typeof OUTBOX_COLUMNS)[number]>] = [true, true, true];
void covered;

/** Two rows of placeholders: the first row's columns are arguments 0..n-1, the second's n..2n-1. */
function placeholderRows<C extends string>(columns: readonly C[], p: Placeholder): [Record<C, never>, Record<C, never>] {
  const row = (offset: number) => Object.fromEntries(columns.map((c, i) => [c, p(offset + i)])) as Record<C, never>;
  return [row(0), row(columns.length)];
}

function flatten<C extends string>(columns: readonly C[], rows: readonly [Record<C, unknown>, Record<C, unknown>]): unknown[] {
  const out: unknown[] = [];
  for (const r of rows) for (const c of columns) out.push(r[c]);
  return out;
}

type Args = readonly unknown[];

/** transferQueries(db): the statements a transfer runs, compiled once for this database. */
export function transferQueries(db: Db) {
  const insertPayments = precompile<Args, unknown>(db, (k, p) => k.insertInto('payments').values(placeholderRows(PAYMENT_COLUMNS, p)));
  const insertEvents = precompile<Args, unknown>(db, (k, p) => k.insertInto('payment_events').values(placeholderRows(EVENT_COLUMNS, p)));
  const insertOutbox = precompile<Args, unknown>(db, (k, p) => k.insertInto('outbox_events').values(placeholderRows(OUTBOX_COLUMNS, p)));
  // Summed in SQL, exactly (db/exact-sum.ts), per asset: however many transfers the day holds.
  const sentToday = precompile<[user_id: string, since_ms: number], { asset: string } & Partial<Record<`sum_${number}`, string | null>>>(db, (k, p) =>
    k
      .selectFrom('payments')
      .select('asset')
      .select(exactSums(db.dialect, 'amount_minor'))
      .where('user_id', '=', p(0))
      .where('kind', '=', 'transfer')
      .where('direction', '=', 'out')
      .where('status', '!=', 'failed')
      .where('created_at_ms', '>', p(1))
      .groupBy('asset'),
  );

  return {
    /** The out and in payments of one transfer, their first timeline rows and their outbox events: three statements. */
    async insertPair(ex: DbExecutor, rows: readonly [PaymentRow, PaymentRow], timeline: readonly [PaymentEventRow, PaymentEventRow], events: readonly [OutboxInsert, OutboxInsert]): Promise<void> {
      await insertPayments.execute(ex, flatten(PAYMENT_COLUMNS, rows));
      await insertEvents.execute(ex, flatten(EVENT_COLUMNS, timeline));
      await insertOutbox.execute(ex, flatten(OUTBOX_COLUMNS, events));
    },

    /** What the sender sent out since `since_ms` that counts against the daily limit: one exact total per asset. */
    async sentSince(ex: DbExecutor, user_id: string, since_ms: number): Promise<Array<{ asset: string; amount_minor: bigint }>> {
      return (await sentToday.execute(ex, [user_id, since_ms])).rows.map((r) => ({ asset: r.asset, amount_minor: exactSumOf(r) }));
    },
  };
}
