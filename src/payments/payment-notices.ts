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
