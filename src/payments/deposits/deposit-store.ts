// Kysely queries for the deposit pipeline: the scanner's cursor and blocks, deposits, incidents.
// No decisions here (deposit-scanner.ts makes them).
import { sql, type ExpressionBuilder } from 'kysely';
import type { Db, DbExecutor } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { ChainBlocksTable, ChainCursorsTable, DepositsTable } from '../../db/schema-deposits.ts';

export type CursorRow = ChainCursorsTable;
export type BlockRow = ChainBlocksTable;
export type DepositRow = DepositsTable;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function cursorFrom(r: CursorRow): CursorRow {
  return { chain_id: Number(r.chain_id), next_block: Number(r.next_block), head: num(r.head), head_seen_at_ms: num(r.head_seen_at_ms), block_time_ms: num(r.block_time_ms), updated_at_ms: Number(r.updated_at_ms) };
}

function blockFrom(r: BlockRow): BlockRow {
  return { ...r, chain_id: Number(r.chain_id), number: Number(r.number), timestamp_s: Number(r.timestamp_s), seen_at_ms: Number(r.seen_at_ms) };
}

export function depositFrom(r: DepositRow): DepositRow {
  return {
    ...r,
    chain_id: Number(r.chain_id),
    log_index: Number(r.log_index),
    block_number: num(r.block_number),
    block_timestamp_s: num(r.block_timestamp_s),
    orphaned: Number(r.orphaned),
    confirmations_required: Number(r.confirmations_required),
    generation: Number(r.generation),
    first_seen_at_ms: Number(r.first_seen_at_ms),
    released_at_ms: num(r.released_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

export async function selectCursor(ex: DbExecutor, chain_id: number): Promise<CursorRow | null> {
  const r = await ex.selectFrom('chain_cursors').selectAll().where('chain_id', '=', chain_id).executeTakeFirst();
  return r ? cursorFrom(r) : null;
}

/**
 * The next block the scanner will read on a chain, for `settle doctor`: null when none is stored
 * yet, or when the table does not exist (a database not migrated yet is reported, not an error).
 */
export async function scannerNextBlock(db: Db, chain_id: number): Promise<number | null> {
  const cursor = await sql<{ next_block: number }>`select next_block from chain_cursors where chain_id = ${chain_id}`.execute(db.kysely).catch(() => ({ rows: [] as Array<{ next_block: number }> }));
  return cursor.rows[0] ? Number(cursor.rows[0].next_block) : null;
}

export async function insertCursorIfAbsent(ex: DbExecutor, row: CursorRow): Promise<void> {
  await ex.insertInto('chain_cursors').values(row).onConflict((oc) => oc.column('chain_id').doNothing()).execute();
}

/** Moves the cursor only from where this scanner read it (0 rows: someone else moved it). */
export async function advanceCursor(ex: DbExecutor, chain_id: number, expected_next: number, patch: Partial<CursorRow>): Promise<boolean> {
  const r = await ex.updateTable('chain_cursors').set(patch).where('chain_id', '=', chain_id).where('next_block', '=', expected_next).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function updateCursorTiming(ex: DbExecutor, chain_id: number, patch: Pick<CursorRow, 'head' | 'head_seen_at_ms' | 'block_time_ms' | 'updated_at_ms'>): Promise<void> {
  await ex.updateTable('chain_cursors').set(patch).where('chain_id', '=', chain_id).execute();
}

export async function selectBlock(ex: DbExecutor, chain_id: number, number: number): Promise<BlockRow | null> {
  const r = await ex.selectFrom('chain_blocks').selectAll().where('chain_id', '=', chain_id).where('number', '=', number).executeTakeFirst();
  return r ? blockFrom(r) : null;
}

export async function selectBlocks(ex: DbExecutor, chain_id: number, from: number, to: number): Promise<BlockRow[]> {
  const rows = await ex.selectFrom('chain_blocks').selectAll().where('chain_id', '=', chain_id).where('number', '>=', from).where('number', '<=', to).orderBy('number').execute();
  return rows.map(blockFrom);
}

export async function lowestBlock(ex: DbExecutor, chain_id: number): Promise<number | null> {
  const r = await ex.selectFrom('chain_blocks').select((eb) => eb.fn.min('number').as('m')).where('chain_id', '=', chain_id).executeTakeFirst();
  return num(r?.m);
}

const BLOCK_INSERT_CHUNK = 200;

export async function upsertBlocks(ex: DbExecutor, rows: BlockRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BLOCK_INSERT_CHUNK) {
    await ex
      .insertInto('chain_blocks')
      .values(rows.slice(i, i + BLOCK_INSERT_CHUNK))
      .onConflict((oc) =>
        oc.columns(['chain_id', 'number']).doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash'), parent_hash: eb.ref('excluded.parent_hash'), timestamp_s: eb.ref('excluded.timestamp_s'), seen_at_ms: eb.ref('excluded.seen_at_ms') })),
      )
      .execute();
  }
}

export async function deleteBlocksAbove(ex: DbExecutor, chain_id: number, number: number): Promise<void> {
  await ex.deleteFrom('chain_blocks').where('chain_id', '=', chain_id).where('number', '>', number).execute();
}

export async function deleteBlocksBelow(ex: DbExecutor, chain_id: number, number: number): Promise<void> {
  await ex.deleteFrom('chain_blocks').where('chain_id', '=', chain_id).where('number', '<', number).execute();
}

export async function selectDeposits(ex: DbExecutor, ids: string[]): Promise<DepositRow[]> {
  if (ids.length === 0) return [];
  const out: DepositRow[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await ex.selectFrom('deposits').selectAll().where('id', 'in', ids.slice(i, i + 1000)).execute();
    out.push(...rows.map(depositFrom));
  }
  return out;
}

export async function selectDeposit(ex: DbExecutor, id: string): Promise<DepositRow | null> {
  const r = await ex.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? depositFrom(r) : null;
}

export async function insertDeposits(ex: DbExecutor, rows: DepositRow[]): Promise<void> {
  // 24 columns a row: 1000 rows stay under both dialects' bound-parameter limits.
  for (let i = 0; i < rows.length; i += 1000) await ex.insertInto('deposits').values(rows.slice(i, i + 1000)).execute();
}

export async function updateDeposit(ex: DbExecutor, id: string, patch: Partial<DepositRow>): Promise<void> {
  await ex.updateTable('deposits').set(patch).where('id', '=', id).execute();
}

/** What releasing, holding or counting a deposit at depth reads of it (the rest of the row is not needed). */
export type DepthRow = Pick<
  DepositRow,
  'id' | 'chain_id' | 'tx_hash' | 'log_index' | 'generation' | 'user_id' | 'payment_id' | 'credit_kind' | 'hold_reason' | 'pending_transfer_id' | 'block_number' | 'confirmations_required'
>;

const DEPTH_COLUMNS = ['id', 'chain_id', 'tx_hash', 'log_index', 'generation', 'user_id', 'payment_id', 'credit_kind', 'hold_reason', 'pending_transfer_id', 'block_number', 'confirmations_required'] as const satisfies ReadonlyArray<keyof DepthRow>;

/** Live confirming deposits of a chain, at (`<=`) or short of (`>`) their depth at `tip`, in chain order. */
async function selectByDepth(ex: DbExecutor, chain_id: number, tip: number, depth: '<=' | '>', limit: number): Promise<DepthRow[]> {
  const rows = await ex
    .selectFrom('deposits')
    .select(DEPTH_COLUMNS)
    .where('chain_id', '=', chain_id)
    .where('status', '=', 'confirming')
    .where('orphaned', '=', 0)
    .where((eb) => eb(eb('block_number', '+', eb.ref('confirmations_required')), depth, tip + 1))
    .orderBy('block_number')
    .orderBy('log_index')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, chain_id: Number(r.chain_id), log_index: Number(r.log_index), generation: Number(r.generation), block_number: num(r.block_number), confirmations_required: Number(r.confirmations_required) }));
}

