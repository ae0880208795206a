// Kysely queries of the sweeper: its own tables (`sweeps`, `sweep_cursors`) and, read-only, what
// the deposit scanner has stored (`chain_cursors`, `chain_blocks`, `deposits`) and the receiving
// addresses (`deposit_addresses`, `invoices`). No decisions here: sweep-plan.ts and
// sweep-advance.ts decide.
import type { Transaction } from 'kysely';
import type { DbExecutor } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { SweepsTable } from '../../db/schema-custody.ts';

export type SweepRow = SweepsTable;
/** The two families of receiving addresses the rotation walks through, in this order. */
export type Family = 'users' | 'invoices';

/** Statuses of a sweep still under way (at most one per address and asset). */
export const OPEN_STATUSES = ['planned', 'gas', 'sweeping'];
/** Deposit statuses short of final: their coins may still be reorged away (deposit-rules.ts). */
const UNSETTLED_DEPOSIT_STATUSES = ['pending', 'confirming'];

/** The last block the deposit scanner has scanned on a chain, and its hash as the scanner stored it. */
export interface ScannedTip {
  number: number;
  hash: string;
}

/**
 * The deposit scanner's last scanned block on a chain (every deposit up to it is in `deposits`),
 * or null before its first block or while its cursor sits where no block is stored (just moved
 * back to rescan for a new address, or a reorg is being rolled back). Read-only: the scanner owns
 * these tables.
 * const tip = await scannedTip(db.kysely, 31337) // { number: 1234, hash: '0x…' }
 */
export async function scannedTip(ex: DbExecutor, chain_id: number): Promise<ScannedTip | null> {
  const cursor = await ex.selectFrom('chain_cursors').select('next_block').where('chain_id', '=', chain_id).executeTakeFirst();
  if (!cursor) return null;
  const number = Number(cursor.next_block) - 1;
  const block = await ex.selectFrom('chain_blocks').select('hash').where('chain_id', '=', chain_id).where('number', '=', number).executeTakeFirst();
  return block ? { number, hash: block.hash } : null;
}

/**
 * Which of `addresses` (lower-case) received a deposit that is not final yet: pending or
 * confirming, in its block or orphaned by a reorg. Read-only over the scanner's `deposits`. The
 * `deposits_open (chain_id, status)` index finds these rows, and they are few by nature (what
 * arrived within the deepest confirmation tier), so no index on `to_address` is needed.
 * await addressesWithUnsettledDeposits(db.kysely, 31337, ['0xab…']) // Set { '0xab…' } while one confirms
 */
export async function addressesWithUnsettledDeposits(ex: DbExecutor, chain_id: number, addresses: readonly string[]): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const rows = await ex.selectFrom('deposits').select('to_address').distinct().where('chain_id', '=', chain_id).where('status', 'in', UNSETTLED_DEPOSIT_STATUSES).where('to_address', 'in', addresses).execute();
  return new Set(rows.map((r) => r.to_address.toLowerCase()));
}

/** An open sweep of the address (of one asset, or of any when asset is null), if there is one. */
export async function openSweepOf(ex: DbExecutor, chain_id: number, address: string, asset: string | null): Promise<{ id: string } | undefined> {
  let q = ex.selectFrom('sweeps').select('id').where('chain_id', '=', chain_id).where('deposit_address', '=', address);
  if (asset !== null) q = q.where('asset', '=', asset);
  return q.where('status', 'in', OPEN_STATUSES).executeTakeFirst();
}

/** How many sweeps of this address and asset failed before. */
export async function failedSweepCount(ex: DbExecutor, chain_id: number, address: string, asset: string): Promise<number> {
  const failed = await ex.selectFrom('sweeps').select((eb) => eb.fn.countAll<string | number>().as('n')).where('chain_id', '=', chain_id).where('deposit_address', '=', address).where('asset', '=', asset).where('status', '=', 'failed').executeTakeFirstOrThrow();
  return Number(failed.n);
}

export async function insertSweep(trx: Transaction<Database>, row: SweepRow): Promise<void> {
  await trx.insertInto('sweeps').values(row).execute();
}

export function getSweep(ex: DbExecutor, id: string): Promise<SweepRow | undefined> {
  return ex.selectFrom('sweeps').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Updates a sweep only while it is still in status `from`; false when it moved under us. */
export async function updateSweepIf(ex: DbExecutor, id: string, from: string, patch: Partial<SweepRow>): Promise<boolean> {
  const res = await ex.updateTable('sweeps').set(patch).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Records the sweep's own transaction (and the amount it really sent) whatever its status. */
export async function setSweepTx(ex: DbExecutor, id: string, patch: Pick<SweepRow, 'sweep_tx_id'> & Partial<Pick<SweepRow, 'amount_minor' | 'updated_at_ms'>>): Promise<void> {
  await ex.updateTable('sweeps').set(patch).where('id', '=', id).execute();
}

/** Up to n addresses of one family after `after`, in address order (the (chain_id, address) unique index). */
export function receivingAddressesAfter(ex: DbExecutor, chain_id: number, family: Family, after: string, n: number): Promise<Array<{ address: string; hd_index: number }>> {
  const table = family === 'users' ? 'deposit_addresses' : 'invoices';
  return ex.selectFrom(table).select(['address', 'hd_index']).where('chain_id', '=', chain_id).where('address', '>', after).orderBy('address').limit(n).execute();
}

export function getSweepCursor(ex: DbExecutor, chain_id: number): Promise<{ family: string; after_address: string } | undefined> {
  return ex.selectFrom('sweep_cursors').select(['family', 'after_address']).where('chain_id', '=', chain_id).executeTakeFirst();
}

export async function saveSweepCursor(ex: DbExecutor, chain_id: number, family: Family, after_address: string, updated_at_ms: number): Promise<void> {
  await ex.insertInto('sweep_cursors').values({ chain_id, family, after_address, updated_at_ms }).onConflict((oc) => oc.column('chain_id').doUpdateSet({ family, after_address, updated_at_ms })).execute();
}
