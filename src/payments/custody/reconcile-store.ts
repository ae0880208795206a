// Queries of the reconciler: the records it compares (deposits, deposit addresses, our own
// confirmed transactions, sweeps, refunds) and its incidents. No decisions here.
import type { DbExecutor } from '../../db/database.ts';
import type { ReconcileIncidentsTable } from '../../db/schema-custody.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { DepositFact } from './reconcile-rules.ts';
import { getWithdrawalsByIds } from '../withdrawals/withdrawal-store.ts';

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

/** Resolves the open incident with this key, if any (its cause has gone away). */
export async function resolveIncident(ex: DbExecutor, key: string, now_ms: number): Promise<void> {
  await ex.updateTable('reconcile_incidents').set({ resolved_at_ms: now_ms }).where('key', '=', key).where('resolved_at_ms', 'is', null).execute();
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

const FINAL_WITHDRAWAL = new Set(['completed', 'failed', 'cancelled']);
const FINAL_SWEEP = new Set(['confirmed', 'failed']);

/** One of our transactions touching the hot wallet, and whether its owner booked it in the ledger. */
export interface HotTxRow {
  id: string;
  purpose: string;
  from_address: string;
  to_address: string;
  value_minor: bigint;
  data: string;
  block_number: number | null;
  booked: boolean;
}

/**
 * Our transactions on a chain that touch the hot wallet: sent by it (withdrawals, gas top-ups,
 * their cancels) and sweeps (into it). `booked` is true once the owner (withdrawal, sweep)
 * reached a final status: the same database transaction booked its ledger effects. Transactions
 * of an unknown purpose count as booked, so that anything they moved shows as a difference.
 */
export async function selectHotWalletTxs(ex: DbExecutor, chain_id: number, hot: string): Promise<HotTxRow[]> {
  const txs = await ex
    .selectFrom('chain_txs')
    .select(['id', 'purpose', 'purpose_id', 'from_address', 'to_address', 'value_minor', 'data', 'block_number'])
    .where('chain_id', '=', chain_id)
    .where((eb) => eb.or([eb('from_address', '=', hot.toLowerCase()), eb('purpose', '=', 'sweep')]))
    .execute();
  const wIds = txs.filter((t) => t.purpose === 'withdrawal').map((t) => t.purpose_id);
  const sIds = txs.filter((t) => t.purpose === 'sweep' || t.purpose === 'sweep_gas').map((t) => t.purpose_id);
  const wStatus = new Map<string, string>();
  for (let i = 0; i < wIds.length; i += 500) for (const w of await getWithdrawalsByIds(ex, wIds.slice(i, i + 500))) wStatus.set(w.id, w.status);
  const sStatus = new Map<string, string>();
  for (let i = 0; i < sIds.length; i += 500) {
    for (const r of await ex.selectFrom('sweeps').select(['id', 'status']).where('id', 'in', sIds.slice(i, i + 500)).execute()) sStatus.set(r.id, r.status);
  }
  return txs.map((t) => {
    const owner = t.purpose === 'withdrawal' ? wStatus.get(t.purpose_id) : t.purpose === 'sweep' || t.purpose === 'sweep_gas' ? sStatus.get(t.purpose_id) : undefined;
    const booked = t.purpose === 'withdrawal' ? FINAL_WITHDRAWAL.has(owner ?? '') : t.purpose === 'sweep' || t.purpose === 'sweep_gas' ? FINAL_SWEEP.has(owner ?? '') : true;
    return { id: t.id, purpose: t.purpose, from_address: t.from_address, to_address: t.to_address, value_minor: t.value_minor, data: t.data, block_number: t.block_number === null ? null : Number(t.block_number), booked };
  });
}

/** Every signed attempt (hash, kind) of the given transactions. */
export async function selectAttempts(ex: DbExecutor, tx_ids: readonly string[]): Promise<Array<{ tx_id: string; hash: string; kind: string }>> {
  if (tx_ids.length === 0) return [];
  return ex.selectFrom('chain_tx_attempts').select(['tx_id', 'hash', 'kind']).where('tx_id', 'in', [...tx_ids]).orderBy('tx_id').orderBy('seq').execute();
}

/**
 * One page of the ledger's accounts of an asset, by id. Read directly (not through the ledger's
 * face, which has no listing) for the solvency sum; the balances are the ledger's own columns.
 */
export async function selectLedgerAccountsPage(ex: DbExecutor, asset: string, after_id: string, limit: number) {
  return ex
    .selectFrom('ledger_accounts')
    .select(['id', 'owner_type', 'kind', 'debits_pending_minor', 'debits_posted_minor', 'credits_pending_minor', 'credits_posted_minor'])
    .where('asset', '=', asset)
    .where('id', '>', after_id)
    .orderBy('id')
    .limit(limit)
    .execute();
}
