// What a payment's outbox event means to its owner (issue 14): the notices notify sends for
// deposits credited, held and released, withdrawals completed and failed, transfers received.
// Registered with notify's producers in platform.ts; runs before the event's transaction (reads
// through the pool). A deposit credited after a hold is "released"; one credited straight away
// is "credited". Reasons are the payment's own explanation, in both languages.
import type { NoticeInput, NoticeParams } from '../notify/notify.ts';
import { formatAmount } from '../shared/money.ts';
import { assetMap, type PaymentViewDeps } from './payment-routes.ts';
import { explain, type MessageParams } from './payment-messages.ts';
import type { ExplanationCode } from './payment-rules.ts';
import { getPayment } from './payments.ts';
import { usersWithPaymentsInFlight } from './payment-store.ts';
import { assetsFromChains } from './payment-rules.ts';
import { isoTime } from '../shared/clock.ts';

/** The payment event types that can mean something to the user. */
export const NOTICE_EVENT_TYPES = ['payment.credited', 'payment.held', 'payment.completed', 'payment.failed'] as const;

interface Snapshot {
  id: string;
  user_id: string;
  kind: string;
  direction: string;
  asset: string;
  amount_minor: string;
  code: ExplanationCode;
  params: MessageParams;
  counterparty: string | null;
}

function reasonOf(s: Snapshot): NoticeParams[string] {
  return { en: explain(s.code, 'en', s.params).message, 'zh-CN': explain(s.code, 'zh-CN', s.params).message };
}

/**
 * paymentNotices(view)(event) -> [{ user_id, template: 'deposit_credited', params: { amount: '12.5', asset: 'USDT' }, link: '/payments/pay_…' }]
 */
export function paymentNotices(view: PaymentViewDeps) {
  const assets = assetMap(view.config);
  return async (event: { type: string; payload: string }): Promise<Array<{ user_id: string } & NoticeInput>> => {
    const s = JSON.parse(event.payload) as Snapshot;
    const decimals = assets.get(s.asset)?.decimals ?? 0;
    const base = { amount: formatAmount(BigInt(s.amount_minor), decimals), asset: s.asset };
    const notice = (template: NoticeInput['template'], params: NoticeParams = {}) => [{ user_id: s.user_id, template, params: { ...base, ...params }, link: `/payments/${s.id}` }];
    if (s.kind === 'deposit' && s.direction === 'in') {
      if (event.type === 'payment.held') return notice('deposit_held', { reason: reasonOf(s) });
      if (event.type !== 'payment.credited') return [];
      const found = await getPayment(view.db.kysely, s.id);
      const wasHeld = (found?.timeline ?? []).some((e) => e.status === 'held' || e.hold_reason !== null);
      return notice(wasHeld ? 'deposit_released' : 'deposit_credited');
    }
    if (s.kind === 'withdrawal') {
      if (event.type === 'payment.completed') return notice('withdrawal_completed');
      if (event.type === 'payment.failed') return notice('withdrawal_failed', { reason: reasonOf(s) });
      return [];
    }
    if (s.kind === 'transfer' && s.direction === 'in' && event.type === 'payment.completed') {
      const from = s.counterparty ? ((await view.emailsOf?.(view.db.kysely, [s.counterparty]))?.get(s.counterparty) ?? null) : null;
      return notice('transfer_received', { from: from ?? { en: 'Another Settle user', 'zh-CN': '另一位 Settle 用户' } });
    }
    return [];
  };
}

/** Users told about one maintenance window at most (the rest see the banner and the status page). */
export const MAINTENANCE_NOTICES_MAX = 5000;

/** What notices need of a window (ops' maintenance window, looked up by the platform). */
export interface WindowFacts {
  id: string;
  scope: string;
  starts_at_ms: number;
  ends_at_ms: number;
  message: string;
  message_zh: string | null;
}

/**
 * `maintenance.scheduled` -> a maintenance.announced notice to each user with a deposit or
 * withdrawal in flight on the window's scope (its chain's assets; every chain for a global one).
 * maintenanceNotices(view, (id) => maintenance.get(id))(event) -> [{ user_id, template: 'maintenance_announced', … }]
 */
export function maintenanceNotices(view: PaymentViewDeps, windowOf: (id: string) => Promise<WindowFacts | null>) {
  const assets = assetsFromChains(view.config.chains);
  return async (event: { payload: string }): Promise<Array<{ user_id: string } & NoticeInput>> => {
    const w = await windowOf((JSON.parse(event.payload) as { id: string }).id);
    if (!w) return [];
    const chain_id = w.scope.startsWith('chain:') ? Number(w.scope.slice(6)) : null;
    const chain = chain_id === null ? null : view.config.chains.find((c) => c.chain_id === chain_id);
    const where = chain_id === null ? { assets: null, chain_id: null } : { assets: assets.filter((a) => a.chain_id === chain_id).map((a) => a.code), chain_id };
    const users = await usersWithPaymentsInFlight(view.db.kysely, where, MAINTENANCE_NOTICES_MAX);
    const params: NoticeParams = {
      scope: chain ? chain.name : { en: 'Settle', 'zh-CN': 'Settle 全站' },
      starts: isoTime(w.starts_at_ms).slice(0, 16).replace('T', ' '),
      ends: isoTime(w.ends_at_ms).slice(0, 16).replace('T', ' '),
      message: { en: w.message, 'zh-CN': w.message_zh ?? w.message },
    };
    return users.map((user_id) => ({ user_id, template: 'maintenance_announced' as const, params, link: '/status' }));
  };
}
