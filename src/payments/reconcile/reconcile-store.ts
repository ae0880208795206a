// Queries of the reconciler: the records it compares (deposits, deposit addresses, our own
// confirmed transactions, sweeps, refunds) and its incidents. No decisions here.
import type { DbExecutor } from '../../db/database.ts';
import type { ReconcileIncidentsTable } from '../../db/schema-payments.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { DepositFact } from './reconcile-rules.ts';

export type ReconcileIncidentRow = ReconcileIncidentsTable;

export async function selectDepositsPage(ex: DbExecutor, chain_id: number, after_id: string, limit: number): Promise<Array<DepositFact & { log_index: number; generation: number }>> {
  return ex
    .selectFrom('deposits')
    .select(['id', 'asset', 'to_address', 'tx_hash', 'log_index', 'generation', 'amount_minor', 'status', 'credit_kind', 'orphaned', 'block_number'])
    .where('chain_id', '=', chain_id)
    .where('id', '>', after_id)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Our receiving addresses on a chain (users' deposit addresses and invoices' addresses), in order. */
export async function selectAddressesPage(ex: DbExecutor, chain_id: number, after: string, limit: number): Promise<string[]> {
  const [users, invoices] = await Promise.all([
    ex.selectFrom('deposit_addresses').select('address').where('chain_id', '=', chain_id).where('address', '>', after).orderBy('address').limit(limit).execute(),
    ex.selectFrom('invoices').select('address').where('chain_id', '=', chain_id).where('address', '>', after).orderBy('address').limit(limit).execute(),
  ]);
  return [...new Set([...users, ...invoices].map((r) => r.address.toLowerCase()))].sort().slice(0, limit);
}

/** Our transactions on a chain: confirmed ones (with their fee) and the hashes of all mined ones. */
export async function selectOwnTxs(ex: DbExecutor, chain_id: number) {
  return ex.selectFrom('chain_txs').select(['from_address', 'to_address', 'value_minor', 'gas_fee_minor', 'status', 'mined_hash', 'purpose', 'data']).where('chain_id', '=', chain_id).execute();
}

export async function selectSweeps(ex: DbExecutor, chain_id: number) {
  return ex.selectFrom('sweeps').select(['deposit_address', 'asset', 'amount_minor', 'status']).where('chain_id', '=', chain_id).execute();
}

export async function selectRefundTotals(ex: DbExecutor): Promise<Map<string, bigint>> {
  const rows = await ex.selectFrom('invoice_refunds').innerJoin('invoices', 'invoices.id', 'invoice_refunds.invoice_id').select(['invoices.chain_id', 'invoices.asset', 'invoice_refunds.amount_minor']).execute();
  const out = new Map<string, bigint>();
  for (const r of rows) out.set(`${r.chain_id}:${r.asset}`, (out.get(`${r.chain_id}:${r.asset}`) ?? 0n) + r.amount_minor);
  return out;
}

/** Opens an incident for the key, or refreshes the open one; true when newly opened. */
export async function upsertOpenIncident(ex: DbExecutor, row: Omit<ReconcileIncidentRow, 'resolved_at_ms' | 'acknowledged_at_ms' | 'acknowledged_by' | 'last_seen_at_ms'>): Promise<boolean> {
  const open = await ex.selectFrom('reconcile_incidents').select('id').where('key', '=', row.key).where('resolved_at_ms', 'is', null).executeTakeFirst();
  if (open) {
    await ex.updateTable('reconcile_incidents').set({ last_seen_at_ms: row.opened_at_ms, expected_minor: row.expected_minor, actual_minor: row.actual_minor, details: row.details }).where('id', '=', open.id).execute();
    return false;
  }
  try {
    await ex.insertInto('reconcile_incidents').values({ ...row, last_seen_at_ms: row.opened_at_ms, resolved_at_ms: null, acknowledged_at_ms: null, acknowledged_by: null }).execute();
    return true;
  } catch (error) {
    // Two reconcilers raced to open the same key: the other one's row stands.
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Resolves open incidents with the given key prefix that this run did not find again. */
export async function resolveOthers(ex: DbExecutor, prefixes: string[], keep: Set<string>, now_ms: number): Promise<number> {
  let n = 0;
  for (const prefix of prefixes) {
    const open = await ex.selectFrom('reconcile_incidents').select(['id', 'key']).where('resolved_at_ms', 'is', null).where('key', 'like', `${prefix}%`).execute();
    for (const o of open) {
      if (keep.has(o.key)) continue;
      await ex.updateTable('reconcile_incidents').set({ resolved_at_ms: now_ms }).where('id', '=', o.id).execute();
      n++;
    }
  }
  return n;
}

export async function selectOpenReconcileIncidents(ex: DbExecutor, limit: number): Promise<ReconcileIncidentRow[]> {
  return ex.selectFrom('reconcile_incidents').selectAll().where('resolved_at_ms', 'is', null).where('acknowledged_at_ms', 'is', null).orderBy('opened_at_ms').orderBy('id').limit(limit).execute();
}

export async function selectOpenChainIncidents(ex: DbExecutor, limit: number) {
  return ex.selectFrom('chain_incidents').selectAll().where('acknowledged_at_ms', 'is', null).orderBy('created_at_ms').orderBy('id').limit(limit).execute();
}

/** Acknowledges an incident of either kind; 'not_found' or 'already' otherwise. */
export async function acknowledgeIncident(ex: DbExecutor, id: string, by: string, now_ms: number): Promise<'ok' | 'already' | 'not_found'> {
  const r = await ex.selectFrom('reconcile_incidents').select('acknowledged_at_ms').where('id', '=', id).executeTakeFirst();
  if (r) {
    if (r.acknowledged_at_ms !== null) return 'already';
    await ex.updateTable('reconcile_incidents').set({ acknowledged_at_ms: now_ms, acknowledged_by: by }).where('id', '=', id).execute();
    return 'ok';
  }
  const c = await ex.selectFrom('chain_incidents').select('acknowledged_at_ms').where('id', '=', id).executeTakeFirst();
  if (!c) return 'not_found';
  if (c.acknowledged_at_ms !== null) return 'already';
  await ex.updateTable('chain_incidents').set({ acknowledged_at_ms: now_ms, acknowledged_by: by }).where('id', '=', id).execute();
  return 'ok';
}
