// P2P orders: placing one moves its part of the ad's reservation (or, on a buy ad, the taker's
// coins) into the order's escrow in the same transaction as the order row; the buyer marks it
// paid or cancels; the seller releases (coins to the buyer in the same transaction); the payment
// window's end cancels it by itself (a durable job), coins back on the ad. Every change of an
// order runs under that order's lock and is fenced on the status it was read in.
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { enqueueJob } from '../jobs/jobs.ts';
import { ProblemError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { checkOrderAmount, fiatAmount, parsePrice } from './ad-rules.ts';
import { decide, restrictedUntil, STRIKE_WINDOW_MS, type Actor, type CancelReason, type OrderAction, type OrderStatus } from './order-rules.ts';
import { amountOf, assetOf, replaceReservation } from './trade-ads.ts';
import { emitTradeEvent, lockAd, lockOrder, type TradesDeps } from './trade-context.ts';
import { applyLinked, escrowId, firstFailure, lockEscrow, releaseEscrow, tradeAccounts, voidEscrow } from './trade-escrow.ts';
import { insertOrder, insertStrike, selectAd, selectOrder, strikeTimes, updateAd, updateOrder, type AdRow, type OrderRow } from './trades-store.ts';

export const AUTO_CANCEL_JOB = 'p2p.auto_cancel';
export const RELEASE_REMINDER_JOB = 'p2p.release_reminder';

/** 403 p2p_restricted while a buyer's strikes restrict them. */
export async function requireMayBuy(deps: TradesDeps, user_id: string): Promise<void> {
  const s = await deps.standing(user_id);
  if (!s.send.ok) throw new ProblemError(403, s.send.code, 'Your account cannot trade right now.');
  const now = deps.clock.now_ms();
  const until = restrictedUntil(await strikeTimes(deps.db.kysely, user_id, now - STRIKE_WINDOW_MS), now);
  if (until !== null) throw new ProblemError(403, 'p2p_restricted', 'P2P buying is paused on your account after repeated strikes.', { until: new Date(until).toISOString() });
}

/** Whether the ad's owner may trade it now (checked without saying why to the taker). */
async function ownerMayTrade(deps: TradesDeps, ad: AdRow): Promise<boolean> {
  const s = await deps.standing(ad.user_id);
  if (ad.side === 'sell') return s.withdraw.ok;
  if (!s.send.ok) return false;
  const now = deps.clock.now_ms();
  return restrictedUntil(await strikeTimes(deps.db.kysely, ad.user_id, now - STRIKE_WINDOW_MS), now) === null;
}

const unavailable = () => new ProblemError(409, 'ad_unavailable', 'This ad is not taking orders.');

/** Places an order on an ad; the same taker and Idempotency-Key find their order again. */
export async function placeOrder(deps: TradesDeps, taker_id: string, input: { ad_id: string; amount: string; idempotency_key: string }): Promise<{ result: 'created' | 'exists'; order: OrderRow }> {
  const { db, clock, ledger, config } = deps;
  const again = await db.kysely.selectFrom('p2p_orders').selectAll().where('taker_id', '=', taker_id).where('idempotency_key', '=', input.idempotency_key).executeTakeFirst();
  if (again) return { result: 'exists', order: again };
  const seen = await selectAd(db.kysely, input.ad_id);
  if (!seen) throw new ProblemError(404, 'not_found', 'No such ad.');
  if (seen.user_id === taker_id) throw new ProblemError(422, 'own_ad', 'You cannot take your own ad.');
  const asset = assetOf(deps, seen.asset);
  const amount = amountOf(input.amount, asset, 'amount');
  const buyer_id = seen.side === 'sell' ? taker_id : seen.user_id;
  const seller_id = seen.side === 'sell' ? seen.user_id : taker_id;
  if (seen.side === 'sell') await requireMayBuy(deps, taker_id);
  else {
    const s = await deps.standing(taker_id);
    if (!s.withdraw.ok) throw new ProblemError(403, s.withdraw.code, 'Your account cannot sell coins right now.');
  }
  if (seen.status !== 'active' || !(await ownerMayTrade(deps, seen))) throw unavailable();
  await ledger.ensureAccounts(tradeAccounts(asset.code, [buyer_id, seller_id]));
  const now = clock.now_ms();
  return db.transaction(async (trx) => {
    await lockAd(deps, trx, seen.id);
    const ad = (await selectAd(trx, seen.id))!;
    if (ad.status !== 'active') throw unavailable();
    const check = checkOrderAmount(amount, { min_minor: ad.min_amount_minor, max_minor: ad.max_amount_minor, available_minor: ad.available_minor });
    if (!check.ok) throw new ProblemError(check.status, check.code, check.detail);
    const order: OrderRow = {
      id: newId('ord', now), ad_id: ad.id, buyer_id, seller_id, taker_id, idempotency_key: input.idempotency_key,
      asset: ad.asset, fiat: ad.fiat, price: ad.price, amount_minor: amount, fiat_amount: fiatAmount(amount, asset.decimals, parsePrice(ad.price)!),
      status: 'pending_payment', pay_by_ms: now + config.p2p.payment_window_s * 1000, release_by_ms: null, paid_at_ms: null, released_at_ms: null, closed_at_ms: null,
      cancel_reason: null, appeal_case_id: null, appeal_by: null, appeal_reason: null, paid_note: null, paid_attachments: '[]', escrow_id: '', created_at_ms: now, updated_at_ms: now,
    };
    order.escrow_id = escrowId(order.id);
    const remaining = ad.available_minor - amount;
    if (ad.side === 'sell') {
      const next = await replaceReservation(deps, trx, ad, remaining, [lockEscrow(order)]);
      if (!(await updateAd(trx, ad.id, ad.reservation_seq, { ...next, updated_at_ms: now }))) throw new Error(`ad ${ad.id} moved under its lock`);
    } else {
      const bad = firstFailure(await applyLinked(ledger, trx, [lockEscrow(order)]));
      if (bad?.result === 'exceeds_credits') throw new ProblemError(422, 'insufficient_funds', 'Your available balance does not cover the amount.');
      if (bad) throw new Error(`order ${order.id}: escrow refused by the ledger: ${bad.result}`);
      if (!(await updateAd(trx, ad.id, ad.reservation_seq, { available_minor: remaining, updated_at_ms: now }))) throw new Error(`ad ${ad.id} moved under its lock`);
    }
    await insertOrder(trx, order);
    await enqueueJob(trx, AUTO_CANCEL_JOB, { order_id: order.id }, { run_at_ms: order.pay_by_ms, unique_key: `${AUTO_CANCEL_JOB}:${order.id}` }, clock);
    await emitTradeEvent(deps, trx, order, 'trade.created');
    return { result: 'created' as const, order };
  });
}

/** Which party the user is on an order, or null (a stranger: the order does not exist for them). */
export function roleOf(order: Pick<OrderRow, 'buyer_id' | 'seller_id'>, user_id: string): 'buyer' | 'seller' | null {
  if (order.buyer_id === user_id) return 'buyer';
  if (order.seller_id === user_id) return 'seller';
  return null;
}

export interface ActInput {
  note?: string | undefined;
  attachment_ids?: string[] | undefined;
  reason?: string | undefined;
}

/**
 * One step of an order by one of its parties (or the system, or staff): decided by the rules,
 * applied with its ledger moves under the order's lock, answered with the order as it is now.
 */
export async function act(deps: TradesDeps, who: Who, order_id: string, action: OrderAction, input: ActInput = {}): Promise<OrderRow> {
  const { db } = deps;
  const seen = await selectOrder(db.kysely, order_id);
  if (!seen || !actorOf(seen, who)) throw new ProblemError(404, 'not_found', 'No such order of yours.');
  await deps.ledger.ensureAccounts(tradeAccounts(seen.asset, [seen.buyer_id, seen.seller_id]));
  return db.transaction((trx) => actIn(deps, trx, who, order_id, action, input));
}

export interface Who {
  user_id: string | null;
  actor: 'party' | 'staff' | 'system';
}

/** act() inside the caller's transaction (the window jobs commit it with their completion). */
export async function actIn(deps: TradesDeps, trx: Transaction<Database>, who: Who, order_id: string, action: OrderAction, input: ActInput = {}): Promise<OrderRow> {
  await lockOrder(deps, trx, order_id);
  const order = await selectOrder(trx, order_id);
  const actor = order ? actorOf(order, who) : null;
  if (!order || !actor) throw new ProblemError(404, 'not_found', 'No such order of yours.');
  const now = deps.clock.now_ms();
  const d = decide({ status: order.status as OrderStatus, pay_by_ms: Number(order.pay_by_ms), release_by_ms: order.release_by_ms === null ? null : Number(order.release_by_ms) }, action, actor, now);
  if (d.ok === 'already') return order;
  if (d.ok === false) throw new ProblemError(d.status, d.code, d.detail);
  const patch = await applyStep(deps, trx, order, action, actor, d.to, now, input);
  if (!(await updateOrder(trx, order.id, order.status, { ...patch, status: d.to, updated_at_ms: now }))) throw new Error(`order ${order.id} moved under its lock`);
  const after = { ...order, ...patch, status: d.to, updated_at_ms: now };
  if (d.strike) await insertStrike(trx, { id: newId('stk', now), user_id: order.buyer_id, order_id: order.id, reason: 'cancelled_after_paid', created_at_ms: now });
  await emitTradeEvent(deps, trx, after, `trade.${d.to}`);
  return after;
}

function actorOf(order: OrderRow, who: Who): Actor | null {
  if (who.actor !== 'party') return who.actor;
  return who.user_id ? roleOf(order, who.user_id) : null;
}

/** The ledger moves and columns of a step. */
async function applyStep(deps: TradesDeps, trx: Transaction<Database>, order: OrderRow, action: OrderAction, actor: Actor, to: OrderStatus, now: number, input: ActInput): Promise<Partial<OrderRow>> {
  switch (to) {
    case 'paid': {
      const release_by_ms = now + deps.config.p2p.release_window_s * 1000;
      await enqueueJob(trx, RELEASE_REMINDER_JOB, { order_id: order.id }, { run_at_ms: release_by_ms, unique_key: `${RELEASE_REMINDER_JOB}:${order.id}` }, deps.clock);
      return { paid_at_ms: now, release_by_ms, paid_note: input.note ?? null, paid_attachments: JSON.stringify(input.attachment_ids ?? []) };
    }
    case 'completed': {
      const bad = firstFailure(await applyLinked(deps.ledger, trx, releaseEscrow(order)));
      if (bad) throw new Error(`order ${order.id}: release refused by the ledger: ${bad.result}`);
      return { released_at_ms: now, closed_at_ms: now };
    }
    case 'cancelled': {
      const reason: CancelReason = action === 'auto_cancel' ? 'payment_window_elapsed' : 'buyer_cancelled';
      await returnToAd(deps, trx, order, reason);
      return { cancel_reason: reason, closed_at_ms: now };
    }
    case 'refunded': {
      // The appeal found for the seller: the escrow goes back to the seller's available balance.
      const bad = firstFailure(await applyLinked(deps.ledger, trx, [voidEscrow(order, 'p2p_refund')]));
      if (bad) throw new Error(`order ${order.id}: refund refused by the ledger: ${bad.result}`);
      return { closed_at_ms: now };
    }
    case 'appeal':
      return { appeal_by: actor, appeal_reason: input.reason ?? null };
    case 'pending_payment':
      throw new Error('no step leads back to pending_payment');
  }
}

/** A cancelled order's coins go back to its ad (re-reserved) while the ad is open, else to the seller. */
async function returnToAd(deps: TradesDeps, trx: Transaction<Database>, order: OrderRow, reason: CancelReason): Promise<void> {
  await lockAd(deps, trx, order.ad_id);
  const ad = await selectAd(trx, order.ad_id);
  const release = voidEscrow(order, reason === 'payment_window_elapsed' ? 'p2p_payment_window_elapsed' : 'p2p_buyer_cancelled');
  const now = deps.clock.now_ms();
  if (ad && ad.status !== 'closed' && ad.side === 'sell') {
    const next = await replaceReservation(deps, trx, ad, ad.available_minor + order.amount_minor, [], [release]);
    if (!(await updateAd(trx, ad.id, ad.reservation_seq, { ...next, updated_at_ms: now }))) throw new Error(`ad ${ad.id} moved under its lock`);
    return;
  }
  const bad = firstFailure(await applyLinked(deps.ledger, trx, [release]));
  if (bad) throw new Error(`order ${order.id}: void refused by the ledger: ${bad.result}`);
  if (ad && ad.status !== 'closed') await updateAd(trx, ad.id, ad.reservation_seq, { available_minor: ad.available_minor + order.amount_minor, updated_at_ms: now });
}

export async function getOrder(deps: TradesDeps, id: string): Promise<OrderRow | null> {
  return selectOrder(deps.db.kysely, id);
}
