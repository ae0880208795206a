// How a `trade` outbox event looks to the outside: each event names one party (trades emit one
// per party), and webhooks, the event feed and /stream get the order as that party sees it.
import type { Trades } from './trades.ts';

/** webhooks.registerRenderer('trade', tradeEventRenderer(trades)) */
export function tradeEventRenderer(trades: Pick<Trades, 'readOrder'>) {
  return async (event: { payload: string }): Promise<{ user_id: string; data: unknown } | null> => {
    const p = JSON.parse(event.payload) as { order_id: string; user_id: string };
    const data = await trades.readOrder(p.order_id, { user_id: p.user_id, staff: false });
    return data ? { user_id: p.user_id, data } : null;
  };
}
