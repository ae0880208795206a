// The deposit scanner: one worker per chain, at its own pace (poll_interval_ms), reading a bounded
// range of blocks per tick (blocks_per_tick_max) from a saved cursor.
//
// Each tick:
//   1. reads the head and records when it was first seen (block time is measured from sightings,
//      since dev chains stamp several blocks with one second);
//   2. checks the stored hash of the last scanned block against the chain; on a mismatch walks back
//      to the common ancestor, marks deposits above it as orphaned and moves the cursor back
//      (the node never tells us about removed logs: the stored hashes are the only truth);
//   3. reads headers, ERC-20 Transfer logs of the configured tokens and native transfers for the
//      range, verifies that every log belongs to the headers read (else the chain moved under us
//      and the tick is abandoned), and in ONE transaction stores the blocks, every new deposit with
//      its PENDING ledger transfer and payment (outbox event included), and the advanced cursor;
//   4. once caught up, settles orphans: re-seen deposits have already been re-attached in step 3;
//      the rest are dropped (pending transfer voided) or, if already released, reversed with a
//      correcting transfer and an incident for staff;
//   5. releases deposits that reached their required depth below the verified tip, as one batch:
//      one transaction, one ledger call posting every pending transfer, deposits and payments
//      (timeline + outbox) moved in bulk. New deposits in step 3 are stored in bulk too (a
//      statement per table per chunk), so a range's cost grows with its rows, not its statements.
//
// Exactly once: deposit ids and ledger transfer ids derive from (chain id, tx hash, log index);
// the cursor moves only from the value this tick read, inside the same transaction as the
// deposits found, so a crash anywhere re-reads the range and finds everything already there.
import { LIMITS, type ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput, type TransferResult } from '../../ledger/ledger-types.ts';
import type { ChainReader, BlockHeader, Hex, NativeTransfer, TokenTransfer } from '../../chain/chain.ts';
import { ChainRpcError } from '../../chain/chain.ts';
import { depositAddressOwners, earliestIssuedBlock } from '../custody/deposit-addresses.ts';
import { emitEvent } from '../../jobs/jobs.ts';
import type { Metrics } from '../../ops/metrics.ts';
import { assert, AssertionError } from '../../shared/assert.ts';
import { isoTime, systemClock, type Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { transitionPayment, type NewPayment, type PaymentChange } from '../payments.ts';
import { createPaymentsBulk, transitionPaymentsBulk } from './deposit-payments.ts';
import { observedBlockTimeMs } from '../payment-eta-rules.ts';
import type { DepositStatus, HoldReason } from '../payment-rules.ts';
import {
  addHeadSample,
  chainAssets,
  confirmationsAt,
  creditDecision,
  depositId,
  depositPaymentId,
  depositTransferIds,
  nativeLogIndex,
  orphanOutcome,
  requiredConfirmations,
  type ChainAsset,
  type ReceiveMode,
} from './deposit-rules.ts';
import * as store from './deposit-store.ts';
import type { DepositRow } from './deposit-store.ts';
import { platformAccount, platformAccountId } from '../custody/chart.ts';

/** Blocks kept below the cursor for reorg detection; a deeper reorg is raised as an incident. */
export const REORG_WINDOW_BLOCKS = 256;
/** Orphaned deposits settled per tick. */
const OPEN_DEPOSITS_PER_TICK_MAX = 5000;
/** Deposits released per tick: one transaction and one ledger call (within the ledger's batch bound). */
const RELEASE_PER_TICK_MAX = Math.min(5000, LIMITS.ledger_batch_max);
/** Blocks fetched in parallel for native transfers. */
const NATIVE_BLOCKS_PARALLEL_MAX = 8;
/** Confirming payments whose shown confirmation count is refreshed per tick. */
const CONFIRMATION_REFRESH_MAX = 500;
/** Ledger transfers per createTransfersIn call (the ledger's own bound). */
const LEDGER_CHUNK_MAX = LIMITS.ledger_batch_max;

export interface DepositScannerDeps {
  db: Db;
  ledger: Ledger;
  reader: ChainReader;
  chain: ChainConfigFile;
  clock?: Clock;
  blocks_per_tick_max: number;
  /** How the account receives coins (accounts module): credit, hold (frozen), refuse (closed). */
  receiveMode: (user_id: string, trx: Transaction<Database>) => Promise<ReceiveMode>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /**
   * The platform's own addresses on this chain (the hot wallet): coins they send to deposit
   * addresses (the sweeper's gas top-ups) are internal movements, not deposits.
   */
  platformAddresses?: () => Hex[];
  /** Extension point (invoices): more addresses this scanner credits, address -> owner (an invoice's merchant). */
  extraOwners?: (ex: Db['kysely'], chain_id: number) => Promise<Map<Hex, Owner>>;
  /** Extension point (invoices): told of deposits found or changed, inside the same transaction. */
  onDepositChange?: (trx: Transaction<Database>, deposit_ids: string[]) => Promise<void>;
  /**
   * The maintenance window blocking this chain now (global or chain:<id>), or null: deposits at
   * depth are then held (`maintenance`), not released, until a tick finds no window.
   */
  maintenanceBlocking?: (chain_id: number) => Promise<BlockingWindow | null>;
  /**
   * Releases a user's deposits held for a freeze if the account now receives normally (the
   * release module's releaseUser). Called at depth for deposits first seen while the account was
   * frozen: an unfreeze that came while they were still confirming has no event left to release them.
   */
  releaseHeld?: (trx: Transaction<Database>, user_id: string) => Promise<number>;
  metrics?: Metrics;
}

/** What a deposit held for maintenance shows: the window's end and its message in both languages. */
export interface BlockingWindow {
  ends_at_ms: number;
  message: string;
  message_zh: string | null;
}

export interface TickReport {
  head: number | null;
  scanned_from: number | null;
  scanned_to: number | null;
  detected: number;
  released: number;
  reorg_depth: number;
  dropped: number;
  reversed: number;
  caught_up: boolean;
  /** The tick released as many as one batch holds: more may be due (the worker ticks again at once). */
  release_more: boolean;
  aborted: string | null;
}

export interface DepositScanner {
  readonly chain_id: number;
  tick(): Promise<TickReport>;
  /** A Worker for platform.workers: ticks every poll_interval_ms (at once while catching up). */
  start(): void;
  stop(): Promise<void>;
  readonly name: string;
  /**
   * Records one transaction's transfers read outside a tick (diagnosis pick-up, see
   * deposit-ingest.ts): the scan's filters and records; the cursor does not move. -> deposits new.
   */
  ingest(header: BlockHeader, transfers: Seen[], head: number): Promise<number>;
}

/** Who an address's coins belong to; an invoice's address also names its invoice (payment kind `invoice`). */
export interface Owner {
  user_id: string;
  hd_index: number;
  invoice_id?: string;
}

/** A transfer read from the chain, before its block is checked. */
export type Seen = { kind: 'token'; t: TokenTransfer } | { kind: 'native'; t: NativeTransfer };

type Found = { kind: 'token'; t: TokenTransfer; header: BlockHeader } | { kind: 'native'; t: NativeTransfer; header: BlockHeader };

const USER_FLAGS = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };

