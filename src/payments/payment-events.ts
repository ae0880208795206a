// How a `payment` outbox event looks to the outside: the renderer that notify's webhooks and the
// live stream use for events of aggregate type `payment`.
import { dtoContext, type PaymentViewDeps } from './payment-routes.ts';
import { toPaymentDto } from './payment-dto.ts';
import { getPayment, type Payment } from './payments.ts';

/**
 * How a `payment` outbox event looks in webhooks and the event feed: the API `payment` (in
 * English) as it was at that event, with the timeline up to it.
 */
export function paymentEventRenderer(view: PaymentViewDeps) {
  return async (event: { payload: string }): Promise<{ user_id: string; data: unknown } | null> => {
    const s = JSON.parse(event.payload) as Record<string, unknown> & { id: string; user_id: string; amount_minor: string; fee_minor: string; updated_at_ms: number; created_at_ms: number };
    const payment = {
      ...(s as unknown as Payment),
      amount_minor: BigInt(s.amount_minor),
      fee_minor: BigInt(s.fee_minor),
      memo: (s.memo as string | null | undefined) ?? null,
      status_since_ms: s.updated_at_ms,
    };
    const found = await getPayment(view.db.kysely, s.id);
    const timeline = (found?.timeline ?? []).filter((e) => e.at_ms <= s.updated_at_ms);
    const ctx = await dtoContext(view, null, null, [payment]);
    return { user_id: s.user_id, data: toPaymentDto(payment, timeline, ctx) };
  };
}
