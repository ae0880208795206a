// How P2P coins move in the ledger (docs/decisions/0020-p2p-escrow-accounting.md). Every move is
// one linked batch inside the caller's transaction:
// - a sell ad's reservation is ONE pending transfer seller available -> the platform's escrow
//   account of the asset; when it changes (an order takes a part, a cancelled order gives it
//   back, the ad closes) the current one is voided and the next one (`:res:<seq+1>`) made for
//   the new remainder, in the same linked batch, so the seller's pending_out never blinks;
// - an order's escrow is a pending transfer seller available -> escrow (`p2p:order:<id>:escrow`);
// - release posts it and pays escrow -> buyer available (linked): the escrow account nets to zero;
// - cancel, auto-cancel and refund void it (and, back to the ad, re-reserve with the remainder).
// Ids are deterministic, so a retried step finds its own transfers ('exists').
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ledgerAccountId, type AccountSpec, type Ledger, type TransferInput, type TransferResult } from '../ledger/ledger.ts';

export const PLATFORM = 'platform';
const NO_LIMIT = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };

export const escrowAccountId = (asset: string): string => ledgerAccountId('platform', PLATFORM, asset, 'escrow');
export const availableId = (user_id: string, asset: string): string => ledgerAccountId('user', user_id, asset, 'user_available');

/** The accounts a trade touches, ready for ensureAccounts. */
export function tradeAccounts(asset: string, user_ids: string[]): AccountSpec[] {
  return [
    { id: escrowAccountId(asset), asset, owner_type: 'platform', owner_id: PLATFORM, kind: 'escrow', flags: NO_LIMIT },
    ...user_ids.map((u): AccountSpec => ({ id: availableId(u, asset), asset, owner_type: 'user', owner_id: u, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } })),
  ];
}

export const reservationId = (ad_id: string, seq: number): string => `p2p:ad:${ad_id}:res:${seq}`;
export const escrowId = (order_id: string): string => `p2p:order:${order_id}:escrow`;

/** A sell ad's reservation as it is, and what it should become. */
export interface Reservation {
  ad_id: string;
  seller_id: string;
  asset: string;
  /** The current pending transfer (null: none) and its sequence. */
  current_id: string | null;
  seq: number;
  /** The amount the next reservation holds (0: none). */
  next_minor: bigint;
}

/** The transfers that replace a reservation: void the current one, reserve the remainder. */
export function reservationMoves(r: Reservation): { moves: TransferInput[]; next_id: string | null; next_seq: number } {
  const moves: TransferInput[] = [];
  if (r.current_id) moves.push({ id: `${r.current_id}:void`, void_pending_id: r.current_id, reason: 'p2p_ad_reservation_replaced', reference: r.ad_id });
  if (r.next_minor === 0n) return { moves, next_id: null, next_seq: r.seq };
  const next_id = reservationId(r.ad_id, r.seq + 1);
  moves.push({ id: next_id, debit_account_id: availableId(r.seller_id, r.asset), credit_account_id: escrowAccountId(r.asset), amount_minor: r.next_minor, asset: r.asset, pending: true, reason: 'p2p_ad_reservation', reference: r.ad_id });
  return { moves, next_id, next_seq: r.seq + 1 };
}

export function lockEscrow(order: { id: string; seller_id: string; asset: string; amount_minor: bigint }): TransferInput {
  return { id: escrowId(order.id), debit_account_id: availableId(order.seller_id, order.asset), credit_account_id: escrowAccountId(order.asset), amount_minor: order.amount_minor, asset: order.asset, pending: true, reason: 'p2p_escrow', reference: order.id };
}

export function releaseEscrow(order: { id: string; buyer_id: string; asset: string; amount_minor: bigint }): TransferInput[] {
  return [
    { id: `${escrowId(order.id)}:post`, post_pending_id: escrowId(order.id), reason: 'p2p_release', reference: order.id },
    { id: `p2p:order:${order.id}:to_buyer`, debit_account_id: escrowAccountId(order.asset), credit_account_id: availableId(order.buyer_id, order.asset), amount_minor: order.amount_minor, asset: order.asset, reason: 'p2p_release', reference: order.id },
  ];
}

export function voidEscrow(order: { id: string }, reason: string): TransferInput {
  return { id: `${escrowId(order.id)}:void`, void_pending_id: escrowId(order.id), reason, reference: order.id };
}

/** Links a batch (each transfer fails with the next) and applies it; the results by id. */
export async function applyLinked(ledger: Ledger, trx: Transaction<Database>, batch: TransferInput[]): Promise<TransferResult[]> {
  const linked = batch.map((t, i) => ({ ...t, linked: i < batch.length - 1 }) as TransferInput);
  return ledger.createTransfersIn(trx, linked);
}

/** The first result that is neither done now nor done before (linked failures point at their cause). */
export function firstFailure(results: TransferResult[]): TransferResult | null {
  return results.find((r) => r.result !== 'ok' && r.result !== 'exists' && r.result !== 'linked_event_failed') ?? results.find((r) => r.result === 'linked_event_failed') ?? null;
}