function userAccount(user_id: string, asset: string, kind: 'user_available' | 'user_held'): string {
  return ledgerAccountId('user', user_id, asset, kind);
}

/** Every ledger account a deposit may touch. */
export function depositAccountSpecs(user_id: string, asset: string): AccountSpec[] {
  return [
    { id: userAccount(user_id, asset, 'user_available'), asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: USER_FLAGS },
    { id: userAccount(user_id, asset, 'user_held'), asset, owner_type: 'user', owner_id: user_id, kind: 'user_held', flags: USER_FLAGS },
    platformAccount(asset, 'deposit_wallets'),
    platformAccount(asset, 'corrections'),
  ];
}

function expectApplied(results: TransferResult[], what: string): void {
  for (const r of results) {
    if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`${what}: ledger refused ${r.id}: ${r.result}`);
  }
}

/** const scanner = createDepositScanner({ db, ledger, reader, chain, blocks_per_tick_max: 500, receiveMode }) */
export function createDepositScanner(deps: DepositScannerDeps): DepositScanner {
  const { db, ledger, reader, chain } = deps;
  const clock = deps.clock ?? systemClock;
  const chain_id = chain.chain_id;
  const assets = chainAssets(chain);
  const native = assets.find((a) => a.token === null) ?? null;
  const tokens = new Map(assets.filter((a) => a.token !== null).map((a) => [a.token!, a]));
  const tokenList = [...tokens.keys()];
  const samples: Array<{ number: number; seen_at_ms: number }> = [];
  const ensured = new Set<string>();
  const log = deps.log ?? (() => undefined);
  const labels = { chain_id: String(chain_id) };
  const m = deps.metrics
    ? {
        detected: deps.metrics.counter('settle_deposits_detected_total', 'Deposits detected by the scanner', ['chain_id']),
        released: deps.metrics.counter('settle_deposits_released_total', 'Deposits released at depth', ['chain_id']),
        reorgs: deps.metrics.counter('settle_chain_reorgs_total', 'Reorgs detected by the scanner', ['chain_id']),
        errors: deps.metrics.counter('settle_chain_scan_errors_total', 'Scanner ticks that failed', ['chain_id']),
        cursor: deps.metrics.gauge('settle_chain_scan_cursor', 'Next block the scanner reads', ['chain_id']),
        head: deps.metrics.gauge('settle_chain_head', 'Chain head seen by the scanner', ['chain_id']),
        lag: deps.metrics.gauge('settle_chain_scan_lag_blocks', 'Blocks between the head and the scan cursor', ['chain_id']),
      }
    : null;

  async function ensureAccounts(trx: Transaction<Database>, pairs: Array<{ user_id: string; asset: string }>): Promise<void> {
    const specs: AccountSpec[] = [];
    for (const p of pairs) {
      const key = `${p.user_id}\u0000${p.asset}`;
      if (ensured.has(key)) continue;
      ensured.add(key);
      specs.push(...depositAccountSpecs(p.user_id, p.asset));
    }
    const unique = [...new Map(specs.map((s) => [s.id, s])).values()];
    for (let i = 0; i < unique.length; i += LEDGER_CHUNK_MAX) await ledger.ensureAccounts(unique.slice(i, i + LEDGER_CHUNK_MAX), trx);
  }

  async function applyTransfers(trx: Transaction<Database>, batch: TransferInput[], what: string): Promise<void> {
    for (let i = 0; i < batch.length; i += LEDGER_CHUNK_MAX) expectApplied(await ledger.createTransfersIn(trx, batch.slice(i, i + LEDGER_CHUNK_MAX)), what);
  }

  /** The cursor, created on first use: never after start_block or the earliest address's issue block. */
  async function loadCursor(head: number): Promise<store.CursorRow> {
    const existing = await store.selectCursor(db.kysely, chain_id);
    if (existing) return existing;
    const earliest = await earliestIssuedBlock(db.kysely, chain_id);
    const candidates = [chain.start_block, earliest].filter((v): v is number => v !== undefined && v !== null);
    const next_block = candidates.length ? Math.min(...candidates) : head + 1;
    await store.insertCursorIfAbsent(db.kysely, { chain_id, next_block, head, head_seen_at_ms: clock.now_ms(), block_time_ms: null, updated_at_ms: clock.now_ms() });
    log('info', 'deposit scanner: cursor created', { chain_id, next_block });
    return (await store.selectCursor(db.kysely, chain_id))!;
  }

  /** Finds the common ancestor when the last scanned block is no longer on the chain; null if it is. */
  async function findReorg(next_block: number, head: number): Promise<{ ancestor: number; beyond_window: boolean } | null> {
    const last = next_block - 1;
    const stored = await store.selectBlock(db.kysely, chain_id, last);
    if (!stored) return null;
    const onChain = last <= head ? await reader.block(last) : null;
    if (onChain && onChain.hash === stored.hash) return null;
    const lowest = (await store.lowestBlock(db.kysely, chain_id)) ?? last;
    const CHUNK = 64;
    for (let top = last - 1; top >= lowest; top -= CHUNK) {
      const bottom = Math.max(lowest, top - CHUNK + 1);
      const [mine, theirs] = await Promise.all([store.selectBlocks(db.kysely, chain_id, bottom, top), top <= head ? reader.blocks(bottom, Math.min(top, head)) : Promise.resolve([])]);
      const byNumber = new Map(theirs.map((h) => [h.number, h.hash]));
      for (let i = mine.length - 1; i >= 0; i--) {
        if (byNumber.get(mine[i]!.number) === mine[i]!.hash) return { ancestor: mine[i]!.number, beyond_window: false };
      }
    }
    return { ancestor: lowest - 1, beyond_window: true };
  }

  async function rollBack(from_next: number, ancestor: number, beyond_window: boolean): Promise<void> {
    const now = clock.now_ms();
    await db.transaction(async (trx) => {
      const moved = await store.advanceCursor(trx, chain_id, from_next, { next_block: ancestor + 1, updated_at_ms: now });
      if (!moved) throw new ChainRpcError('cursor moved by another scanner', 'reorg');
      await store.deleteBlocksAbove(trx, chain_id, ancestor);
      const orphans = await store.orphanDepositsAbove(trx, chain_id, ancestor, now);
      for (const d of orphans) {
        if (d.status === 'confirming') await transitionPayment(trx, d.payment_id, { status: 'confirming', confirmations: { current: 0, required: d.confirmations_required } }, clock);
      }
      if (beyond_window) {
        await raiseIncident(trx, 'reorg_beyond_window', 'chain', `${chain_id}:${ancestor + 1}:${now}`, { chain_id, ancestor, scanned_to: from_next - 1 });
      }
    });
  }

  async function raiseIncident(trx: Transaction<Database>, kind: string, subject_type: string, subject_id: string, details: Record<string, unknown>): Promise<void> {
    const id = newId('inc', clock.now_ms());
    const created = await store.insertIncident(trx, { id, chain_id, kind, subject_type, subject_id, details: JSON.stringify(details), created_at_ms: clock.now_ms() });
    if (created) await emitEvent(trx, { type: `chain.incident.${kind}`, aggregate_type: 'chain_incident', aggregate_id: id, payload: { chain_id, kind, subject_type, subject_id, ...details } }, clock);
    log('error', `chain incident: ${kind}`, { chain_id, subject_id, ...details });
  }

  /** Headers (and native transfers) for [from, to]; null when the node does not have them all. */
  async function readRange(from: number, to: number, isOurs: (a: Hex) => boolean): Promise<{ headers: BlockHeader[]; natives: NativeTransfer[] } | null> {
    if (!native) {
      const headers = await reader.blocks(from, to);
      return headers.length === to - from + 1 ? { headers, natives: [] } : null;
    }
    const headers: BlockHeader[] = [];
    const natives: NativeTransfer[] = [];
    for (let n = from; n <= to; n += NATIVE_BLOCKS_PARALLEL_MAX) {
      const part = await Promise.all(Array.from({ length: Math.min(NATIVE_BLOCKS_PARALLEL_MAX, to - n + 1) }, (_, i) => reader.nativeTransfers(n + i, isOurs)));
      for (const p of part) {
        if (!p) return null;
        headers.push(p.header);
        natives.push(...p.transfers);
      }
    }
    return { headers, natives };
  }

  function assetOf(f: Found): ChainAsset {
    return f.kind === 'native' ? native! : tokens.get(f.t.token)!;
  }

  /** Deposit addresses, then invoice addresses (extension point: credited to their merchant). */
  async function ownersOf(): Promise<Map<Hex, Owner>> {
    const owners = new Map<Hex, Owner>(await depositAddressOwners(db.kysely, chain_id));
    for (const [a, o] of (await deps.extraOwners?.(db.kysely, chain_id)) ?? []) if (!owners.has(a)) owners.set(a, o);
    return owners;
  }

  /** Stores new deposits (pending ledger transfer + payment) and re-attaches re-seen ones, in trx. */
  async function recordFound(trx: Transaction<Database>, found: Found[], owners: Map<Hex, Owner>, tip: number): Promise<{ n: number; ids: string[] }> {
    const now = clock.now_ms();
    const keyed = found.map((f) => {
      const log_index = f.kind === 'token' ? f.t.log_index : nativeLogIndex(f.t.internal_index);
      return { f, log_index, id: depositId(chain_id, f.t.tx_hash, log_index) };
    });
    const existing = new Map((await store.selectDeposits(trx, keyed.map((k) => k.id))).map((d) => [d.id, d]));
    const fresh: Array<{ f: Found; log_index: number; id: string; user_id: string; invoice_id: string | undefined; asset: ChainAsset }> = [];
    const freshIds = new Set<string>();
    for (const k of keyed) {
      const id = k.id;
      const d = existing.get(id);
      if (d) await reattach(trx, d, k.f, tip);
      else if (!freshIds.has(id)) {
        freshIds.add(id);
        const owner = owners.get(k.f.t.to)!;
        fresh.push({ ...k, id, user_id: owner.user_id, invoice_id: owner.invoice_id, asset: assetOf(k.f) });
      }
    }
    const result = { n: fresh.length, ids: keyed.map((k) => k.id) };
    if (fresh.length === 0) return result;
    await ensureAccounts(trx, fresh.map((x) => ({ user_id: x.user_id, asset: x.asset.code })));
    const rows: DepositRow[] = [];
    const transfers: TransferInput[] = [];
    const payments: NewPayment[] = [];
    const modes = new Map<string, ReceiveMode>();
    for (const x of fresh) {
      let mode = modes.get(x.user_id);
      if (mode === undefined) {
        mode = await deps.receiveMode(x.user_id, trx);
        modes.set(x.user_id, mode);
      }
      const decision = creditDecision(mode, x.f.t.amount_minor, x.asset.min_deposit_minor);
      const ids = depositTransferIds(chain_id, x.f.t.tx_hash, x.log_index, 0);
      transfers.push({
        id: ids.pending,
        debit_account_id: platformAccountId(x.asset.code, 'deposit_wallets'),
        credit_account_id: userAccount(x.user_id, x.asset.code, decision.credit_kind),
        amount_minor: x.f.t.amount_minor,
        asset: x.asset.code,
        pending: true,
        reason: 'deposit',
        reference: x.id,
      });
      const row: DepositRow = {
        id: x.id,
        chain_id,
        tx_hash: x.f.t.tx_hash,
        log_index: x.log_index,
        asset: x.asset.code,
        token_address: x.asset.token,
        from_address: x.f.t.from,
        to_address: x.f.t.to,
        amount_minor: x.f.t.amount_minor,
        user_id: x.user_id,
        payment_id: depositPaymentId(chain_id, x.f.t.tx_hash, x.log_index),
        status: 'confirming',
        hold_reason: decision.hold,
        credit_kind: decision.credit_kind,
        block_number: x.f.header.number,
        block_hash: x.f.header.hash,
        block_timestamp_s: x.f.header.timestamp_s,
        orphaned: 0,
        confirmations_required: requiredConfirmations(x.asset.tiers, x.f.t.amount_minor),
        generation: 0,
        pending_transfer_id: ids.pending,
        first_seen_at_ms: now,
        released_at_ms: null,
        updated_at_ms: now,
      };
      rows.push(row);
      // A payment into an invoice's address is the merchant's invoice payment (kind `invoice`).
      payments.push({
        id: row.payment_id,
        user_id: row.user_id,
        kind: x.invoice_id ? 'invoice' : 'deposit',
        direction: 'in',
        asset: row.asset,
        amount_minor: row.amount_minor,
        status: 'confirming',
        hold: decision.hold,
        confirmations: { current: confirmationsAt(tip, row.block_number), required: row.confirmations_required },
        chain: { chain_id, tx_hash: row.tx_hash, log_index: row.log_index < 0 ? null : row.log_index, block_number: row.block_number, from: row.from_address, to: row.to_address, token: row.token_address },
        counterparty: x.invoice_id ?? null,
        reference: row.id,
      });
    }
    // In bulk: one ledger call for the range's pending transfers, then a statement per table per chunk.
    await applyTransfers(trx, transfers, 'deposit detection');
    await store.insertDeposits(trx, rows);
    await createPaymentsBulk(trx, payments, clock);
    return result;
  }

  /** A known deposit seen in a (possibly new) block: re-attach it; a dropped one comes back. */
  async function reattach(trx: Transaction<Database>, d: DepositRow, f: Found, tip: number): Promise<void> {
    const now = clock.now_ms();
    if (d.orphaned === 0 && d.block_hash === f.header.hash) return;
    const where = { block_number: f.header.number, block_hash: f.header.hash, block_timestamp_s: f.header.timestamp_s, orphaned: 0, updated_at_ms: now };
    const status = d.status as DepositStatus;
    const chainInfo = { chain_id, tx_hash: d.tx_hash, log_index: d.log_index < 0 ? null : d.log_index, block_number: f.header.number, from: d.from_address, to: d.to_address, token: d.token_address };
    if (status === 'dropped') {
      // Re-included after it was declared dropped: a new generation of ledger transfers.
      const generation = d.generation + 1;
      const ids = depositTransferIds(chain_id, d.tx_hash, d.log_index, generation);
      await applyTransfers(trx, [{ id: ids.pending, debit_account_id: platformAccountId(d.asset, 'deposit_wallets'), credit_account_id: userAccount(d.user_id, d.asset, d.credit_kind as 'user_available' | 'user_held'), amount_minor: d.amount_minor, asset: d.asset, pending: true, reason: 'deposit', reference: d.id }], 'deposit re-inclusion');
      await store.updateDeposit(trx, d.id, { ...where, status: 'confirming', generation, pending_transfer_id: ids.pending });
      await transitionPayment(trx, d.payment_id, { status: 'confirming', hold: d.hold_reason as HoldReason | null, confirmations: { current: confirmationsAt(tip, f.header.number), required: d.confirmations_required }, chain: chainInfo }, clock);
      log('info', 'deposit re-included after being dropped', { chain_id, deposit_id: d.id, block: f.header.number });
      return;
    }
    if (status === 'reversed' || status === 'refunded') {
      await raiseIncident(trx, 'reversed_deposit_reincluded', 'deposit', `${d.id}:${f.header.hash}`, { deposit_id: d.id, tx_hash: d.tx_hash, block_number: f.header.number });
      await store.updateDeposit(trx, d.id, where);
      return;
    }
    await store.updateDeposit(trx, d.id, where);
    await transitionPayment(trx, d.payment_id, { status, chain: chainInfo, ...(status === 'confirming' ? { confirmations: { current: confirmationsAt(tip, f.header.number), required: d.confirmations_required } } : {}) }, clock);
    if (d.orphaned) log('info', 'deposit re-included in another block', { chain_id, deposit_id: d.id, block: f.header.number });
  }

  /** Scans [from, to]; false when the chain moved under the read (the next tick sorts it out). */
  async function scanRange(from: number, to: number, head: number): Promise<{ ok: true; detected: number } | { ok: false; reason: string }> {
    const owners = await ownersOf();
    const isOurs = (a: Hex) => owners.has(a);
    const internal = new Set((deps.platformAddresses?.() ?? []).map((a) => a.toLowerCase() as Hex));
    const [range, logs] = await Promise.all([readRange(from, to, isOurs), reader.tokenTransfers(from, to, tokenList)]);
    if (!range) return { ok: false, reason: 'node does not have the whole range yet' };
    const { headers, natives } = range;
    const prev = from > 0 ? await store.selectBlock(db.kysely, chain_id, from - 1) : null;
    if (prev && headers[0]!.parent_hash !== prev.hash) return { ok: false, reason: 'first block does not extend the last scanned block' };
    for (let i = 1; i < headers.length; i++) {
      if (headers[i]!.parent_hash !== headers[i - 1]!.hash) return { ok: false, reason: `blocks ${headers[i - 1]!.number}/${headers[i]!.number} do not link` };
    }
    const found: Found[] = [];
    for (const t of logs) {
      const header = headers[t.block_number - from];
      if (!header || header.hash !== t.block_hash) return { ok: false, reason: `log in block ${t.block_number} belongs to another fork` };
      if (owners.has(t.to) && t.amount_minor > 0n && !internal.has(t.from)) found.push({ kind: 'token', t, header });
    }
    for (const t of natives) {
      const header = headers[t.block_number - from]!;
      if (header.hash !== t.block_hash) return { ok: false, reason: `native transfer in block ${t.block_number} belongs to another fork` };
      if (!internal.has(t.from)) found.push({ kind: 'native', t, header });
    }
    const now = clock.now_ms();
    const detected = await db.transaction(async (trx) => {
      await store.upsertBlocks(trx, headers.map((h) => ({ chain_id, number: h.number, hash: h.hash, parent_hash: h.parent_hash, timestamp_s: h.timestamp_s, seen_at_ms: now })));
      // Deposits recorded ahead of the scan (diagnosis) from a block this range no longer has are
      // orphaned before anything is recorded, so a re-seen one re-attaches and a vanished one drops.
      const orphaned = await store.orphanDepositsOffCanonical(trx, chain_id, from, to, (n) => headers[n - from]?.hash, now);
      if (orphaned) log('warn', 'deposits recorded ahead of the scan were in blocks a reorg replaced', { chain_id, from, to, orphaned });
      const { n, ids } = await recordFound(trx, found, owners, to);
      await deps.onDepositChange?.(trx, ids); // extension point (invoices)
      const moved = await store.advanceCursor(trx, chain_id, from, { next_block: to + 1, head, head_seen_at_ms: headSeenAt(head), block_time_ms: observedBlockTimeMs(samples), updated_at_ms: now });
      if (!moved) throw new ChainRpcError('cursor moved by another scanner or an address issue', 'scan');
      await store.deleteBlocksBelow(trx, chain_id, to - REORG_WINDOW_BLOCKS);
      return n;
    });
    return { ok: true, detected };
  }

  function headSeenAt(head: number): number {
    return samples.find((s) => s.number === head)?.seen_at_ms ?? clock.now_ms();
  }

  /** Settles orphans once the scan has caught up: dropped (voided) or reversed (incident). */
  async function settleOrphans(): Promise<{ dropped: number; reversed: number }> {
    const orphans = await store.selectOrphaned(db.kysely, chain_id, OPEN_DEPOSITS_PER_TICK_MAX);
    let dropped = 0;
    let reversed = 0;
    for (const o of orphans) {
      // A transaction back in the mempool will be mined again: wait for it rather than drop it.
      const info = await reader.transaction(o.tx_hash as Hex);
      if (info.found && info.block_number === null) continue;
      const outcome = await db.transaction(async (trx) => {
        const d = await store.selectDeposit(trx, o.id);
        if (!d || d.orphaned !== 1) return 'none' as const;
        const status = d.status as DepositStatus;
        const ids = depositTransferIds(chain_id, d.tx_hash, d.log_index, d.generation);
        const now = clock.now_ms();
        const what = orphanOutcome(status);
        switch (what) {
          case 'void':
            await applyTransfers(trx, [{ id: ids.void, void_pending_id: d.pending_transfer_id, reason: 'deposit_dropped', reference: d.id }], 'deposit drop');
            await store.updateDeposit(trx, d.id, { status: 'dropped', orphaned: 0, block_number: null, block_hash: null, updated_at_ms: now });
            await transitionPayment(trx, d.payment_id, { status: 'dropped', confirmations: null }, clock);
            break;
          case 'reverse':
            await reverse(trx, d, ids);
            await store.updateDeposit(trx, d.id, { status: 'reversed', orphaned: 0, block_number: null, block_hash: null, updated_at_ms: now });
            await transitionPayment(trx, d.payment_id, { status: 'reversed', hold: null }, clock);
            break;
          case 'none':
            await store.updateDeposit(trx, d.id, { orphaned: 0, updated_at_ms: now });
            break;
        }
        await deps.onDepositChange?.(trx, [d.id]); // extension point (invoices)
        return what;
      });
      if (outcome === 'void') dropped++;
      if (outcome === 'reverse') reversed++;
    }
    return { dropped, reversed };
  }

  /**
   * A released deposit whose transaction left the chain: a correcting transfer takes the coins
   * back from the account credited (linked to the release by its reference); if the user has
   * already spent them, the platform's corrections account absorbs the loss. Either way an
   * incident is raised for staff.
   */
  async function reverse(trx: Transaction<Database>, d: DepositRow, ids: ReturnType<typeof depositTransferIds>): Promise<void> {
    // A credited deposit's coins are available (a held one released on unfreeze included).
    const from = userAccount(d.user_id, d.asset, d.status === 'credited' ? 'user_available' : (d.credit_kind as 'user_available' | 'user_held'));
    const [first] = await ledger.createTransfersIn(trx, [{ id: ids.reverse, debit_account_id: from, credit_account_id: platformAccountId(d.asset, 'deposit_wallets'), amount_minor: d.amount_minor, asset: d.asset, reason: 'deposit_reversed', reference: ids.post }]);
    let absorbed = false;
    if (first!.result === 'exceeds_credits' || first!.result === 'exceeds_debits') {
      absorbed = true;
      await applyTransfers(trx, [{ id: ids.reverse, debit_account_id: platformAccountId(d.asset, 'corrections'), credit_account_id: platformAccountId(d.asset, 'deposit_wallets'), amount_minor: d.amount_minor, asset: d.asset, reason: 'deposit_reversed_absorbed', reference: ids.post }], 'deposit reversal');
    } else expectApplied([first!], 'deposit reversal');
    await raiseIncident(trx, 'deposit_reversed', 'deposit', d.id, {
      deposit_id: d.id,
      user_id: d.user_id,
      asset: d.asset,
      amount_minor: d.amount_minor.toString(),
      tx_hash: d.tx_hash,
      correcting_transfer_id: ids.reverse,
      released_transfer_id: ids.post,
      taken_from: absorbed ? 'corrections (the user had already spent it)' : d.credit_kind,
    });
  }

  /**
   * Releases deposits at depth below the verified tip, in chain order, as ONE batch: one
   * transaction, one ledger call posting every pending transfer, the deposits marked in bulk
   * (only those still confirming: a concurrent release finds nothing left to move), their
   * payments moved in bulk (timeline + outbox), invoices told once. At most RELEASE_PER_TICK_MAX
   * per tick; `more` says the tick was full, so the worker ticks again at once. Then refreshes
   * the shown confirmations of the deposits still counting.
   */
  async function releaseAtDepth(tip: number, refresh: boolean): Promise<{ released: number; more: boolean }> {
    // A maintenance window on the chain holds releases back; once it is over, they go in chain order.
    const window = (await deps.maintenanceBlocking?.(chain_id)) ?? null;
    let released = 0;
    let more = false;
    if (window) await holdForMaintenance(tip, window);
    else {
      const r = await db.transaction(async (trx) => {
        const due = await store.selectDue(trx, chain_id, tip, RELEASE_PER_TICK_MAX);
        if (due.length === 0) return { released: 0, due: 0 };
        await applyTransfers(
          trx,
          due.map((d) => ({ id: depositTransferIds(chain_id, d.tx_hash, d.log_index, d.generation).post, post_pending_id: d.pending_transfer_id, reason: 'deposit_released', reference: d.id })),
          'deposit release',
        );
        const now = clock.now_ms();
        const byStatus = (s: DepositStatus) => due.filter((d) => (d.credit_kind === 'user_held' ? 'held' : 'credited') === s).map((d) => d.id);
        const moved = new Set([...(await store.markReleased(trx, byStatus('credited'), 'credited', now)), ...(await store.markReleased(trx, byStatus('held'), 'held', now))]);
        const ready = due.filter((d) => moved.has(d.id));
        await transitionPaymentsBulk(
          trx,
          ready.map((d) => ({
            id: d.payment_id,
            change: { status: d.credit_kind === 'user_held' ? 'held' : 'credited', hold: d.hold_reason as HoldReason | null, confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } },
          })),
          clock,
        );
        if (ready.length) await deps.onDepositChange?.(trx, ready.map((d) => d.id)); // extension point (invoices)
        for (const user_id of new Set(ready.filter((d) => d.hold_reason === 'account_frozen').map((d) => d.user_id))) await deps.releaseHeld?.(trx, user_id);
        return { released: ready.length, due: due.length };
      });
      released = r.released;
      more = r.due === RELEASE_PER_TICK_MAX;
    }
    if (refresh) {
      // Bounded: the shown count of the oldest deposits is refreshed first; the rest catch up on
      // later blocks (their release never depends on it).
      const counting = await store.selectCounting(db.kysely, chain_id, tip, CONFIRMATION_REFRESH_MAX);
      if (counting.length) {
        await db.transaction((trx) =>
          transitionPaymentsBulk(trx, counting.map((d) => ({ id: d.payment_id, change: { status: 'confirming', confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } } })), clock),
        );
      }
    }
    return { released, more };
  }

  /**
   * A maintenance window blocks the chain: deposits at depth are not released. The deposit row
   * stays `confirming` (its ledger transfer is still pending, as reconciliation expects); its
   * payment shows `held` / `maintenance` (ETA: the window's end) with its confirmations still
   * counted, and is released by the first tick that finds no window.
   */
  async function holdForMaintenance(tip: number, window: BlockingWindow): Promise<void> {
    // Kept with the hold, so the timeline still says which window and until when after it ended.
    const params = { message: window.message, ...(window.message_zh ? { message_zh: window.message_zh } : {}), ends_at: isoTime(window.ends_at_ms) };
    await db.transaction(async (trx) => {
      const atDepth = await store.selectDue(trx, chain_id, tip, RELEASE_PER_TICK_MAX);
      const changes: Array<{ id: string; change: PaymentChange }> = atDepth.map((d) => ({
        id: d.payment_id,
        change: { status: 'held', hold: 'maintenance', params, confirmations: { current: confirmationsAt(tip, d.block_number), required: d.confirmations_required } },
      }));
      await transitionPaymentsBulk(trx, changes, clock);
    });
  }

  let lastTip = -1;

  async function tick(): Promise<TickReport> {
    const report: TickReport = { head: null, scanned_from: null, scanned_to: null, detected: 0, released: 0, reorg_depth: 0, dropped: 0, reversed: 0, caught_up: false, release_more: false, aborted: null };
    const head = await reader.head();
    report.head = head;
    addHeadSample(samples, { number: head, seen_at_ms: clock.now_ms() });
    let cursor = await loadCursor(head);
    const reorg = await findReorg(cursor.next_block, head);
    if (reorg) {
      report.reorg_depth = cursor.next_block - 1 - reorg.ancestor;
      log('warn', 'reorg detected: rolling back to the common ancestor', { chain_id, ancestor: reorg.ancestor, depth: report.reorg_depth });
      m?.reorgs.inc(labels);
      await rollBack(cursor.next_block, reorg.ancestor, reorg.beyond_window);
      cursor = (await store.selectCursor(db.kysely, chain_id))!;
    }
    const from = cursor.next_block;
    const to = Math.min(head, from + deps.blocks_per_tick_max - 1);
    let next = from;
    if (from <= to) {
      const r = await scanRange(from, to, head);
      if (!r.ok) {
        report.aborted = r.reason;
        log('warn', 'scan abandoned for this tick', { chain_id, from, to, reason: r.reason });
        return report;
      }
      report.scanned_from = from;
      report.scanned_to = to;
      report.detected = r.detected;
      next = to + 1;
      if (r.detected) m?.detected.inc(labels, r.detected);
      if (head - to > 0) log('info', 'deposit scanner catching up', { chain_id, scanned_to: to, head, behind_blocks: head - to });
    } else {
      await store.updateCursorTiming(db.kysely, chain_id, { head, head_seen_at_ms: headSeenAt(head), block_time_ms: observedBlockTimeMs(samples), updated_at_ms: clock.now_ms() });
    }
    report.caught_up = next > head;
    if (report.caught_up) {
      const o = await settleOrphans();
      report.dropped = o.dropped;
      report.reversed = o.reversed;
    }
    const tip = next - 1;
    const r = await releaseAtDepth(tip, tip !== lastTip);
    report.released = r.released;
    report.release_more = r.more;
    lastTip = tip;
    if (report.released) m?.released.inc(labels, report.released);
    m?.cursor.set(labels, next);
    m?.head.set(labels, head);
    m?.lag.set(labels, Math.max(0, head - tip));
    return report;
  }

  // The worker: one tick at a time, at the chain's pace; at once again while catching up or while
  // more deposits are due than one release batch holds. Between full ticks (at least one per
  // interval) it only asks the node for its head, a few times per interval, and ticks as soon as a
  // new block is there: a block reaching depth is released a fraction of an interval after it is
  // mined instead of up to a whole one.
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;
  const interval = chain.poll_interval_ms ?? 1000;
  const headPoll = Math.max(50, Math.floor(interval / 5));
  let lastHead: number | null = null;
  let lastTickAt = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = (async () => {
        const started = Date.now();
        let again = interval;
        try {
          if (lastHead !== null && started - lastTickAt < interval - headPoll && (await reader.head()) === lastHead) {
            again = headPoll; // nothing new yet
            return;
          }
          lastTickAt = started;
          const r = await tick();
          lastHead = r.head;
          again = Math.min(headPoll, Math.max(0, interval - (Date.now() - started)));
          if ((r.scanned_to !== null && !r.caught_up) || r.release_more) again = 0;
        } catch (error) {
          m?.errors.inc(labels);
          if (error instanceof ChainRpcError) log('warn', 'deposit scanner: chain unreachable or moved, retrying', { chain_id, err: error.message });
          else log('error', 'deposit scanner tick failed', { chain_id, err: (error as Error)?.stack ?? String(error) });
        } finally {
          running = null;
          schedule(again);
        }
      })();
    }, ms);
  };

  async function ingest(header: BlockHeader, transfers: Seen[], head: number): Promise<number> {
    const owners = await ownersOf();
    const internal = new Set((deps.platformAddresses?.() ?? []).map((a) => a.toLowerCase() as Hex));
    const found = transfers
      .filter((s) => s.t.block_hash === header.hash && s.t.block_number === header.number && owners.has(s.t.to) && s.t.amount_minor > 0n && !internal.has(s.t.from))
      .filter((s) => (s.kind === 'native' ? native !== null : tokens.has(s.t.token)))
      .map((s) => ({ ...s, header }) as Found);
    if (!found.length) return 0;
    return db.transaction(async (trx) => {
      const { n, ids } = await recordFound(trx, found, owners, Math.max(head, header.number));
      await deps.onDepositChange?.(trx, ids); // extension point (invoices)
      return n;
    });
  }

  return {
    chain_id,
    name: `deposit-scanner:${chain_id}`,
    tick,
    ingest,
    start() {
      assert(stopped, 'scanner already started');
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
