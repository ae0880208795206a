// The sweeper: consolidates coins sitting on users' deposit addresses into the hot wallet when
// it is worth the gas, and records each sweep in the ledger as an internal movement.
//
// planSweeps() reads balances of users' deposit addresses and invoices' addresses (both are
// derived keys: m/44'/60'/0'/0/i and m/44'/60'/1'/0/i), at most addresses_per_plan_max per call,
// walking a rotation saved in `sweep_cursors`: users' addresses in address order, then invoices',
// then users' again. Every address is therefore looked at once every ceil(addresses / limit)
// plans, however many users and invoices there are, and a restart continues where the last plan
// stopped. It records one sweep per (address, asset) at a time; its id derives from (chain,
// address, asset, the address's nonce, the number of earlier failed sweeps there), so two
// sweepers, or one run twice, plan the same sweep once. A durable job (`chain.sweep.advance`) then drives it:
//   ERC-20: the hot wallet tops the address up with gas (a hot-wallet transaction, nonce from the
//           database) -> the deposit key signs token.transfer(hot wallet, amount) -> confirmed.
//   native: the deposit key sends balance − fees to the hot wallet (fees fixed in advance).
// The deposit address's transactions go through the same Sender as the hot wallet's (database
// nonces, signed bytes recorded before broadcast), so a crash never signs a second transfer.
// At the end, in one database transaction with the sweep's status: the asset moves
// deposit_wallets -> hot_wallet, the top-up hot_wallet -> deposit_wallets (native), and every gas
// fee paid is booked to the `gas` expense account. A sweep whose gas top-up fails still books
// the top-up's fee (the hot wallet paid it).
//
// Only settled coins are swept. A deposit is credited at its confirmation depth and voided if a
// reorg removes it before; coins swept before that depth could vanish from under a sweep already
// booked (the ledger's hot wallet above the chain, or a void with nothing left at the address).
// So a plan reads every balance at the last block the deposit scanner has scanned (its cursor),
// not at the head: coins of deposits the scanner has not seen yet are not counted. And it passes
// over any address with a deposit still short of its depth (`addressesWithUnsettledDeposits`):
// all of the address's coins stay until each of its deposits is final (credited, or held — a held
// deposit is booked in the ledger and final on chain). Gating the whole address is simpler than
// sweeping only the part backed by final deposits (which needs per-address sums of deposits,
// sweeps, top-ups and fees) and still correct: a busy address waits a few blocks at most. See
// docs/decisions/hot-wallet-nonces-and-sweeps.md.
import type { Transaction } from 'kysely';
import { toHex, type PublicClient } from 'viem';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { SweepsTable } from '../../db/schema-chain.ts';
import { enqueueJob, type JobContext, type JobRunner } from '../../jobs/jobs.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { TransferInput } from '../../ledger/ledger-types.ts';
import type { Clock } from '../../shared/clock.ts';
import { deterministicId } from '../../shared/ids.ts';
import { parseAmount } from '../../shared/money.ts';
import type { Hex } from '../../chain/chain.ts';
import { erc20TransferData, Sender } from '../../chain/chain.ts';
import { getChainTx, getChainTxByPurpose } from '../../chain/chain.ts';
import type { DepositKeys } from '../../chain/chain.ts';
import { intervalWorker, type IntervalWorker } from '../../jobs/interval-worker.ts';
import { platformAccount, platformAccountId } from './chart.ts';

export const SWEEP_JOB = 'chain.sweep.advance';
/** Gas for one ERC-20 transfer from a deposit address, with margin (OpenZeppelin ERC-20 uses ~35–52k). */
const TOKEN_SWEEP_GAS = 90_000n;
const NATIVE_GAS = 21_000n;
/** A sweep is worth it when its gas costs at most 1/WORTH_FACTOR of what it moves (native). */
const WORTH_FACTOR = 10n;
/** Statuses of a sweep still under way (at most one per address and asset). */
const OPEN_STATUSES = ['planned', 'gas', 'sweeping'];

/** The two families of receiving addresses the rotation walks through, in this order. */
type Family = 'users' | 'invoices';
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
 * const tip = await scannedTip(db, 31337) // { number: 1234, hash: '0x…' }
 */
