// Deposit detection, one part of the scanner (deposit-scanner.ts): reads a bounded block range's
// headers, ERC-20 Transfer logs of the configured tokens and native transfers, checks that every
// log belongs to the headers read (else the chain moved under us and the tick is abandoned), and
// in ONE transaction stores the blocks, every new deposit with its PENDING ledger transfer and
// payment (outbox event included), and the advanced cursor. New deposits are stored in bulk (a
// statement per table per chunk); a deposit seen again is re-attached (deposit-reorg.ts).
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { TransferInput } from '../../ledger/ledger.ts';
import type { BlockHeader, Hex, NativeTransfer, OursFilter } from '../../chain/chain.ts';
import { ChainRpcError } from '../../chain/chain.ts';
import { platformAccountId } from '../custody/chart.ts';
import { depositAddressOwners, firstScanBlock } from '../custody/deposit-addresses.ts';
import { observedBlockTimeMs } from '../payment-eta-rules.ts';
import type { NewPayment } from '../payments.ts';
import { createPaymentsBulk } from './deposit-payments.ts';
import { reattach } from './deposit-reorg.ts';
import { confirmationsAt, creditDecision, depositId, depositPaymentId, depositTransferIds, nativeLogIndex, requiredConfirmations, type ChainAsset, type ReceiveMode } from './deposit-rules.ts';
import { applyTransfers, ensureAccounts, userAccount, type Found, type Owner, type ScanContext, type Seen } from './deposit-scan-context.ts';
import * as store from './deposit-store.ts';
import type { DepositRow } from './deposit-store.ts';

/** Blocks kept below the cursor for reorg detection; a deeper reorg is raised as an incident. */
export const REORG_WINDOW_BLOCKS = 256;
/** Blocks fetched in parallel for native transfers. */
const NATIVE_BLOCKS_PARALLEL_MAX = 8;

/** A transfer to record as a new deposit: its deposit id and log index, its owner and asset. */
type Fresh = { f: Found; log_index: number; id: string; user_id: string; invoice_id: string | undefined; asset: ChainAsset };

/** The cursor, created on first use: never after start_block or the earliest address's issue block. */
export async function loadCursor(s: ScanContext, head: number): Promise<store.CursorRow> {
  const { db, chain, clock, chain_id, log } = s;
  const existing = await store.selectCursor(db.kysely, chain_id);
  if (existing) return existing;
  const next_block = (await firstScanBlock(db.kysely, chain_id, chain.start_block)) ?? head + 1;
  await store.insertCursorIfAbsent(db.kysely, { chain_id, next_block, head, head_seen_at_ms: clock.now_ms(), block_time_ms: null, updated_at_ms: clock.now_ms() });
  log('info', 'deposit scanner: cursor created', { chain_id, next_block });
  return (await store.selectCursor(db.kysely, chain_id))!;
}

/** Scans [from, to]; false when the chain moved under the read (the next tick sorts it out). */
export async function scanRange(s: ScanContext, from: number, to: number, head: number): Promise<{ ok: true; detected: number } | { ok: false; reason: string }> {
  const { db, reader, clock, chain_id, tokenList, samples, log, deps } = s;
  const { owners, ours } = ownerLookup(s);
  const internal = new Set((deps.platformAddresses?.() ?? []).map((a) => a.toLowerCase() as Hex));
  const [range, logs] = await Promise.all([readRange(s, from, to, ours), reader.tokenTransfers(from, to, tokenList)]);
  if (!range) return { ok: false, reason: 'node does not have the whole range yet' };
  await ours(logs.filter((t) => t.amount_minor > 0n).map((t) => t.to));
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
    const { n, ids } = await recordFound(s, trx, found, owners, to);
    await deps.onDepositChange?.(trx, ids); // extension point (invoices)
    const moved = await store.advanceCursor(trx, chain_id, from, { next_block: to + 1, head, head_seen_at_ms: headSeenAt(s, head), block_time_ms: observedBlockTimeMs(samples), updated_at_ms: now });
    if (!moved) throw new ChainRpcError('cursor moved by another scanner or an address issue', 'scan');
    await store.deleteBlocksBelow(trx, chain_id, to - REORG_WINDOW_BLOCKS);
    return n;
  });
  return { ok: true, detected };
}

/** Headers (and native transfers) for [from, to]; null when the node does not have them all. */
export async function readRange(s: ScanContext, from: number, to: number, ours: OursFilter): Promise<{ headers: BlockHeader[]; natives: NativeTransfer[] } | null> {
  const { reader, native } = s;
  if (!native) {
    const headers = await reader.blocks(from, to);
    return headers.length === to - from + 1 ? { headers, natives: [] } : null;
  }
  const headers: BlockHeader[] = [];
  const natives: NativeTransfer[] = [];
  for (let n = from; n <= to; n += NATIVE_BLOCKS_PARALLEL_MAX) {
    const part = await Promise.all(Array.from({ length: Math.min(NATIVE_BLOCKS_PARALLEL_MAX, to - n + 1) }, (_, i) => reader.nativeTransfers(n + i, ours)));
    for (const p of part) {
      if (!p) return null;
      headers.push(p.header);
      natives.push(...p.transfers);
    }
  }
  return { headers, natives };
}

/**
 * One read's owner lookup: `ours` looks up the recipients it is asked about (deposit addresses,
 * then invoice addresses: the extension point credits them to their merchant), each address once,
 * and `owners` holds every owner found so far. Only addresses the chain's range mentions are ever
 * read, so a tick costs the same with ten addresses or ten million.
 */
