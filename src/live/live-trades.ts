// How /stream reads a P2P order: exactly as GET /p2p/orders/{id} shows it to that party, as
// `trade.updated` for every `trade.*` event.
import type { LiveReader } from './stream-routes.ts';
import type { Trades } from '../trades/trades.ts';

export function liveTradeReader(trades: Pick<Trades, 'readOrder'>): LiveReader {
  return {
    event: () => 'trade.updated',
    read: async (principal, body) => {
      const id = (body.data as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? trades.readOrder(id, { user_id: principal.user_id, staff: false }) : null;
    },
  };
}
