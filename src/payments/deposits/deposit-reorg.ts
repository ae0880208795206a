// Reorg handling, one part of the deposit scanner (deposit-scanner.ts). The node never tells us
// about removed logs: the stored block hashes are the only truth. Each tick checks the hash of
// the last scanned block against the chain; on a mismatch it walks back to the common ancestor,
// marks the deposits above it orphaned and moves the cursor back (a reorg deeper than the kept
// window is an incident). A deposit seen again re-attaches to its new block (a dropped one comes
// back with a new generation of ledger transfers). Once the scan has caught up, the orphans left
// are settled: dropped (pending transfer voided) or, if already released, reversed with a
// correcting transfer and an incident for staff.
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Hex } from '../../chain/chain.ts';
import { ChainRpcError } from '../../chain/chain.ts';
import { platformAccountId } from '../custody/chart.ts';
import { transitionPayment } from '../payments.ts';
import type { DepositStatus, HoldReason } from '../payment-rules.ts';
import { confirmationsAt, depositTransferIds, orphanOutcome } from './deposit-rules.ts';
import { applyTransfers, expectApplied, raiseIncident, userAccount, type Found, type ScanContext } from './deposit-scan-context.ts';
import * as store from './deposit-store.ts';
import type { DepositRow } from './deposit-store.ts';

/** Orphaned deposits settled per tick. */
const OPEN_DEPOSITS_PER_TICK_MAX = 5000;

/** Finds the common ancestor when the last scanned block is no longer on the chain; null if it is. */
export async function findReorg(s: ScanContext, next_block: number, head: number): Promise<{ ancestor: number; beyond_window: boolean } | null> {
  const { db, reader, chain_id } = s;
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

/** Moves the cursor back to the ancestor and orphans the deposits above it, in one transaction. */
export async function rollBack(s: ScanContext, from_next: number, ancestor: number, beyond_window: boolean): Promise<void> {
  const { db, clock, chain_id } = s;
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
      await raiseIncident(s, trx, 'reorg_beyond_window', 'chain', `${chain_id}:${ancestor + 1}:${now}`, { chain_id, ancestor, scanned_to: from_next - 1 });
    }
  });
}

/** A known deposit seen in a (possibly new) block: re-attach it; a dropped one comes back. */
export async function reattach(s: ScanContext, trx: Transaction<Database>, d: DepositRow, f: Found, tip: number): Promise<void> {
  const { clock, chain_id, log } = s;
  const now = clock.now_ms();
  if (d.orphaned === 0 && d.block_hash === f.header.hash) return;
  const where = { block_number: f.header.number, block_hash: f.header.hash, block_timestamp_s: f.header.timestamp_s, orphaned: 0, updated_at_ms: now };
  const status = d.status as DepositStatus;
  const chainInfo = { chain_id, tx_hash: d.tx_hash, log_index: d.log_index < 0 ? null : d.log_index, block_number: f.header.number, from: d.from_address, to: d.to_address, token: d.token_address };
  if (status === 'dropped') {
    // Re-included after it was declared dropped: a new generation of ledger transfers.
    const generation = d.generation + 1;
    const ids = depositTransferIds(chain_id, d.tx_hash, d.log_index, generation);
    await applyTransfers(s, trx, [{ id: ids.pending, debit_account_id: platformAccountId(d.asset, 'deposit_wallets'), credit_account_id: userAccount(d.user_id, d.asset, d.credit_kind as 'user_available' | 'user_held'), amount_minor: d.amount_minor, asset: d.asset, pending: true, reason: 'deposit', reference: d.id }], 'deposit re-inclusion');
    await store.updateDeposit(trx, d.id, { ...where, status: 'confirming', generation, pending_transfer_id: ids.pending });
    await transitionPayment(trx, d.payment_id, { status: 'confirming', hold: d.hold_reason as HoldReason | null, confirmations: { current: confirmationsAt(tip, f.header.number), required: d.confirmations_required }, chain: chainInfo }, clock);
    log('info', 'deposit re-included after being dropped', { chain_id, deposit_id: d.id, block: f.header.number });
    return;
  }
  if (status === 'reversed' || status === 'refunded') {
    await raiseIncident(s, trx, 'reversed_deposit_reincluded', 'deposit', `${d.id}:${f.header.hash}`, { deposit_id: d.id, tx_hash: d.tx_hash, block_number: f.header.number });
    await store.updateDeposit(trx, d.id, where);
    return;
  }
  await store.updateDeposit(trx, d.id, where);
  await transitionPayment(trx, d.payment_id, { status, chain: chainInfo, ...(status === 'confirming' ? { confirmations: { current: confirmationsAt(tip, f.header.number), required: d.confirmations_required } } : {}) }, clock);
  if (d.orphaned) log('info', 'deposit re-included in another block', { chain_id, deposit_id: d.id, block: f.header.number });
}

/** Settles orphans once the scan has caught up: dropped (voided) or reversed (incident). */
export async function settleOrphans(s: ScanContext): Promise<{ dropped: number; reversed: number }> {
  const { db, reader, clock, chain_id, deps } = s;
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
          await applyTransfers(s, trx, [{ id: ids.void, void_pending_id: d.pending_transfer_id, reason: 'deposit_dropped', reference: d.id }], 'deposit drop');
          await store.updateDeposit(trx, d.id, { status: 'dropped', orphaned: 0, block_number: null, block_hash: null, updated_at_ms: now });
          await transitionPayment(trx, d.payment_id, { status: 'dropped', confirmations: null }, clock);
          break;
        case 'reverse':
          await reverse(s, trx, d, ids);
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
async function reverse(s: ScanContext, trx: Transaction<Database>, d: DepositRow, ids: ReturnType<typeof depositTransferIds>): Promise<void> {
  const { ledger } = s;
  // A credited deposit's coins are available (a held one released on unfreeze included).
  const from = userAccount(d.user_id, d.asset, d.status === 'credited' ? 'user_available' : (d.credit_kind as 'user_available' | 'user_held'));
  const [first] = await ledger.createTransfersIn(trx, [{ id: ids.reverse, debit_account_id: from, credit_account_id: platformAccountId(d.asset, 'deposit_wallets'), amount_minor: d.amount_minor, asset: d.asset, reason: 'deposit_reversed', reference: ids.post }]);
  let absorbed = false;
  if (first!.result === 'exceeds_credits' || first!.result === 'exceeds_debits') {
    absorbed = true;
    await applyTransfers(s, trx, [{ id: ids.reverse, debit_account_id: platformAccountId(d.asset, 'corrections'), credit_account_id: platformAccountId(d.asset, 'deposit_wallets'), amount_minor: d.amount_minor, asset: d.asset, reason: 'deposit_reversed_absorbed', reference: ids.post }], 'deposit reversal');
  } else expectApplied([first!], 'deposit reversal');
  await raiseIncident(s, trx, 'deposit_reversed', 'deposit', d.id, {
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
