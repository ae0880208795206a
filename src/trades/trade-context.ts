// What the trade steps share: their dependencies, the configured assets, the events both parties
// get on every change, and the locks that serialise an ad's and an order's changes.
import type { Transaction } from 'kysely';
import type { Config } from '../config.ts';
import { serialiseOn, type Db, type DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { emitEvent } from '../jobs/jobs.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Clock } from '../shared/clock.ts';
import type { UserStatus } from '../shared/principal.ts';
import type { OrderRow } from './trades-store.ts';

/** How an account stands, as far as trades care (the accounts face's AccountStanding satisfies it). */
export interface TradeStanding {
  status: UserStatus;
  send: { ok: true } | { ok: false; code: string; until_ms: number | null };
  /** Withdrawals and P2P selling: also refused during the cool-down after an unfreeze. */
  withdraw: { ok: true } | { ok: false; code: string; until_ms: number | null };
}

export interface TradesDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'chains' | 'p2p' | 'support'>;
  ledger: Ledger;
  standing(user_id: string, ex?: DbExecutor): Promise<TradeStanding>;
}

export interface TradeAsset {
  code: string;
  decimals: number;
  /** US dollars per whole coin (configured, or 1 for a USD stablecoin), null when unknown. */
  usd_price: string | null;
}

const USD_STABLE = new Set(['USDT', 'USDC', 'DAI', 'PYUSD', 'FDUSD', 'TUSD', 'USDP']);

/** The configured assets by code. */
export function tradeAssets(config: Pick<Config, 'chains'>): Map<string, TradeAsset> {
  const out = new Map<string, TradeAsset>();
  for (const c of config.chains) {
    const all = [...(c.native ? [c.native] : []), ...(c.tokens ?? [])];
    for (const a of all) out.set(a.symbol, { code: a.symbol, decimals: a.decimals, usd_price: a.usd_price ?? (USD_STABLE.has(a.symbol) ? '1' : null) });
  }
  return out;
}

export const adLock = (ad_id: string): string => `p2p-ad:${ad_id}`;
export const orderLock = (order_id: string): string => `p2p-order:${order_id}`;

export async function lockAd(deps: TradesDeps, trx: Transaction<Database>, ad_id: string): Promise<void> {
  await serialiseOn(trx, deps.db.dialect, adLock(ad_id));
}

export async function lockOrder(deps: TradesDeps, trx: Transaction<Database>, order_id: string): Promise<void> {
  await serialiseOn(trx, deps.db.dialect, orderLock(order_id));
}

/**
 * Tells both parties (one outbox event each, aggregate `trade`): webhooks `trade.*`, the event
 * feed and /stream's `trade.updated` render the order as it is for that party.
 */
export async function emitTradeEvent(deps: TradesDeps, trx: DbExecutor, order: Pick<OrderRow, 'id' | 'buyer_id' | 'seller_id' | 'status'>, type: string, extra: Record<string, unknown> = {}): Promise<void> {
  for (const user_id of [order.buyer_id, order.seller_id]) {
    await emitEvent(trx, { type, aggregate_type: 'trade', aggregate_id: order.id, payload: { order_id: order.id, user_id, status: order.status, ...extra } }, deps.clock);
  }
}
