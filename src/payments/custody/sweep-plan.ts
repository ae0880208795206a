// Planning sweeps: walk the rotation of receiving addresses, read their balances at the block the
// deposit scanner has scanned, and record one sweep per (address, asset) worth sweeping. Why only
// settled coins and why a rotation: see sweep.ts.
import { isUniqueViolation } from '../../db/database.ts';
import { enqueueJob } from '../../jobs/jobs.ts';
import { deterministicId } from '../../shared/ids.ts';
import type { Hex } from '../../chain/chain.ts';
import { NATIVE_GAS, SWEEP_JOB, WORTH_FACTOR } from './sweep-rules.ts';
import type { SweepContext } from './sweep.ts';
import * as store from './sweep-store.ts';
import type { Family, ScannedTip, SweepRow } from './sweep-store.ts';

interface WindowEntry {
  family: Family;
  address: Hex;
  hd_index: number;
}
interface Balances {
  entry: WindowEntry;
  /** In deps.tokens' order. */
  tokens: bigint[];
  native: bigint | null;
}
/** Addresses whose balances a plan reads at once. */
const READ_PARALLEL_MAX = 8;

const TOKEN_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'a', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const;

async function planOne(c: SweepContext, address: Hex, index: number, asset: string, amount_minor: bigint, nonce: number): Promise<SweepRow | null> {
  const { db, clock, chain_id } = c;
  try {
    return await db.transaction(async (trx) => {
      // One open sweep per address and asset: an unfinished one blocks planning another.
      const open = await store.openSweepOf(trx, chain_id, address, asset);
      if (open) return null;
      // A sweep that failed without the address sending anything (a failed top-up, a refused
      // transfer) leaves the address's nonce where it was; the count of failed sweeps keeps the
      // next attempt's id new yet deterministic, so two planners still plan it once.
      const retry = await store.failedSweepCount(trx, chain_id, address, asset);
      const id = deterministicId('swp', String(chain_id), address, asset, String(nonce), ...(retry > 0 ? [`retry${retry}`] : []));
      const now = clock.now_ms();
      const row: SweepRow = {
        id, chain_id, asset, deposit_address: address, derivation_index: index, amount_minor, status: 'planned',
        gas_tx_id: null, sweep_tx_id: null, gas_fee_minor: null, failure_reason: null, created_at_ms: now, updated_at_ms: now,
      };
      await store.insertSweep(trx, row);
      await enqueueJob(trx, SWEEP_JOB, { id, chain_id }, { unique_key: `${SWEEP_JOB}:${id}` }, clock);
      return row;
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/**
 * The next `limit` addresses of the rotation: from the saved cursor on through the rest of its
 * family, then the next family from its start, and so on, at most one lap (no address twice).
 */
async function nextWindow(c: SweepContext, limit: number): Promise<WindowEntry[]> {
  const families: readonly Family[] = c.deps.invoice_keys ? ['users', 'invoices'] : ['users'];
  const cur = await store.getSweepCursor(c.db.kysely, c.chain_id);
  let family = families.find((f) => f === cur?.family) ?? families[0]!;
  let after = cur && cur.family === family ? cur.after_address : '';
  const out: WindowEntry[] = [];
  const seen = new Set<string>();
  // families.length + 1 segments: the rest of the current family, every other one, and the
  // current family's start up to where the lap began.
  for (let segment = 0; segment <= families.length && out.length < limit; segment++) {
    const want = limit - out.length;
    const rows = await store.receivingAddressesAfter(c.db.kysely, c.chain_id, family, after, want);
    for (const r of rows) {
      if (seen.has(r.address)) continue;
      seen.add(r.address);
      out.push({ family, address: r.address as Hex, hd_index: r.hd_index });
    }
    if (rows.length === want) break;
    family = families[(families.indexOf(family) + 1) % families.length]!;
    after = '';
  }
  return out;
}

/** One address's balances at the scanned block: each token's, then the native coin's (null when the chain has none configured). */
async function readBalances(c: SweepContext, a: WindowEntry, blockNumber: bigint): Promise<Balances> {
  const { client } = c;
  const [tokens, nativeBal] = await Promise.all([
    Promise.all(c.deps.tokens.map((t) => client.readContract({ address: t.contract!, abi: TOKEN_ABI, functionName: 'balanceOf', args: [a.address], blockNumber }))),
    c.native ? client.getBalance({ address: a.address, blockNumber }) : Promise.resolve(null),
  ]);
  return { entry: a, tokens, native: nativeBal };
}

/**
 * Plans the sweeps one address's balances (read at the scanned block) call for. Its nonce is
 * read only then, at that block and pending: if they differ, the address sent something after
 * the scanned block (our own sweep, mined or in flight), so its balance there no longer says what
 * it holds; it waits for the next lap, when the scanner has passed that transaction.
 */
async function examine(c: SweepContext, b: Balances, tip: ScannedTip, fees: { maxFeePerGas: bigint }): Promise<SweepRow[]> {
  const { client, deps, native } = c;
  const planned: SweepRow[] = [];
  const { address, hd_index } = b.entry;
  let nonce: number | null | undefined;
  const nonceOf = async (): Promise<number | null> => {
    if (nonce !== undefined) return nonce;
    const [scanned, pending] = await Promise.all([client.getTransactionCount({ address, blockNumber: BigInt(tip.number) }), client.getTransactionCount({ address, blockTag: 'pending' })]);
    return (nonce = scanned === pending ? pending : null);
  };
  for (const [i, t] of deps.tokens.entries()) {
    const bal = b.tokens[i]!;
    if (bal < t.sweep_min_minor || bal === 0n) continue;
    const n = await nonceOf();
    if (n === null) return planned;
    const row = await planOne(c, address, hd_index, t.code, bal, n);
    if (row) planned.push(row);
  }
  if (native && b.native !== null) {
    const gas = NATIVE_GAS * fees.maxFeePerGas;
    if (b.native < deps.native!.sweep_min_minor || b.native <= gas * WORTH_FACTOR) return planned;
    // Leave native coins alone while a token sweep of this address is open (they pay its gas).
    const busy = await store.openSweepOf(c.db.kysely, c.chain_id, address, null);
    if (busy) return planned;
    const n = await nonceOf();
    if (n === null) return planned;
    const row = await planOne(c, address, hd_index, native, b.native - gas, n);
    if (row) planned.push(row);
  }
  return planned;
}

/** True while the node still has the block the scanner stored at the scanned height (no reorg under us). */
async function stillCanonical(c: SweepContext, tip: ScannedTip): Promise<boolean> {
  const block = await c.client.getBlock({ blockNumber: BigInt(tip.number) });
  return block.hash?.toLowerCase() === tip.hash.toLowerCase();
}

/** Looks at the next addresses_per_plan_max receiving addresses of the rotation and plans the sweeps worth doing. */
export async function planSweeps(c: SweepContext): Promise<SweepRow[]> {
  const { db, client, chain_id } = c;
  const limit = c.deps.addresses_per_plan_max ?? 500;
  // Without a scanned block nothing is known to be settled: plan nothing, keep the rotation.
  const tip = await store.scannedTip(db.kysely, chain_id);
  if (!tip) return [];
  const window = await nextWindow(c, limit);
  if (window.length === 0) return [];
  // Read after the tip: every deposit at or below it is in the table by now (the scanner stores
  // deposits and moves its cursor in one transaction).
  const unsettled = await store.addressesWithUnsettledDeposits(db.kysely, chain_id, window.map((w) => w.address.toLowerCase()));
  const fees = await client.estimateFeesPerGas();
  const planned: SweepRow[] = [];
  let last: WindowEntry | null = null;
  let readError: unknown = null;
  try {
    // Balances are read a few addresses at a time (round trips, not CPU, bound a plan); the
    // sweeps are planned one by one, each in its own database transaction.
    for (let i = 0; i < window.length; i += READ_PARALLEL_MAX) {
      // An address with a deposit still confirming is passed over whole (read nothing there).
      const slice = window.slice(i, i + READ_PARALLEL_MAX);
      const batch = slice.filter((w) => !unsettled.has(w.address.toLowerCase()));
      const read = await Promise.allSettled(batch.map((w) => readBalances(c, w, BigInt(tip.number))));
      // A reorg the scanner has not rolled back yet: the balances read may hold unscanned coins,
      // so this batch and the rest of the window wait for the next plan.
      if (batch.length > 0 && !(await stillCanonical(c, tip))) break;
      for (const [k, r] of read.entries()) {
        last = batch[k]!;
        if (r.status === 'rejected') readError ??= r.reason;
        else planned.push(...(await examine(c, r.value, tip, fees)));
      }
      last = slice[slice.length - 1]!;
    }
  } finally {
    // The cursor moves past every address tried, even one whose read failed: a failing address
    // waits for the next lap instead of stopping the rotation, and a plan cut short by an error
    // leaves the rest of its window to the next plan.
    if (last) await store.saveSweepCursor(db.kysely, chain_id, last.family, last.address, c.clock.now_ms());
  }
  if (readError) throw readError;
  return planned;
}
