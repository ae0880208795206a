// Kysely queries for payments and their timeline; no business decisions (payments.ts decides).
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { PaymentEventsTable, PaymentsTable } from '../db/schema-payments.ts';

export type PaymentRow = Selectable<PaymentsTable>;
export type PaymentEventRow = Selectable<PaymentEventsTable>;

export async function insertPaymentRow(ex: DbExecutor, row: PaymentRow): Promise<void> {
  await ex.insertInto('payments').values(row).execute();
}

export async function selectPayment(ex: DbExecutor, id: string): Promise<PaymentRow | undefined> {
  return ex.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function selectPayments(ex: DbExecutor, ids: string[]): Promise<PaymentRow[]> {
  if (ids.length === 0) return [];
  return ex.selectFrom('payments').selectAll().where('id', 'in', ids).execute();
}

export async function updatePaymentRow(ex: DbExecutor, id: string, patch: Partial<PaymentRow>): Promise<void> {
  await ex.updateTable('payments').set(patch).where('id', '=', id).execute();
}

export async function insertPaymentEvent(ex: DbExecutor, row: PaymentEventRow): Promise<void> {
  await ex.insertInto('payment_events').values(row).execute();
}

export async function lastEventNumber(ex: DbExecutor, payment_id: string): Promise<number> {
  const r = await ex.selectFrom('payment_events').select((eb) => eb.fn.max('n').as('n')).where('payment_id', '=', payment_id).executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function selectTimelines(ex: DbExecutor, payment_ids: string[]): Promise<Map<string, PaymentEventRow[]>> {
  const out = new Map<string, PaymentEventRow[]>();
  if (payment_ids.length === 0) return out;
  const rows = await ex.selectFrom('payment_events').selectAll().where('payment_id', 'in', payment_ids).orderBy('payment_id').orderBy('n').execute();
  for (const r of rows) {
    const list = out.get(r.payment_id) ?? [];
    list.push(r);
    out.set(r.payment_id, list);
  }
  return out;
}

export interface PaymentQuery {
  user_id: string;
  kind?: string | undefined;
  status?: string | undefined;
  /** Only ids below this one (newest first paging). */
  before_id?: string | null | undefined;
  limit: number;
}

export async function queryPayments(ex: DbExecutor, q: PaymentQuery): Promise<PaymentRow[]> {
  let query = ex.selectFrom('payments').selectAll().where('user_id', '=', q.user_id);
  if (q.kind) query = query.where('kind', '=', q.kind);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.before_id) query = query.where('id', '<', q.before_id);
  return query.orderBy('id', 'desc').limit(q.limit).execute();
}

export async function selectPaymentsByReference(ex: DbExecutor, reference: string): Promise<PaymentRow[]> {
  return ex.selectFrom('payments').selectAll().where('reference', '=', reference).orderBy('id').execute();
}

export async function selectHeldPayments(ex: DbExecutor, user_id: string, hold_reason: string, limit: number): Promise<PaymentRow[]> {
  return ex.selectFrom('payments').selectAll().where('user_id', '=', user_id).where('hold_reason', '=', hold_reason).orderBy('id').limit(limit).execute();
}

/**
 * Users with deposits or withdrawals still moving (not final), on these assets or this chain
 * (null, null: anywhere), at most `limit` of them: who a maintenance window concerns.
 */
export async function usersWithPaymentsInFlight(ex: DbExecutor, where: { assets: readonly string[] | null; chain_id: number | null }, limit: number): Promise<string[]> {
  let q = ex
    .selectFrom('payments')
    .select('user_id')
    .distinct()
    .where((eb) => eb.or([
      eb.and([eb('kind', '=', 'deposit'), eb('status', 'in', ['pending', 'confirming', 'held'])]),
      eb.and([eb('kind', '=', 'withdrawal'), eb('status', 'in', ['requested', 'review', 'broadcast', 'confirming', 'unknown'])]),
    ]));
  const { assets, chain_id } = where;
  if (assets !== null || chain_id !== null) {
    q = q.where((eb) => eb.or([...(chain_id !== null ? [eb('chain_id', '=', chain_id)] : []), ...(assets && assets.length ? [eb('asset', 'in', [...assets])] : [])]));
  }
  return (await q.orderBy('user_id').limit(limit).execute()).map((r) => r.user_id);
}