export function ownerLookup(s: ScanContext): { owners: Map<Hex, Owner>; ours: OursFilter } {
  const { db, chain_id, deps } = s;
  const owners = new Map<Hex, Owner>();
  // Blocks are read in parallel: an address another block is already looking up waits for it.
  const asked = new Map<Hex, Promise<void>>();
  const lookUp = async (fresh: Hex[]) => {
    for (const [a, o] of await depositAddressOwners(db.kysely, chain_id, fresh)) owners.set(a, o);
    const rest = fresh.filter((a) => !owners.has(a));
    if (rest.length && deps.extraOwners) for (const [a, o] of await deps.extraOwners(db.kysely, chain_id, rest)) if (!owners.has(a)) owners.set(a, o);
  };
  const ours: OursFilter = async (candidates) => {
    const fresh = [...new Set(candidates.filter((a) => !asked.has(a)))];
    if (fresh.length) {
      const done = lookUp(fresh);
      for (const a of fresh) asked.set(a, done);
    }
    await Promise.all(new Set(candidates.map((a) => asked.get(a)!)));
    return new Set(candidates.filter((a) => owners.has(a)));
  };
  return { owners, ours };
}

/** The configured asset a found transfer pays in (the scan keeps only configured ones). */
export function assetOf(s: ScanContext, f: Found): ChainAsset {
  const { native, tokens } = s;
  return f.kind === 'native' ? native! : tokens.get(f.t.token)!;
}

/** Stores new deposits (pending ledger transfer + payment) and re-attaches re-seen ones, in trx. */
export async function recordFound(s: ScanContext, trx: Transaction<Database>, found: Found[], owners: Map<Hex, Owner>, tip: number): Promise<{ n: number; ids: string[] }> {
  const { clock, chain_id, deps } = s;
  const now = clock.now_ms();
  const keyed = found.map((f) => {
    const log_index = f.kind === 'token' ? f.t.log_index : nativeLogIndex(f.t.internal_index);
    return { f, log_index, id: depositId(chain_id, f.t.tx_hash, log_index) };
  });
  const existing = new Map((await store.selectDeposits(trx, keyed.map((k) => k.id))).map((d) => [d.id, d]));
  const fresh: Fresh[] = [];
  const freshIds = new Set<string>();
  for (const k of keyed) {
    const id = k.id;
    const d = existing.get(id);
    if (d) await reattach(s, trx, d, k.f, tip);
    else if (!freshIds.has(id)) {
      freshIds.add(id);
      const owner = owners.get(k.f.t.to)!;
      fresh.push({ ...k, id, user_id: owner.user_id, invoice_id: owner.invoice_id, asset: assetOf(s, k.f) });
    }
  }
  const result = { n: fresh.length, ids: keyed.map((k) => k.id) };
  if (fresh.length === 0) return result;
  await ensureAccounts(s, trx, fresh.map((x) => ({ user_id: x.user_id, asset: x.asset.code })));
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
    const made = newDeposit(s, x, mode, tip, now);
    transfers.push(made.transfer);
    rows.push(made.row);
    payments.push(made.payment);
  }
  // In bulk: one ledger call for the range's pending transfers, then a statement per table per chunk.
  await applyTransfers(s, trx, transfers, 'deposit detection');
  await store.insertDeposits(trx, rows);
  await createPaymentsBulk(trx, payments, clock);
  return result;
}

/** A new deposit's pending ledger transfer, row and payment, as the account's receive mode decides. */
function newDeposit(s: ScanContext, x: Fresh, mode: ReceiveMode, tip: number, now: number): { transfer: TransferInput; row: DepositRow; payment: NewPayment } {
  const { chain_id } = s;
  const decision = creditDecision(mode, x.f.t.amount_minor, x.asset.min_deposit_minor);
  const ids = depositTransferIds(chain_id, x.f.t.tx_hash, x.log_index, 0);
  const transfer: TransferInput = {
    id: ids.pending,
    debit_account_id: platformAccountId(x.asset.code, 'deposit_wallets'),
    credit_account_id: userAccount(x.user_id, x.asset.code, decision.credit_kind),
    amount_minor: x.f.t.amount_minor,
    asset: x.asset.code,
    pending: true,
    reason: 'deposit',
    reference: x.id,
  };
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
  // A payment into an invoice's address is the merchant's invoice payment (kind `invoice`).
  const payment: NewPayment = {
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
  };
  return { transfer, row, payment };
}

/** When the head was first seen (the tick records it before scanning). */
export function headSeenAt(s: ScanContext, head: number): number {
  const { clock, samples } = s;
  return samples.find((x) => x.number === head)?.seen_at_ms ?? clock.now_ms();
}

/**
 * Records one transaction's transfers read outside a tick (diagnosis pick-up, deposit-ingest.ts)
 * with the scan's filters and records; the cursor does not move. Returns the deposits new.
 */
export async function ingestSeen(s: ScanContext, header: BlockHeader, transfers: Seen[], head: number): Promise<number> {
  const { db, native, tokens, deps } = s;
  const { owners, ours } = ownerLookup(s);
  await ours(transfers.map((x) => x.t.to));
  const internal = new Set((deps.platformAddresses?.() ?? []).map((a) => a.toLowerCase() as Hex));
  const found = transfers
    .filter((x) => x.t.block_hash === header.hash && x.t.block_number === header.number && owners.has(x.t.to) && x.t.amount_minor > 0n && !internal.has(x.t.from))
    .filter((x) => (x.kind === 'native' ? native !== null : tokens.has(x.t.token)))
    .map((x) => ({ ...x, header }) as Found);
  if (!found.length) return 0;
  return db.transaction(async (trx) => {
    const { n, ids } = await recordFound(s, trx, found, owners, Math.max(head, header.number));
    await deps.onDepositChange?.(trx, ids); // extension point (invoices)
    return n;
  });
}