export async function scannedTip(db: Db, chain_id: number): Promise<ScannedTip | null> {
  const cursor = await db.kysely.selectFrom('chain_cursors').select('next_block').where('chain_id', '=', chain_id).executeTakeFirst();
  if (!cursor) return null;
  const number = Number(cursor.next_block) - 1;
  const block = await db.kysely.selectFrom('chain_blocks').select('hash').where('chain_id', '=', chain_id).where('number', '=', number).executeTakeFirst();
  return block ? { number, hash: block.hash } : null;
}

/**
 * Which of `addresses` (lower-case) received a deposit that is not final yet: pending or
 * confirming, in its block or orphaned by a reorg. Read-only over the scanner's `deposits`. The
 * `deposits_open (chain_id, status)` index finds these rows, and they are few by nature (what
 * arrived within the deepest confirmation tier), so no index on `to_address` is needed.
 * await addressesWithUnsettledDeposits(db, 31337, ['0xab…']) // Set { '0xab…' } while one confirms
 */
export async function addressesWithUnsettledDeposits(db: Db, chain_id: number, addresses: readonly string[]): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const rows = await db.kysely.selectFrom('deposits').select('to_address').distinct().where('chain_id', '=', chain_id).where('status', 'in', UNSETTLED_DEPOSIT_STATUSES).where('to_address', 'in', addresses).execute();
  return new Set(rows.map((r) => r.to_address.toLowerCase()));
}

export type SweepRow = SweepsTable;

export interface SweepAsset {
  code: string;
  /** null: the chain's native coin. */
  contract: Hex | null;
  /** Sweep only balances at or above this (smallest units). */
  sweep_min_minor: bigint;
}

export interface SweeperDeps {
  db: Db;
  clock: Clock;
  ledger: Ledger;
  chain_id: number;
  client: PublicClient;
  hot: Sender;
  keys: DepositKeys;
  /** Keys of invoice addresses (createDepositKeys(mnemonic, INVOICE_PATH_PREFIX)); absent: invoice addresses are not swept. */
  invoice_keys?: DepositKeys | null;
  /** The native coin; balances below sweep_min_minor (e.g. gas left over from a top-up) stay put. */
  native: { code: string; sweep_min_minor: bigint } | null;
  tokens: SweepAsset[];
  /** How soon the job looks again; default 1 s. */
  poll_ms?: number;
  /** Addresses read per plan (each costs a few RPC calls); default 500. */
  addresses_per_plan_max?: number;
}

const TOKEN_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'a', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const;

export interface Sweeper {
  /** Looks at the next addresses_per_plan_max receiving addresses of the rotation and plans the sweeps worth doing. */
  planSweeps(): Promise<SweepRow[]>;
  advance(id: string, ctx: Pick<JobContext, 'commit'>): Promise<void>;
  get(id: string): Promise<SweepRow | undefined>;
}

