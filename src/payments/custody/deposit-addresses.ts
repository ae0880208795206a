// Deposit addresses: one per user and chain (shared by the chain's assets), from the user's HD
// index. Issuing an address also pulls the chain's scan cursor back to the block at which it was
// issued, so that a payment sent the moment the address is shown can never be missed.
import { sql } from 'kysely';
import type { Db, DbExecutor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Hex } from '../../chain/chain.ts';
import type { DepositKeys } from '../../chain/chain.ts';

export interface DepositAddress {
  chain_id: number;
  user_id: string;
  address: Hex;
  hd_index: number;
  issued_at_block: number;
  created_at_ms: number;
}

const ALLOCATION_ATTEMPTS_MAX = 8;

/**
 * ensureDepositAddress(db, keys, { chain_id: 31337, user_id: 'usr_1', issued_at_block: 120 })
 *   -> { address, created: true } the first time, the same address with created: false after.
 * issued_at_block must be at or below the chain's head as the caller last knew it.
 */
export async function ensureDepositAddress(
  db: Db,
  keys: DepositKeys,
  input: { chain_id: number; user_id: string; issued_at_block: number },
  clock: Clock = systemClock,
): Promise<{ address: DepositAddress; created: boolean }> {
  const existing = await getDepositAddress(db.kysely, input.chain_id, input.user_id);
  if (existing) return { address: existing, created: false };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const again = await getDepositAddress(trx, input.chain_id, input.user_id);
        if (again) return { address: again, created: false };
        const now = clock.now_ms();
        // Index allocation is max+1: serialise it (SQLite already is, by BEGIN IMMEDIATE).
        if (db.dialect === 'postgres') await sql`select pg_advisory_xact_lock(7301, 1)`.execute(trx);
        let index = (await trx.selectFrom('deposit_hd_indexes').select('hd_index').where('user_id', '=', input.user_id).executeTakeFirst())?.hd_index;
        if (index === undefined) {
          const max = await trx.selectFrom('deposit_hd_indexes').select((eb) => eb.fn.max('hd_index').as('m')).executeTakeFirst();
          index = max?.m === null || max?.m === undefined ? 0 : Number(max.m) + 1;
          await trx.insertInto('deposit_hd_indexes').values({ user_id: input.user_id, hd_index: index, created_at_ms: now }).execute();
        }
        const row: DepositAddress = { chain_id: input.chain_id, user_id: input.user_id, address: keys.address(Number(index)), hd_index: Number(index), issued_at_block: input.issued_at_block, created_at_ms: now };
        await trx.insertInto('deposit_addresses').values(row).execute();
        // The scanner never starts after an address's issue block.
        await trx
          .updateTable('chain_cursors')
          .set({ next_block: input.issued_at_block, updated_at_ms: now })
          .where('chain_id', '=', input.chain_id)
          .where('next_block', '>', input.issued_at_block)
          .execute();
        return { address: row, created: true };
      });
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= ALLOCATION_ATTEMPTS_MAX) throw error;
    }
  }
}

function fromRow(r: { chain_id: number; user_id: string; address: string; hd_index: number; issued_at_block: number; created_at_ms: number }): DepositAddress {
  return { chain_id: Number(r.chain_id), user_id: r.user_id, address: r.address as Hex, hd_index: Number(r.hd_index), issued_at_block: Number(r.issued_at_block), created_at_ms: Number(r.created_at_ms) };
}

export async function getDepositAddress(ex: DbExecutor, chain_id: number, user_id: string): Promise<DepositAddress | null> {
  const r = await ex.selectFrom('deposit_addresses').selectAll().where('chain_id', '=', chain_id).where('user_id', '=', user_id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Every deposit address of a chain: address -> owner (the scanner's "is it ours"). */
/** Addresses looked up per statement (well under SQLite's and PostgreSQL's parameter limits). */
export const OWNER_LOOKUP_CHUNK = 500;

/**
 * The owners of those of `addresses` that are users' deposit addresses on the chain (the
 * scanner's "is it ours", asked only for the recipients a block range mentions: the cost follows
 * the chain's traffic, not the number of addresses ever issued).
 */
export async function depositAddressOwners(ex: DbExecutor, chain_id: number, addresses: readonly Hex[]): Promise<Map<Hex, { user_id: string; hd_index: number }>> {
  const out = new Map<Hex, { user_id: string; hd_index: number }>();
  for (let i = 0; i < addresses.length; i += OWNER_LOOKUP_CHUNK) {
    const chunk = addresses.slice(i, i + OWNER_LOOKUP_CHUNK);
    const rows = await ex.selectFrom('deposit_addresses').select(['address', 'user_id', 'hd_index']).where('chain_id', '=', chain_id).where('address', 'in', chunk).execute();
    for (const r of rows) out.set(r.address as Hex, { user_id: r.user_id, hd_index: Number(r.hd_index) });
  }
  return out;
}

/** Who owns this address on any chain (for diagnosis: "other_account"), or null. */
export async function findAddressOwner(ex: DbExecutor, chain_id: number, address: string): Promise<DepositAddress | null> {
  const r = await ex.selectFrom('deposit_addresses').selectAll().where('chain_id', '=', chain_id).where('address', '=', address.toLowerCase()).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** The users a deposit address belongs to, on any chain (staff search): ['usr_…'] or []. */
export async function addressOwnerIds(ex: DbExecutor, address: string): Promise<string[]> {
  const rows = await ex.selectFrom('deposit_addresses').select('user_id').distinct().where('address', '=', address.toLowerCase()).execute();
  return rows.map((r) => r.user_id);
}

/** The block the scanner must not start after: the earliest issue block, or null with no address. */
export async function earliestIssuedBlock(ex: DbExecutor, chain_id: number): Promise<number | null> {
  const r = await ex.selectFrom('deposit_addresses').select((eb) => eb.fn.min('issued_at_block').as('m')).where('chain_id', '=', chain_id).executeTakeFirst();
  return r?.m === null || r?.m === undefined ? null : Number(r.m);
}

/**
 * Where a chain's scan cursor starts when it is created: never after the configured start_block,
 * any deposit address's issue block, or `issuing` (an address being issued now, e.g. an invoice's);
 * null when none of them is known. Whoever creates the cursor asks this, so that no creator skips
 * a block another address was issued at.
 * firstScanBlock(ex, 31337, undefined, 40) -> 12 when a deposit address was issued at block 12
 */
export async function firstScanBlock(ex: DbExecutor, chain_id: number, start_block: number | undefined, issuing: number | null = null): Promise<number | null> {
  const candidates = [start_block, await earliestIssuedBlock(ex, chain_id), issuing].filter((v): v is number => v !== undefined && v !== null);
  return candidates.length ? Math.min(...candidates) : null;
}
