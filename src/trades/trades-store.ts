// Kysely queries of the trades module: ads, orders, their chat and strikes. No business decisions;
// every status update is fenced on the status it was read in.
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { P2pAdsTable, P2pMessagesTable, P2pOrdersTable, P2pStrikesTable } from '../db/schema-trades.ts';

export type AdRow = Selectable<P2pAdsTable>;
export type OrderRow = Selectable<P2pOrdersTable>;
export type MessageRow = Selectable<P2pMessagesTable>;
export type StrikeRow = Selectable<P2pStrikesTable>;

export async function insertAd(ex: DbExecutor, row: AdRow): Promise<void> {
  await ex.insertInto('p2p_ads').values(row).execute();
}

export async function selectAd(ex: DbExecutor, id: string): Promise<AdRow | null> {
  return (await ex.selectFrom('p2p_ads').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** Updates an ad if it still has the reservation sequence it was read with; false when it moved. */
export async function updateAd(ex: DbExecutor, id: string, seen_seq: number, patch: Partial<AdRow>): Promise<boolean> {
  const r = await ex.updateTable('p2p_ads').set(patch).where('id', '=', id).where('reservation_seq', '=', seen_seq).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface AdQuery {
  side: string;
  asset?: string | undefined;
  fiat?: string | undefined;
  ascending: boolean;
  after: { price_key: string; id: string } | null;
  limit: number;
}

/** Active ads of a side, best price first (then oldest id), after a cursor. */
export async function queryAds(ex: DbExecutor, q: AdQuery): Promise<AdRow[]> {
  let query = ex.selectFrom('p2p_ads').selectAll().where('status', '=', 'active').where('side', '=', q.side);
  if (q.asset) query = query.where('asset', '=', q.asset);
  if (q.fiat) query = query.where('fiat', '=', q.fiat);
  if (q.after) {
    const { price_key, id } = q.after;
    query = q.ascending
      ? query.where((eb) => eb.or([eb('price_key', '>', price_key), eb.and([eb('price_key', '=', price_key), eb('id', '>', id)])]))
      : query.where((eb) => eb.or([eb('price_key', '<', price_key), eb.and([eb('price_key', '=', price_key), eb('id', '>', id)])]));
  }
  return query.orderBy('price_key', q.ascending ? 'asc' : 'desc').orderBy('id', 'asc').limit(q.limit).execute();
}

/** A user's ads that are open (active or paused), for the account-freeze pause. */
export async function openAdsOf(ex: DbExecutor, user_id: string): Promise<AdRow[]> {
  return ex.selectFrom('p2p_ads').selectAll().where('user_id', '=', user_id).where('status', '=', 'active').execute();
}

export async function myAds(ex: DbExecutor, user_id: string, limit: number): Promise<AdRow[]> {
  return ex.selectFrom('p2p_ads').selectAll().where('user_id', '=', user_id).orderBy('id', 'desc').limit(limit).execute();
}

export async function insertOrder(ex: DbExecutor, row: OrderRow): Promise<void> {
  await ex.insertInto('p2p_orders').values(row).execute();
}

export async function selectOrder(ex: DbExecutor, id: string): Promise<OrderRow | null> {
  return (await ex.selectFrom('p2p_orders').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/** Moves an order from the status it was read in; false when another change came first. */
export async function updateOrder(ex: DbExecutor, id: string, from_status: string, patch: Partial<OrderRow>): Promise<boolean> {
  const r = await ex.updateTable('p2p_orders').set(patch).where('id', '=', id).where('status', '=', from_status).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface OrderQuery {
  user_id: string;
  role?: 'buyer' | 'seller' | undefined;
  status?: string | undefined;
  before_id: string | null;
  limit: number;
}

/** The caller's orders, newest first (ids are time-ordered). */
export async function queryOrders(ex: DbExecutor, q: OrderQuery): Promise<OrderRow[]> {
  let query = ex.selectFrom('p2p_orders').selectAll();
  if (q.role === 'buyer') query = query.where('buyer_id', '=', q.user_id);
  else if (q.role === 'seller') query = query.where('seller_id', '=', q.user_id);
  else query = query.where((eb) => eb.or([eb('buyer_id', '=', q.user_id), eb('seller_id', '=', q.user_id)]));
  if (q.status) query = query.where('status', '=', q.status);
  if (q.before_id) query = query.where('id', '<', q.before_id);
  return query.orderBy('id', 'desc').limit(q.limit).execute();
}

/** A user's orders (either side) created since a time, for the public figures. */
export async function ordersSince(ex: DbExecutor, user_id: string, since_ms: number, limit: number): Promise<OrderRow[]> {
  return ex
    .selectFrom('p2p_orders')
    .selectAll()
    .where((eb) => eb.or([eb('buyer_id', '=', user_id), eb('seller_id', '=', user_id)]))
    .where('created_at_ms', '>=', since_ms)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function insertMessage(ex: DbExecutor, row: MessageRow): Promise<void> {
  await ex.insertInto('p2p_messages').values(row).execute();
}

export async function selectMessages(ex: DbExecutor, order_id: string, limit: number): Promise<MessageRow[]> {
  return ex.selectFrom('p2p_messages').selectAll().where('order_id', '=', order_id).orderBy('created_at_ms', 'asc').orderBy('id', 'asc').limit(limit).execute();
}

export async function insertStrike(ex: DbExecutor, row: StrikeRow): Promise<void> {
  await ex.insertInto('p2p_strikes').values(row).execute();
}

export async function strikeTimes(ex: DbExecutor, user_id: string, since_ms: number): Promise<number[]> {
  const rows = await ex.selectFrom('p2p_strikes').select('created_at_ms').where('user_id', '=', user_id).where('created_at_ms', '>=', since_ms).execute();
  return rows.map((r) => Number(r.created_at_ms));
}