/**
 * Confirming deposits that have reached their required depth at `tip` (the inclusion block counts
 * as 1: block_number + required - 1 <= tip), in chain order.
 */
export function selectDue(ex: DbExecutor, chain_id: number, tip: number, limit: number): Promise<DepthRow[]> {
  return selectByDepth(ex, chain_id, tip, '<=', limit);
}

/** Confirming deposits still short of their depth at `tip`, oldest block first. */
export function selectCounting(ex: DbExecutor, chain_id: number, tip: number, limit: number): Promise<DepthRow[]> {
  return selectByDepth(ex, chain_id, tip, '>', limit);
}

/**
 * Marks released the deposits among `ids` that are still confirming, attached and in the block
 * the caller read (a concurrent release or a reorg makes a row drop out) -> the ids it moved.
 */
export async function markReleased(ex: DbExecutor, ids: string[], status: 'credited' | 'held', now_ms: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await ex
      .updateTable('deposits')
      .set({ status, released_at_ms: now_ms, updated_at_ms: now_ms })
      .where('id', 'in', ids.slice(i, i + 1000))
      .where('status', '=', 'confirming')
      .where('orphaned', '=', 0)
      .returning('id')
      .execute();
    out.push(...rows.map((r) => r.id));
  }
  return out;
}

/** Deposits still counting confirmations on a chain, oldest block first. */
export async function selectConfirming(ex: DbExecutor, chain_id: number, limit: number): Promise<DepositRow[]> {
  const rows = await ex.selectFrom('deposits').selectAll().where('chain_id', '=', chain_id).where('status', '=', 'confirming').where('orphaned', '=', 0).orderBy('block_number').limit(limit).execute();
  return rows.map(depositFrom);
}

/** Marks the deposits in blocks above `number` as orphaned (their block left the chain). */
export async function orphanDepositsAbove(ex: DbExecutor, chain_id: number, number: number, now_ms: number): Promise<DepositRow[]> {
  const rows = await ex
    .selectFrom('deposits')
    .selectAll()
    .where('chain_id', '=', chain_id)
    .where('block_number', '>', number)
    .where('orphaned', '=', 0)
    .where('status', 'in', ['confirming', 'held', 'credited'])
    .execute();
  if (rows.length) {
    await ex.updateTable('deposits').set({ orphaned: 1, block_hash: null, updated_at_ms: now_ms }).where('id', 'in', rows.map((r) => r.id)).execute();
  }
  return rows.map(depositFrom);
}

