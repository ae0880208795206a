// The trades module's face (P2P trades with escrow, issue 13): the only file other modules import.
//
// Ads (trade-ads.ts) reserve a sell ad's coins; orders (trade-orders.ts) move their part into
// escrow in the same transaction as the order row, and release, cancel, auto-cancel or refund
// it with the status change (trade-escrow.ts names the ledger moves; order-rules.ts decides).
// Windows are durable jobs: `p2p.auto_cancel` at pay_by, `p2p.release_reminder` at release_by.
// Every change emits `trade.*` outbox events, one per party, that webhooks, the event feed and
// /stream render (platform.ts wires the renderer and the live reader).
//
//   const trades = createTrades({ db, clock, config, ledger, standing: (id, ex) => accounts.standing(id, ex) });
//   trades.registerJobs(jobs); const ad = await trades.postAd(user_id, { side: 'sell', … });
import { consumeEventsOf, intervalWorker, type IntervalWorker, type JobRunner } from '../jobs/jobs.ts';
import { ProblemError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { LIMITS } from '../config.ts';
import { isFinal, STRIKE_WINDOW_MS, type OrderStatus } from './order-rules.ts';
import { getAd, listAds, pauseAdsOf, postAd, setAdStatus } from './trade-ads.ts';
import { emitTradeEvent, tradeAssets, type TradesDeps } from './trade-context.ts';
import { toAdDto, toOrderDto, type AdDto, type OrderDto } from './trade-dto.ts';
import { act, actIn, AUTO_CANCEL_JOB, getOrder, placeOrder, RELEASE_REMINDER_JOB, roleOf } from './trade-orders.ts';
import { insertMessage, ordersSince, queryOrders, selectMessages, selectOrder, strikeTimes, type AdRow, type OrderRow } from './trades-store.ts';

export type { TradesDeps, TradeStanding } from './trade-context.ts';
export type { AdDto, OrderDto } from './trade-dto.ts';
export { AdSchema, OrderSchema } from './trade-dto.ts';
export type { OrderRow, AdRow } from './trades-store.ts';

export const FREEZE_CONSUMER = 'trades.pause_on_freeze';
const MESSAGES_MAX = 500;
const STATS_ORDERS_MAX = 10_000;

/** Who is looking at an order: its parties see it, staff see every order, anyone else gets 404. */
export interface Viewer {
  user_id: string;
  staff: boolean;
}

export function createTrades(deps: TradesDeps) {
  const assets = tradeAssets(deps.config);
  const decimalsOf = (code: string) => assets.get(code)?.decimals ?? 0;
  const adDto = (ad: AdRow) => toAdDto(ad, decimalsOf(ad.asset));
  const orderDto = async (o: OrderRow, viewer: Viewer): Promise<OrderDto> => toOrderDto(o, decimalsOf(o.asset), await selectMessages(deps.db.kysely, o.id, MESSAGES_MAX), viewer.user_id);
  const visible = (o: OrderRow | null, viewer: Viewer): o is OrderRow => o !== null && (viewer.staff || roleOf(o, viewer.user_id) !== null);

  const service = {
    adDto,
    orderDto,
    postAd: async (user_id: string, input: Parameters<typeof postAd>[2]) => adDto(await postAd(deps, user_id, input)),
    getAd: async (id: string): Promise<AdDto | null> => {
      const ad = await getAd(deps, id);
      return ad ? adDto(ad) : null;
    },
    listAds: async (q: Parameters<typeof listAds>[1]) => {
      const r = await listAds(deps, q);
      return { data: r.data.map(adDto), next_cursor: r.next_cursor };
    },
    setAdStatus: async (user_id: string, id: string, to: Parameters<typeof setAdStatus>[3]) => adDto(await setAdStatus(deps, user_id, id, to)),
    placeOrder: (taker_id: string, input: Parameters<typeof placeOrder>[2]) => placeOrder(deps, taker_id, input),
    /** A party's step (mark_paid, cancel, release, appeal) or staff's resolution. */
    act: (who: Parameters<typeof act>[1], order_id: string, action: Parameters<typeof act>[3], input?: Parameters<typeof act>[4]) => act(deps, who, order_id, action, input),
    /** The order as the viewer may see it, or null (not theirs: 404). */
    async readOrder(id: string, viewer: Viewer): Promise<OrderDto | null> {
      const o = await getOrder(deps, id);
      return visible(o, viewer) ? orderDto(o, viewer) : null;
    },
    async listOrders(user_id: string, q: { role?: 'buyer' | 'seller' | undefined; status?: string | undefined; limit: number; cursor?: string | undefined }) {
      const rows = await queryOrders(deps.db.kysely, { user_id, role: q.role, status: q.status, before_id: q.cursor ?? null, limit: q.limit });
      const data = await Promise.all(rows.map((o) => orderDto(o, { user_id, staff: false })));
      return { data, next_cursor: rows.length === q.limit ? rows[rows.length - 1]!.id : null };
    },
    /** A chat message by a party (or staff once the order is in appeal). */
    async postMessage(viewer: Viewer, order_id: string, body: string, attachment_ids: string[]): Promise<OrderDto> {
      const o = await selectOrder(deps.db.kysely, order_id);
      const party = o ? roleOf(o, viewer.user_id) : null;
      if (!o || (!party && !(viewer.staff && o.status === 'appeal'))) throw new ProblemError(404, 'not_found', 'No such order of yours.');
      const now = deps.clock.now_ms();
      await deps.db.transaction(async (trx) => {
        await insertMessage(trx, { id: newId('msg', now), order_id, author_type: party ? 'user' : 'staff', author_id: viewer.user_id, body, attachment_ids: JSON.stringify(attachment_ids), created_at_ms: now });
        await emitTradeEvent(deps, trx, o, 'trade.message');
      });
      return orderDto((await selectOrder(deps.db.kysely, order_id))!, viewer);
    },
    /** Public figures of a user over 30 days. */
    async userStats(user_id: string) {
      const now = deps.clock.now_ms();
      const orders = await ordersSince(deps.db.kysely, user_id, now - 30 * 86_400_000, STATS_ORDERS_MAX);
      const closed = orders.filter((o) => isFinal(o.status as OrderStatus));
      const completed = closed.filter((o) => o.status === 'completed');
      const releases = completed.filter((o) => o.seller_id === user_id && o.released_at_ms !== null).map((o) => Number(o.released_at_ms) - Number(o.paid_at_ms ?? o.created_at_ms));
      return {
        trades_30d: completed.length,
        completion_rate_30d: closed.length ? completed.length / closed.length : 0,
        avg_release_s: releases.length ? Math.round(releases.reduce((a, b) => a + b, 0) / releases.length / 1000) : null,
        strikes: (await strikeTimes(deps.db.kysely, user_id, now - STRIKE_WINDOW_MS)).length,
      };
    },
    /** The window jobs: auto-cancel at pay_by, the release reminder at release_by. */
    registerJobs: (jobs: JobRunner) => registerTradeJobs(deps, jobs),
    /** Pauses the ads of an account that was frozen (the `account.frozen` outbox event). */
    freezeWorker: (poll_ms = 1000): IntervalWorker =>
      intervalWorker('trades.pause_on_freeze', poll_ms, () => consumeEventsOf(deps.db, FREEZE_CONSUMER, 'account.frozen', LIMITS.page_size_max, deps.clock.now_ms(), (trx, p: { user_id: string }) => pauseAdsOf(deps, trx, p.user_id))),
  };
  return service;
}

export type Trades = ReturnType<typeof createTrades>;

/** The window jobs: `p2p.auto_cancel` at pay_by and `p2p.release_reminder` at release_by, each committed with its effect. */
function registerTradeJobs(deps: TradesDeps, jobs: JobRunner): void {
  jobs.register(AUTO_CANCEL_JOB, async (payload, ctx) => {
    const { order_id } = payload as { order_id: string };
    await ctx.commit((trx) => actIn(deps, trx, { user_id: null, actor: 'system' }, order_id, 'auto_cancel'));
  });
  jobs.register(RELEASE_REMINDER_JOB, async (payload, ctx) => {
    const { order_id } = payload as { order_id: string };
    await ctx.commit(async (trx) => {
      const o = await selectOrder(trx, order_id);
      if (!o || o.status !== 'paid') return;
      const now = deps.clock.now_ms();
      await insertMessage(trx, { id: newId('msg', now), order_id, author_type: 'system', author_id: null, body: 'release_window_elapsed', attachment_ids: '[]', created_at_ms: now });
      await emitTradeEvent(deps, trx, o, 'trade.release_reminder');
    });
  });
}
