// Kysely queries for signed transactions and database-managed nonces. No decisions here: the
// sender (hot-wallet.ts) decides when to allocate, replace, cancel or finish.
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { ChainTxAttemptsTable, ChainTxsTable } from '../db/schema-chain.ts';
import type { Database } from '../db/schema.ts';

export type ChainTxRow = ChainTxsTable;
export type ChainTxAttemptRow = ChainTxAttemptsTable;

/**
 * Locks the nonce row of (chain, address) for the rest of the transaction and returns the next
 * nonce the database allows, creating the row at `floor` the first time. PostgreSQL: SELECT …
 * FOR UPDATE; SQLite: the caller's BEGIN IMMEDIATE already holds the write lock.
 */
export async function lockNextNonce(db: Db, trx: Transaction<Database>, chain_id: number, address: string, floor: number, now_ms: number): Promise<number> {
  await trx
    .insertInto('hot_wallet_nonces')
    .values({ chain_id, address, next_nonce: floor, updated_at_ms: now_ms })
    .onConflict((oc) => oc.columns(['chain_id', 'address']).doNothing())
    .execute();
  let q = trx.selectFrom('hot_wallet_nonces').select('next_nonce').where('chain_id', '=', chain_id).where('address', '=', address);
  if (db.dialect === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.next_nonce);
}

export async function setNextNonce(trx: Transaction<Database>, chain_id: number, address: string, next_nonce: number, now_ms: number): Promise<void> {
  await trx.updateTable('hot_wallet_nonces').set({ next_nonce, updated_at_ms: now_ms }).where('chain_id', '=', chain_id).where('address', '=', address).execute();
}

export async function insertChainTx(trx: Transaction<Database>, tx: ChainTxRow, attempt: ChainTxAttemptRow): Promise<void> {
  await trx.insertInto('chain_txs').values(tx).execute();
  await trx.insertInto('chain_tx_attempts').values(attempt).execute();
}

export async function getChainTx(ex: DbExecutor, id: string): Promise<ChainTxRow | undefined> {
  return ex.selectFrom('chain_txs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getChainTxByPurpose(ex: DbExecutor, purpose: string, purpose_id: string): Promise<ChainTxRow | undefined> {
  return ex.selectFrom('chain_txs').selectAll().where('purpose', '=', purpose).where('purpose_id', '=', purpose_id).executeTakeFirst();
}

/** Attempts of one transaction, newest first. */
export async function attemptsOf(ex: DbExecutor, tx_id: string): Promise<ChainTxAttemptRow[]> {
  return ex.selectFrom('chain_tx_attempts').selectAll().where('tx_id', '=', tx_id).orderBy('seq', 'desc').execute();
}

/** Adds a replacement attempt only if `seq` is still the next one (two refreshers never both add). */
export async function insertAttemptIfNext(trx: Transaction<Database>, attempt: ChainTxAttemptRow): Promise<boolean> {
  const last = await trx.selectFrom('chain_tx_attempts').select(({ fn }) => fn.max('seq').as('seq')).where('tx_id', '=', attempt.tx_id).executeTakeFirst();
  if (Number(last?.seq ?? -1) !== attempt.seq - 1) return false;
  await trx.insertInto('chain_tx_attempts').values(attempt).execute();
  return true;
}

export async function updateChainTx(ex: DbExecutor, id: string, patch: Partial<ChainTxRow>, onlyIfStatusIn?: string[]): Promise<boolean> {
  let q = ex.updateTable('chain_txs').set(patch).where('id', '=', id);
  if (onlyIfStatusIn) q = q.where('status', 'in', onlyIfStatusIn);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Transactions not yet final on one chain, oldest nonce first (bounded). */
export async function openChainTxs(ex: DbExecutor, chain_id: number, limit: number): Promise<ChainTxRow[]> {
  return ex
    .selectFrom('chain_txs')
    .selectAll()
    .where('chain_id', '=', chain_id)
    .where('status', 'in', ['signed', 'broadcast', 'mined', 'unknown'])
    .orderBy('from_address')
    .orderBy('nonce')
    .limit(limit)
    .execute();
}

/**
 * Our transactions from `address` that a balance read at block `at` does not reflect yet: signed
 * or broadcast, or mined after `at` (a failed one spent only gas and is left out).
 */
export async function unminedSince(ex: DbExecutor, chain_id: number, address: string, at: number): Promise<Array<Pick<ChainTxRow, 'to_address' | 'value_minor' | 'data' | 'gas_limit'>>> {
  return ex
    .selectFrom('chain_txs')
    .select(['to_address', 'value_minor', 'data', 'gas_limit'])
    .where('chain_id', '=', chain_id)
    .where('from_address', '=', address)
    .where((eb) => eb.or([eb('status', 'in', ['signed', 'broadcast']), eb.and([eb('status', 'in', ['mined', 'confirmed']), eb('block_number', '>', at)])]))
    .execute();
}

/**
 * Whether a transaction hash is one of the platform's own (any attempt of any wallet's
 * transaction): a sweep into the hot wallet is already booked as a sweep and must never be
 * booked again as funding.
 */
export async function isOwnTransaction(ex: DbExecutor, tx_hash: string): Promise<boolean> {
  const hit = await ex.selectFrom('chain_tx_attempts').select('hash').where('hash', '=', tx_hash.toLowerCase()).executeTakeFirst();
  return hit !== undefined;
}