/**
 * Marks as orphaned the deposits recorded in blocks from..to whose block hash is not the one the
 * scanner now reads there: recorded ahead of the scan (by diagnosis) from a block that a reorg
 * has since replaced. The scanner's orphan settlement then drops or re-attaches them.
 */
export async function orphanDepositsOffCanonical(ex: DbExecutor, chain_id: number, from: number, to: number, hashAt: (n: number) => string | undefined, now_ms: number): Promise<number> {
  const rows = await ex
    .selectFrom('deposits')
    .select(['id', 'block_number', 'block_hash'])
    .where('chain_id', '=', chain_id)
    .where('block_number', '>=', from)
    .where('block_number', '<=', to)
    .where('orphaned', '=', 0)
    .where('status', 'in', ['confirming', 'held', 'credited'])
    .execute();
  const stale = rows.filter((r) => r.block_number !== null && r.block_hash !== hashAt(r.block_number));
  if (stale.length) {
    await ex.updateTable('deposits').set({ orphaned: 1, block_hash: null, updated_at_ms: now_ms }).where('id', 'in', stale.map((r) => r.id)).execute();
  }
  return stale.length;
}

export async function selectOrphaned(ex: DbExecutor, chain_id: number, limit: number): Promise<DepositRow[]> {
  const rows = await ex.selectFrom('deposits').selectAll().where('chain_id', '=', chain_id).where('orphaned', '=', 1).limit(limit).execute();
  return rows.map(depositFrom);
}

export async function insertIncident(
  ex: DbExecutor,
  row: { id: string; chain_id: number; kind: string; subject_type: string; subject_id: string; details: string; created_at_ms: number },
): Promise<boolean> {
  const existing = await ex.selectFrom('chain_incidents').select('id').where('kind', '=', row.kind).where('subject_type', '=', row.subject_type).where('subject_id', '=', row.subject_id).executeTakeFirst();
  if (existing) return false;
  await ex.insertInto('chain_incidents').values({ ...row, acknowledged_at_ms: null, acknowledged_by: null }).execute();
  return true;
}

export async function selectIncidents(ex: DbExecutor, chain_id?: number) {
  let q = ex.selectFrom('chain_incidents').selectAll().orderBy('created_at_ms');
  if (chain_id !== undefined) q = q.where('chain_id', '=', chain_id);
  return q.execute();
}

/** Released at depth into the held balance because the account was frozen, and still attached. */
function heldForFreeze(eb: ExpressionBuilder<Database, 'deposits'>) {
  return eb.and([eb('status', '=', 'held'), eb('hold_reason', '=', 'account_frozen'), eb('credit_kind', '=', 'user_held'), eb('released_at_ms', 'is not', null), eb('orphaned', '=', 0)]);
}

/** A user's released deposits credited to the held balance because the account was frozen. */
export async function selectFrozenHeld(ex: DbExecutor, user_id: string, limit: number): Promise<DepositRow[]> {
  const rows = await ex
    .selectFrom('deposits')
    .selectAll()
    .where('user_id', '=', user_id)
    .where(heldForFreeze)
    .orderBy('block_number')
    .orderBy('log_index')
    .limit(limit)
    .execute();
  return rows.map(depositFrom);
}

/** What releasing a deposit reads of it, as the claiming UPDATE returns it. */
export type ClaimedRow = Pick<DepositRow, 'id' | 'chain_id' | 'tx_hash' | 'log_index' | 'generation' | 'user_id' | 'asset' | 'amount_minor' | 'payment_id'>;
const CLAIMED_COLUMNS = ['id', 'chain_id', 'tx_hash', 'log_index', 'generation', 'user_id', 'asset', 'amount_minor', 'payment_id'] as const satisfies ReadonlyArray<keyof ClaimedRow>;

/**
 * Marks credited those of `ids` still held for a freeze (released at depth, attached) -> those
 * rows as they are now, in no particular order. The WHERE is the selection's own
 * (selectFrozenHeld), so a deposit released meanwhile (a replay, a concurrent pass of the
 * scanner) drops out; on PostgreSQL the row lock makes a concurrent claimer wait, then find it
 * gone. credit_kind keeps naming the account the deposit's own transfer credited (reconciliation
 * checks it); a reversal of a credited deposit takes the coins from the available balance.
 */
export async function claimFrozenHeld(ex: DbExecutor, ids: string[], now_ms: number): Promise<Map<string, ClaimedRow>> {
  if (ids.length === 0) return new Map();
  const rows = await ex
    .updateTable('deposits')
    .set({ status: 'credited', hold_reason: null, updated_at_ms: now_ms })
    .where('id', 'in', ids)
    .where(heldForFreeze)
    .returning(CLAIMED_COLUMNS)
    .execute();
  return new Map(rows.map((r) => [r.id, { ...r, chain_id: Number(r.chain_id), log_index: Number(r.log_index), generation: Number(r.generation) }]));
}
