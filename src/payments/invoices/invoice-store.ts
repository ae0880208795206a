// Kysely queries for invoices, their payments and refunds. No business decisions here.
import { sql, type Selectable } from 'kysely';
import type { DbExecutor } from '../../db/database.ts';
import type { InvoicePaymentsTable, InvoiceRefundsTable, InvoicesTable } from '../../db/schema-payments.ts';

export type InvoiceRow = Selectable<InvoicesTable>;
export type InvoicePaymentRow = Selectable<InvoicePaymentsTable>;
export type InvoiceRefundRow = Selectable<InvoiceRefundsTable>;

function normalise(r: InvoiceRow): InvoiceRow {
  return {
    ...r,
    chain_id: Number(r.chain_id),
    hd_index: Number(r.hd_index),
    issued_at_block: Number(r.issued_at_block),
    expires_at_ms: Number(r.expires_at_ms),
    status_since_ms: Number(r.status_since_ms),
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

export async function insertInvoice(ex: DbExecutor, row: InvoiceRow): Promise<void> {
  await ex.insertInto('invoices').values(row).execute();
}

export async function selectInvoice(ex: DbExecutor, id: string): Promise<InvoiceRow | null> {
  const r = await ex.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? normalise(r) : null;
}

/** The merchant's invoice made with this Idempotency-Key, if any. */
export async function selectInvoiceByKey(ex: DbExecutor, user_id: string, idempotency_key: string): Promise<InvoiceRow | null> {
  const r = await ex.selectFrom('invoices').selectAll().where('user_id', '=', user_id).where('idempotency_key', '=', idempotency_key).executeTakeFirst();
  return r ? normalise(r) : null;
}

/** The invoice, row-locked on PostgreSQL (SQLite writers are already serialised by BEGIN IMMEDIATE). */
export async function selectInvoiceForUpdate(ex: DbExecutor, dialect: 'sqlite' | 'postgres', id: string): Promise<InvoiceRow | null> {
  const q = ex.selectFrom('invoices').selectAll().where('id', '=', id);
  const r = await (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
  return r ? normalise(r) : null;
}

export async function selectInvoiceByAddress(ex: DbExecutor, chain_id: number, address: string): Promise<InvoiceRow | null> {
  const r = await ex.selectFrom('invoices').selectAll().where('chain_id', '=', chain_id).where('address', '=', address.toLowerCase()).executeTakeFirst();
  return r ? normalise(r) : null;
}

/** Newest first (ids are time-ordered); before_id is the cursor. */
export async function queryInvoices(ex: DbExecutor, q: { user_id: string; before_id?: string | null | undefined; limit: number }): Promise<InvoiceRow[]> {
  let query = ex.selectFrom('invoices').selectAll().where('user_id', '=', q.user_id);
  if (q.before_id) query = query.where('id', '<', q.before_id);
  return (await query.orderBy('id', 'desc').limit(q.limit).execute()).map(normalise);
}

export async function updateInvoice(ex: DbExecutor, id: string, set: Partial<InvoiceRow>): Promise<void> {
  await ex.updateTable('invoices').set(set).where('id', '=', id).execute();
}

/** The next free invoice HD index (callers serialise allocation and retry on a unique violation). */
export async function nextInvoiceIndex(ex: DbExecutor): Promise<number> {
  const r = await ex.selectFrom('invoices').select((eb) => eb.fn.max('hd_index').as('m')).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? 0 : Number(r.m) + 1;
}

export async function lockInvoiceAllocation(ex: DbExecutor, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(7301, 2)`.execute(ex);
}

/**
 * Those of `addresses` that are invoice addresses of the chain -> their merchant (the scanner's
 * "is it ours"). Every invoice's address is looked up, open or long expired: a late payment is
 * still the merchant's and is credited (and shown as an exception of its invoice).
 */
export async function invoiceAddressOwners(ex: DbExecutor, chain_id: number, addresses: readonly string[]): Promise<Map<string, { user_id: string; hd_index: number; invoice_id: string }>> {
  const out = new Map<string, { user_id: string; hd_index: number; invoice_id: string }>();
  for (let i = 0; i < addresses.length; i += 500) {
    const rows = await ex.selectFrom('invoices').select(['address', 'user_id', 'hd_index', 'id']).where('chain_id', '=', chain_id).where('address', 'in', addresses.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.address, { user_id: r.user_id, hd_index: Number(r.hd_index), invoice_id: r.id });
  }
  return out;
}

export async function earliestInvoiceIssuedBlock(ex: DbExecutor, chain_id: number): Promise<number | null> {
  const r = await ex.selectFrom('invoices').select((eb) => eb.fn.min('issued_at_block').as('m')).where('chain_id', '=', chain_id).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? null : Number(r.m);
}

/** The deposits of these ids, with what an invoice payment mirrors of them (invoice-payments.ts). */
export async function selectDepositsPaying(ex: DbExecutor, deposit_ids: readonly string[]) {
  return ex.selectFrom('deposits').select(['id', 'chain_id', 'to_address', 'asset', 'amount_minor', 'status', 'block_timestamp_s', 'first_seen_at_ms', 'payment_id']).where('id', 'in', [...deposit_ids]).execute();
}

/** The head the chain's scanner last saw, or null (no cursor yet, or no head recorded). */
export async function selectScannedHead(ex: DbExecutor, chain_id: number): Promise<number | null> {
  const c = await ex.selectFrom('chain_cursors').select(['head']).where('chain_id', '=', chain_id).executeTakeFirst();
  return c && c.head !== null ? Number(c.head) : null;
}

export async function upsertInvoicePayment(ex: DbExecutor, row: InvoicePaymentRow): Promise<void> {
  const { deposit_id, ...rest } = row;
  const updated = await ex.updateTable('invoice_payments').set({ amount_minor: rest.amount_minor, status: rest.status, block_time_ms: rest.block_time_ms, updated_at_ms: rest.updated_at_ms }).where('deposit_id', '=', deposit_id).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) await ex.insertInto('invoice_payments').values(row).execute();
}

export async function selectInvoicePayments(ex: DbExecutor, invoice_id: string): Promise<InvoicePaymentRow[]> {
  const rows = await ex.selectFrom('invoice_payments').selectAll().where('invoice_id', '=', invoice_id).orderBy('first_seen_at_ms').orderBy('deposit_id').execute();
  return rows.map((r) => ({ ...r, block_time_ms: r.block_time_ms === null ? null : Number(r.block_time_ms), first_seen_at_ms: Number(r.first_seen_at_ms), updated_at_ms: Number(r.updated_at_ms) }));
}

export async function insertRefund(ex: DbExecutor, row: InvoiceRefundRow): Promise<boolean> {
  const existing = await ex.selectFrom('invoice_refunds').select('id').where('id', '=', row.id).executeTakeFirst();
  if (existing) return false;
  await ex.insertInto('invoice_refunds').values(row).execute();
  return true;
}

export async function selectRefunds(ex: DbExecutor, invoice_id: string): Promise<InvoiceRefundRow[]> {
  return ex.selectFrom('invoice_refunds').selectAll().where('invoice_id', '=', invoice_id).orderBy('created_at_ms').execute();
}

/**
 * Pulls the chain's scan cursor back to a block, or creates it at `create_at` when there is none
 * (the caller's firstScanBlock: at or before `block`, and before every address issued earlier):
 * the scanner never starts after an address's issue block.
 */
export async function pullCursorBack(ex: DbExecutor, chain_id: number, block: number, create_at: number, now_ms: number): Promise<void> {
  const moved = await ex.updateTable('chain_cursors').set({ next_block: block, updated_at_ms: now_ms }).where('chain_id', '=', chain_id).where('next_block', '>', block).executeTakeFirst();
  if (Number(moved.numUpdatedRows) > 0) return;
  const exists = await ex.selectFrom('chain_cursors').select('chain_id').where('chain_id', '=', chain_id).executeTakeFirst();
  if (!exists) await ex.insertInto('chain_cursors').values({ chain_id, next_block: create_at, head: null, head_seen_at_ms: null, block_time_ms: null, updated_at_ms: now_ms }).execute();
}
