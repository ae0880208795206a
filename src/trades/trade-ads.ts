// P2P ads: post (a sell ad reserves its amount in the ledger in the same transaction as the ad
// row), read, list best price first, and the owner's status changes (closing voids what is left
// of the reservation). An ad of a frozen owner pauses by itself (pauseAdsOf, from the outbox).
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { ProblemError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { parseAmount } from '../shared/money.ts';
import { bestFirstAscending, canSetAdStatus, checkNewAd, parsePrice, priceKey, type AdSide, type AdStatus } from './ad-rules.ts';
import { applyLinked, firstFailure, reservationMoves, tradeAccounts } from './trade-escrow.ts';
import { lockAd, tradeAssets, type TradeAsset, type TradesDeps } from './trade-context.ts';
import { insertAd, openAdsOf, queryAds, selectAd, updateAd, type AdRow } from './trades-store.ts';

export interface NewAd {
  side: AdSide;
  asset: string;
  fiat: string;
  price: string;
  min_amount: string;
  max_amount: string;
  amount: string;
  payment_methods: string[];
  terms: string;
}

export function assetOf(deps: TradesDeps, code: string): TradeAsset {
  const a = tradeAssets(deps.config).get(code);
  if (!a) throw new ProblemError(422, 'unknown_asset', `No configured asset is called ${code}.`);
  return a;
}

export function amountOf(text: string, asset: TradeAsset, field: string): bigint {
  const parsed = parseAmount(text, asset.decimals);
  if (!parsed.ok) throw new ProblemError(422, 'invalid_amount', `${field}: ${parsed.reason.replace(/_/g, ' ')} for ${asset.code} (${asset.decimals} decimals).`);
  return parsed.amount_minor;
}

/** Refuses selling to an account that may not send coins out now (frozen, restricted, cool-down). */
export async function requireMaySell(deps: TradesDeps, user_id: string): Promise<void> {
  const s = await deps.standing(user_id);
  if (!s.withdraw.ok) throw new ProblemError(403, s.withdraw.code, 'Your account cannot sell coins right now.', s.withdraw.until_ms ? { until: new Date(s.withdraw.until_ms).toISOString() } : {});
}

/** Posts an ad; a sell ad's amount is reserved from the owner's available balance at once. */
export async function postAd(deps: TradesDeps, user_id: string, input: NewAd): Promise<AdRow> {
  const { db, clock, ledger, config } = deps;
  const asset = assetOf(deps, input.asset);
  if (!config.p2p.fiat.includes(input.fiat)) throw new ProblemError(422, 'unknown_fiat', `Ads may use these fiat currencies: ${config.p2p.fiat.join(', ')}.`);
  const price = parsePrice(input.price);
  if (price === null) throw new ProblemError(422, 'invalid_price', 'The price must be a decimal above zero with at most 8 decimals.');
  const amounts = { min_minor: amountOf(input.min_amount, asset, 'min_amount'), max_minor: amountOf(input.max_amount, asset, 'max_amount'), available_minor: amountOf(input.amount, asset, 'amount') };
  const check = checkNewAd(amounts);
  if (!check.ok) throw new ProblemError(422, check.code, check.detail);
  const standing = await deps.standing(user_id);
  if (input.side === 'sell') await requireMaySell(deps, user_id);
  else if (!standing.send.ok) throw new ProblemError(403, standing.send.code, 'Your account cannot trade right now.');
  const now = clock.now_ms();
  const id = newId('ad', now);
  if (input.side === 'sell') await ledger.ensureAccounts(tradeAccounts(asset.code, [user_id]));
  return db.transaction(async (trx) => {
    const row: AdRow = {
      id, user_id, side: input.side, asset: asset.code, fiat: input.fiat, price: input.price, price_key: priceKey(price),
      min_amount_minor: amounts.min_minor, max_amount_minor: amounts.max_minor, available_minor: amounts.available_minor,
      reservation_id: null, reservation_seq: 0, payment_methods: JSON.stringify(input.payment_methods), terms: input.terms,
      status: 'active', paused_by: null, created_at_ms: now, updated_at_ms: now,
    };
    if (input.side === 'sell') {
      const { moves, next_id, next_seq } = reservationMoves({ ad_id: id, seller_id: user_id, asset: asset.code, current_id: null, seq: 0, next_minor: amounts.available_minor });
      const bad = firstFailure(await applyLinked(ledger, trx, moves));
      if (bad?.result === 'exceeds_credits') throw new ProblemError(422, 'insufficient_funds', 'Your available balance does not cover the amount of the ad.');
      if (bad) throw new Error(`ad ${id}: reservation refused by the ledger: ${bad.result}`);
      row.reservation_id = next_id;
      row.reservation_seq = next_seq;
    }
    await insertAd(trx, row);
    return row;
  });
}

export async function getAd(deps: TradesDeps, id: string): Promise<AdRow | null> {
  return selectAd(deps.db.kysely, id);
}

export interface AdListQuery {
  side?: AdSide | undefined;
  asset?: string | undefined;
  fiat?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Active ads, best price first; the cursor is `<price_key>.<id>` of the last row of a full page. */
export async function listAds(deps: TradesDeps, q: AdListQuery): Promise<{ data: AdRow[]; next_cursor: string | null }> {
  const side = q.side ?? 'sell';
  let after: { price_key: string; id: string } | null = null;
  if (q.cursor) {
    const m = /^([0-9]{28})\.([A-Za-z0-9_]{1,80})$/.exec(q.cursor);
    if (!m) throw new ProblemError(400, 'invalid_cursor', 'The cursor is not one this list gave.');
    after = { price_key: m[1]!, id: m[2]! };
  }
  const rows = await queryAds(deps.db.kysely, { side, asset: q.asset, fiat: q.fiat, ascending: bestFirstAscending(side), after, limit: q.limit });
  const last = rows[rows.length - 1];
  return { data: rows, next_cursor: rows.length === q.limit && last ? `${last.price_key}.${last.id}` : null };
}

/** The owner changes an ad's status; closing voids the remaining reservation (coins back to available). */
export async function setAdStatus(deps: TradesDeps, user_id: string, id: string, to: AdStatus): Promise<AdRow> {
  const found = await selectAd(deps.db.kysely, id);
  if (!found || found.user_id !== user_id) throw new ProblemError(404, 'not_found', 'No such ad of yours.');
  if (to === 'active' && found.side === 'sell' && found.status !== 'active') await requireMaySell(deps, user_id);
  return deps.db.transaction(async (trx) => {
    await lockAd(deps, trx, id);
    const ad = (await selectAd(trx, id))!;
    if (!canSetAdStatus(ad.status as AdStatus, to)) throw new ProblemError(409, 'ad_closed', 'A closed ad stays closed.');
    if (ad.status === to) return ad;
    const now = deps.clock.now_ms();
    const patch: Partial<AdRow> = { status: to, paused_by: to === 'paused' ? 'owner' : null, updated_at_ms: now };
    if (to === 'closed') Object.assign(patch, await replaceReservation(deps, trx, ad, 0n));
    if (!(await updateAd(trx, id, ad.reservation_seq, patch))) throw new Error(`ad ${id} moved under its lock`);
    return { ...ad, ...patch };
  });
}

/**
 * Replaces a sell ad's reservation by one of `next_minor` (0: none), plus `extra` transfers in
 * the same linked batch; the ad's new columns. The caller holds the ad's lock.
 */
export async function replaceReservation(deps: TradesDeps, trx: Transaction<Database>, ad: AdRow, next_minor: bigint, extra: Parameters<typeof applyLinked>[2] = [], before: Parameters<typeof applyLinked>[2] = []): Promise<Pick<AdRow, 'available_minor' | 'reservation_id' | 'reservation_seq'>> {
  const { moves, next_id, next_seq } = reservationMoves({ ad_id: ad.id, seller_id: ad.user_id, asset: ad.asset, current_id: ad.reservation_id, seq: ad.reservation_seq, next_minor });
  const bad = firstFailure(await applyLinked(deps.ledger, trx, [...before, ...moves, ...extra]));
  if (bad) throw new Error(`ad ${ad.id}: ledger refused the reservation change: ${bad.result}`);
  return { available_minor: next_minor, reservation_id: next_id, reservation_seq: next_seq };
}

/** An account that can no longer sell (frozen …): its active ads pause, nothing said to others. */
export async function pauseAdsOf(deps: TradesDeps, trx: Transaction<Database>, user_id: string): Promise<number> {
  let n = 0;
  for (const ad of await openAdsOf(trx, user_id)) {
    await lockAd(deps, trx, ad.id);
    if (await updateAd(trx, ad.id, ad.reservation_seq, { status: 'paused', paused_by: 'account', updated_at_ms: deps.clock.now_ms() })) n++;
  }
  return n;
}