/** const sweeper = createSweeper({ db, clock, ledger, chain_id, client, hot, keys, native, tokens }) */
export function createSweeper(deps: SweeperDeps): Sweeper {
  const { db, clock, ledger, client, hot, chain_id } = deps;
  const senders = new Map<string, Sender>();
  // A sweep row names its address and HD index; which key family (users' or invoices') derived
  // it is found by deriving the address again, so no column is needed to tell them apart.
  const keysFor = (address: string, index: number): DepositKeys => {
    if (deps.keys.address(index) === address.toLowerCase()) return deps.keys;
    if (deps.invoice_keys && deps.invoice_keys.address(index) === address.toLowerCase()) return deps.invoice_keys;
    throw new Error(`sweep: ${address} is not derived at index ${index} by any key family the sweeper holds`);
  };
  const senderFor = (address: string, index: number): Sender => {
    let s = senders.get(address.toLowerCase());
    if (!s) {
      const pk = toHex(keysFor(address, index).account(index).getHdKey().privateKey!);
      s = new Sender({ chain_id, client, private_key: pk, db, clock });
      senders.set(address.toLowerCase(), s);
    }
    return s;
  };
  const native = deps.native?.code ?? null;

  async function planOne(address: Hex, index: number, asset: string, amount_minor: bigint, nonce: number): Promise<SweepRow | null> {
    try {
      return await db.transaction(async (trx) => {
        // One open sweep per address and asset: an unfinished one blocks planning another.
        const open = await trx.selectFrom('sweeps').select('id').where('chain_id', '=', chain_id).where('deposit_address', '=', address).where('asset', '=', asset).where('status', 'in', OPEN_STATUSES).executeTakeFirst();
        if (open) return null;
        // A sweep that failed without the address sending anything (a failed top-up, a refused
        // transfer) leaves the address's nonce where it was; the count of failed sweeps keeps the
        // next attempt's id new yet deterministic, so two planners still plan it once.
        const failed = await trx.selectFrom('sweeps').select((eb) => eb.fn.countAll<string | number>().as('n')).where('chain_id', '=', chain_id).where('deposit_address', '=', address).where('asset', '=', asset).where('status', '=', 'failed').executeTakeFirstOrThrow();
        const retry = Number(failed.n);
        const id = deterministicId('swp', String(chain_id), address, asset, String(nonce), ...(retry > 0 ? [`retry${retry}`] : []));
        const now = clock.now_ms();
        const row: SweepRow = {
          id, chain_id, asset, deposit_address: address, derivation_index: index, amount_minor, status: 'planned',
          gas_tx_id: null, sweep_tx_id: null, gas_fee_minor: null, failure_reason: null, created_at_ms: now, updated_at_ms: now,
        };
        await trx.insertInto('sweeps').values(row).execute();
        await enqueueJob(trx, SWEEP_JOB, { id, chain_id }, { unique_key: `${SWEEP_JOB}:${id}` }, clock);
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  const families: readonly Family[] = deps.invoice_keys ? ['users', 'invoices'] : ['users'];

  /** Up to n addresses of one family after `after`, in address order (the (chain_id, address) unique index). */
  function readFamily(family: Family, after: string, n: number): Promise<Array<{ address: string; hd_index: number }>> {
    const table = family === 'users' ? 'deposit_addresses' : 'invoices';
    return db.kysely.selectFrom(table).select(['address', 'hd_index']).where('chain_id', '=', chain_id).where('address', '>', after).orderBy('address').limit(n).execute();
  }

  /**
   * The next `limit` addresses of the rotation: from the saved cursor on through the rest of its
   * family, then the next family from its start, and so on, at most one lap (no address twice).
   */
  async function nextWindow(limit: number): Promise<WindowEntry[]> {
    const cur = await db.kysely.selectFrom('sweep_cursors').selectAll().where('chain_id', '=', chain_id).executeTakeFirst();
    let family = families.find((f) => f === cur?.family) ?? families[0]!;
    let after = cur && cur.family === family ? cur.after_address : '';
    const out: WindowEntry[] = [];
    const seen = new Set<string>();
    // families.length + 1 segments: the rest of the current family, every other one, and the
    // current family's start up to where the lap began.
    for (let segment = 0; segment <= families.length && out.length < limit; segment++) {
      const want = limit - out.length;
      const rows = await readFamily(family, after, want);
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

  async function saveCursor(family: Family, after_address: string): Promise<void> {
    const updated_at_ms = clock.now_ms();
    await db.kysely.insertInto('sweep_cursors').values({ chain_id, family, after_address, updated_at_ms }).onConflict((oc) => oc.column('chain_id').doUpdateSet({ family, after_address, updated_at_ms })).execute();
  }

  /** One address's balances at the scanned block: each token's, then the native coin's (null when the chain has none configured). */
  async function readBalances(a: WindowEntry, blockNumber: bigint): Promise<Balances> {
    const [tokens, nativeBal] = await Promise.all([
      Promise.all(deps.tokens.map((t) => client.readContract({ address: t.contract!, abi: TOKEN_ABI, functionName: 'balanceOf', args: [a.address], blockNumber }))),
      native ? client.getBalance({ address: a.address, blockNumber }) : Promise.resolve(null),
    ]);
    return { entry: a, tokens, native: nativeBal };
  }

  /**
   * Plans the sweeps one address's balances (read at the scanned block) call for. Its nonce is
   * read only then, at that block and pending: if they differ, the address sent something after
   * the scanned block (our own sweep, mined or in flight), so its balance there no longer says what
   * it holds; it waits for the next lap, when the scanner has passed that transaction.
   */
  async function examine(b: Balances, tip: ScannedTip, fees: { maxFeePerGas: bigint }): Promise<SweepRow[]> {
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
      const row = await planOne(address, hd_index, t.code, bal, n);
      if (row) planned.push(row);
    }
    if (native && b.native !== null) {
      const gas = NATIVE_GAS * fees.maxFeePerGas;
      if (b.native < deps.native!.sweep_min_minor || b.native <= gas * WORTH_FACTOR) return planned;
      // Leave native coins alone while a token sweep of this address is open (they pay its gas).
      const busy = await db.kysely.selectFrom('sweeps').select('id').where('chain_id', '=', chain_id).where('deposit_address', '=', address).where('status', 'in', OPEN_STATUSES).executeTakeFirst();
      if (busy) return planned;
      const n = await nonceOf();
      if (n === null) return planned;
      const row = await planOne(address, hd_index, native, b.native - gas, n);
      if (row) planned.push(row);
    }
    return planned;
  }

  /** True while the node still has the block the scanner stored at the scanned height (no reorg under us). */
  async function stillCanonical(tip: ScannedTip): Promise<boolean> {
    const block = await client.getBlock({ blockNumber: BigInt(tip.number) });
    return block.hash?.toLowerCase() === tip.hash.toLowerCase();
  }

  async function planSweeps(): Promise<SweepRow[]> {
    const limit = deps.addresses_per_plan_max ?? 500;
    // Without a scanned block nothing is known to be settled: plan nothing, keep the rotation.
    const tip = await scannedTip(db, chain_id);
    if (!tip) return [];
    const window = await nextWindow(limit);
    if (window.length === 0) return [];
    // Read after the tip: every deposit at or below it is in the table by now (the scanner stores
    // deposits and moves its cursor in one transaction).
    const unsettled = await addressesWithUnsettledDeposits(db, chain_id, window.map((w) => w.address.toLowerCase()));
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
        const read = await Promise.allSettled(batch.map((w) => readBalances(w, BigInt(tip.number))));
        // A reorg the scanner has not rolled back yet: the balances read may hold unscanned coins,
        // so this batch and the rest of the window wait for the next plan.
        if (batch.length > 0 && !(await stillCanonical(tip))) break;
        for (const [k, r] of read.entries()) {
          last = batch[k]!;
          if (r.status === 'rejected') readError ??= r.reason;
          else planned.push(...(await examine(r.value, tip, fees)));
        }
        last = slice[slice.length - 1]!;
      }
    } finally {
      // The cursor moves past every address tried, even one whose read failed: a failing address
      // waits for the next lap instead of stopping the rotation, and a plan cut short by an error
      // leaves the rest of its window to the next plan.
      if (last) await saveCursor(last.family, last.address);
    }
    if (readError) throw readError;
    return planned;
  }

  async function finish(trx: Transaction<Database>, s: SweepRow, sweepFee: bigint, topup: { value: bigint; fee: bigint } | null, ok: boolean, reason: string | null): Promise<void> {
    const gasAsset = native ?? s.asset;
    const batch: TransferInput[] = [];
    const tid = (part: string) => `sweep:${s.id}:${part}`;
    const hotAcct = (asset: string) => platformAccountId(asset, 'hot_wallet');
    const depAcct = (asset: string) => platformAccountId(asset, 'deposit_wallets');
    const gasAcct = platformAccountId(gasAsset, 'gas');
    if (ok) batch.push({ id: tid('asset'), debit_account_id: hotAcct(s.asset), credit_account_id: depAcct(s.asset), amount_minor: s.amount_minor, asset: s.asset, reason: 'sweep', reference: s.id });
    if (topup && topup.value > 0n) batch.push({ id: tid('topup'), debit_account_id: depAcct(gasAsset), credit_account_id: hotAcct(gasAsset), amount_minor: topup.value, asset: gasAsset, reason: 'sweep_gas_topup', reference: s.id });
    if (topup && topup.fee > 0n) batch.push({ id: tid('topup_gas'), debit_account_id: gasAcct, credit_account_id: hotAcct(gasAsset), amount_minor: topup.fee, asset: gasAsset, reason: 'gas', reference: s.id });
    if (sweepFee > 0n) batch.push({ id: tid('gas'), debit_account_id: gasAcct, credit_account_id: depAcct(gasAsset), amount_minor: sweepFee, asset: gasAsset, reason: 'gas', reference: s.id });
    const results = await ledger.createTransfersIn(trx, batch);
    const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
    if (bad) throw new Error(`sweep ${s.id}: ledger refused ${bad.id}: ${bad.result}`);
    const res = await trx.updateTable('sweeps').set({ status: ok ? 'confirmed' : 'failed', gas_fee_minor: sweepFee + (topup?.fee ?? 0n), failure_reason: reason, updated_at_ms: clock.now_ms() }).where('id', '=', s.id).where('status', '=', 'sweeping').executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new Error(`sweep ${s.id} moved under us`);
  }

  async function bookTopupGasOnly(trx: Transaction<Database>, s: SweepRow, fee: bigint): Promise<void> {
    const gasAsset = native ?? s.asset;
    if (fee <= 0n) return;
    const [r] = await ledger.createTransfersIn(trx, [
      { id: `sweep:${s.id}:topup_gas`, debit_account_id: platformAccountId(gasAsset, 'gas'), credit_account_id: platformAccountId(gasAsset, 'hot_wallet'), amount_minor: fee, asset: gasAsset, reason: 'gas', reference: s.id },
    ]);
    if (r!.result !== 'ok' && r!.result !== 'exists') throw new Error(`sweep ${s.id}: ledger refused the top-up gas: ${r!.result}`);
  }

  async function setStatus(trx: Transaction<Database>, s: SweepRow, to: string, patch: Partial<SweepRow>): Promise<void> {
    const res = await trx.updateTable('sweeps').set({ ...patch, status: to, updated_at_ms: clock.now_ms() }).where('id', '=', s.id).where('status', '=', s.status).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new Error(`sweep ${s.id} moved under us`);
  }

  async function advance(id: string, ctx: Pick<JobContext, 'commit'>): Promise<void> {
    const s = await db.kysely.selectFrom('sweeps').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s || s.status === 'confirmed' || s.status === 'failed') return;
    const gasAsset = native ?? s.asset;
    await ledger.ensureAccounts([platformAccount(s.asset, 'hot_wallet'), platformAccount(s.asset, 'deposit_wallets'), platformAccount(gasAsset, 'hot_wallet'), platformAccount(gasAsset, 'deposit_wallets'), platformAccount(gasAsset, 'gas')]);
    const again = (trx: Transaction<Database>) => enqueueJob(trx, SWEEP_JOB, { id, chain_id }, { run_at_ms: clock.now_ms() + (deps.poll_ms ?? 1000) }, clock);
    const token = deps.tokens.find((t) => t.code === s.asset) ?? null;
    const from = senderFor(s.deposit_address, s.derivation_index);

    if (s.status === 'planned') {
      if (!token) {
        await ctx.commit(async (trx) => {
          await setStatus(trx, s, 'sweeping', {});
          await again(trx);
        });
        return;
      }
      // ERC-20: top the address up with enough native coin for the transfer's gas.
      const fees = await client.estimateFeesPerGas();
      const need = TOKEN_SWEEP_GAS * fees.maxFeePerGas * 2n;
      const have = await settledNative(s.deposit_address as Hex);
      if (have >= need) {
        await ctx.commit(async (trx) => {
          await setStatus(trx, s, 'sweeping', {});
          await again(trx);
        });
        return;
      }
      const r = await hot.prepare({ purpose: 'sweep_gas', purpose_id: s.id, to: s.deposit_address as Hex, value_minor: need - have, confirmations_required: 1, gas_limit: NATIVE_GAS });
      if (!r.ok) throw new Error(`gas top-up refused: ${r.reason}`);
      await hot.broadcast(r.tx.id);
      await ctx.commit(async (trx) => {
        await setStatus(trx, s, 'gas', { gas_tx_id: r.tx.id });
        await again(trx);
      });
      return;
    }

    if (s.status === 'gas') {
      const v = await hot.refresh(s.gas_tx_id!);
      await ctx.commit(async (trx) => {
        if (v.status === 'confirmed') await setStatus(trx, s, 'sweeping', {});
        else if (v.status === 'failed') {
          // The top-up moved nothing, but if one of its attempts was mined the hot wallet paid its gas.
          await bookTopupGasOnly(trx, s, v.gas_fee_minor ?? 0n);
          await setStatus(trx, s, 'failed', { failure_reason: `gas top-up failed: ${v.failure_reason}`, gas_fee_minor: v.gas_fee_minor ?? 0n });
        }
        await again(trx);
      });
      return;
    }

    // sweeping
    const existing = await getChainTxByPurpose(db.kysely, 'sweep', s.id);
    let txId = existing?.id ?? null;
    if (!txId) {
      const hotAddress = hot.address;
      const fees = await client.estimateFeesPerGas();
      let r;
      if (token) {
        r = await from.prepare({ purpose: 'sweep', purpose_id: s.id, to: token.contract!, value_minor: 0n, data: erc20TransferData(hotAddress, s.amount_minor), confirmations_required: 1, gas_limit: TOKEN_SWEEP_GAS, fees });
      } else {
        // Native: send what is there now minus the fee at today's price (fixed into the signed tx),
        // never more than planned: coins that arrived since are not known to be settled.
        const now = (await client.getBalance({ address: s.deposit_address as Hex })) - NATIVE_GAS * fees.maxFeePerGas;
        const value = now < s.amount_minor ? now : s.amount_minor;
        if (value <= 0n) {
          await ctx.commit((trx) => finish(trx, s, 0n, null, false, 'not_worth_the_gas: the balance no longer covers the fee'));
          return;
        }
        r = await from.prepare({ purpose: 'sweep', purpose_id: s.id, to: hotAddress, value_minor: value, confirmations_required: 1, gas_limit: NATIVE_GAS, fees });
      }
      if (!r.ok) {
        await ctx.commit((trx) => finish(trx, s, 0n, null, false, r.reason));
        return;
      }
      txId = r.tx.id;
      await from.broadcast(txId);
    }
    const v = await from.refresh(txId);
    if (v.status !== 'confirmed' && v.status !== 'failed') {
      await ctx.commit(async (trx) => {
        await trx.updateTable('sweeps').set({ sweep_tx_id: txId, updated_at_ms: clock.now_ms() }).where('id', '=', s.id).execute();
        await again(trx);
      });
      return;
    }
    const topup = s.gas_tx_id ? await topupOf(s.gas_tx_id) : null;
    const sent = token ? s.amount_minor : (await topupOf(txId)).value_sent;
    await ctx.commit(async (trx) => {
      await trx.updateTable('sweeps').set({ sweep_tx_id: txId, amount_minor: sent }).where('id', '=', s.id).execute();
      await finish(trx, { ...s, amount_minor: sent }, v.gas_fee_minor ?? 0n, topup, v.status === 'confirmed', v.failure_reason);
    });
  }

  /**
   * The native coins on an address that a token sweep may spend on its gas: its balance now, but
   * no more than at the scanned block (coins arrived since may still be reorged away; the address
   * sends nothing while its sweep is open, so the lower of the two is what was there already).
   */
  async function settledNative(address: Hex): Promise<bigint> {
    const tip = await scannedTip(db, chain_id);
    const now = await client.getBalance({ address });
    if (!tip) return 0n;
    const then = await client.getBalance({ address, blockNumber: BigInt(tip.number) });
    return then < now ? then : now;
  }

  /** What a recorded transaction moved: value if it succeeded, the gas it paid either way. */
  async function topupOf(tx_id: string): Promise<{ value: bigint; fee: bigint; value_sent: bigint }> {
    const tx = await getChainTx(db.kysely, tx_id);
    if (!tx) throw new Error(`sweep: no chain transaction ${tx_id}`);
    return { value: tx.status === 'confirmed' ? tx.value_minor : 0n, fee: tx.gas_fee_minor ?? 0n, value_sent: tx.value_minor };
  }

  return { planSweeps, advance, get: (id) => db.kysely.selectFrom('sweeps').selectAll().where('id', '=', id).executeTakeFirst() };
}

/** Registers the sweep job for one or several chains (the payload names the chain). */
export function registerSweepJobs(jobs: JobRunner, sweepers: Sweeper | ReadonlyMap<number, Sweeper>): void {
  jobs.register(SWEEP_JOB, async (payload, ctx) => {
    const { id, chain_id } = payload as { id: string; chain_id?: number };
    const sweeper = 'advance' in sweepers ? sweepers : chain_id !== undefined ? sweepers.get(chain_id) : undefined;
    if (!sweeper) throw new Error(`no sweeper for chain ${chain_id}`);
    await sweeper.advance(id, ctx);
  });
}

/**
 * A background loop that plans sweeps every interval_ms (each plan is bounded by
 * addresses_per_plan_max; the jobs it enqueues do the work).
 * platform.workers.push(sweepWorker([...sweepers.values()], 60_000))
 */
export function sweepWorker(sweepers: readonly Sweeper[], interval_ms: number, onError: (e: unknown) => void = () => undefined): IntervalWorker {
  return intervalWorker('sweeper', interval_ms, async () => {
    for (const s of sweepers) await s.planSweeps().catch(onError);
  });
}

/**
 * One sweeper per chain that has a hot wallet, from the chains' configuration: an asset is swept
 * from its min_deposit up (1 whole unit when none is set).
 * const sweepers = createSweepers({ chains: config.chains, hotWallets, keys, db, clock, ledger, client: createEvmClient })
 */
export function createSweepers(opts: {
  chains: ReadonlyArray<{ chain_id: number; rpc_url: string; poll_interval_ms?: number | undefined; native?: { symbol: string; decimals: number; min_deposit?: string | undefined } | undefined; tokens?: ReadonlyArray<{ symbol: string; address: string; decimals: number; min_deposit?: string | undefined }> | undefined }>;
  hotWallets: ReadonlyMap<number, Sender>;
  keys: DepositKeys;
  /** Invoice-address keys; with them the sweepers also empty invoices' addresses. */
  invoice_keys?: DepositKeys | null;
  db: Db;
  clock: Clock;
  ledger: Ledger;
  client: (chain: { chain_id: number; rpc_url: string }) => PublicClient;
  /** Addresses read per plan and chain; default 500. */
  addresses_per_plan_max?: number;
}): Map<number, Sweeper> {
  const minOf = (decimals: number, min?: string) => {
    const parsed = min ? parseAmount(min, decimals) : null;
    return parsed?.ok ? parsed.amount_minor : 10n ** BigInt(decimals);
  };
  const out = new Map<number, Sweeper>();
  for (const c of opts.chains) {
    const hot = opts.hotWallets.get(c.chain_id);
    if (!hot) continue;
    out.set(
      c.chain_id,
      createSweeper({
        db: opts.db, clock: opts.clock, ledger: opts.ledger, chain_id: c.chain_id, client: opts.client(c), hot, keys: opts.keys, invoice_keys: opts.invoice_keys ?? null,
        native: c.native ? { code: c.native.symbol, sweep_min_minor: minOf(c.native.decimals, c.native.min_deposit) } : null,
        tokens: (c.tokens ?? []).map((t) => ({ code: t.symbol, contract: t.address.toLowerCase() as Hex, sweep_min_minor: minOf(t.decimals, t.min_deposit) })),
        ...(c.poll_interval_ms ? { poll_ms: c.poll_interval_ms } : {}),
        ...(opts.addresses_per_plan_max ? { addresses_per_plan_max: opts.addresses_per_plan_max } : {}),
      }),
    );
  }
  return out;
}
