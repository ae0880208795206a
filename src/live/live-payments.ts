// How /stream reads a payment: exactly as GET /payments/{id} shows it to its owner.
import type { Principal } from '../shared/principal.ts';
import type { LiveReader } from './stream-routes.ts';
import { getPayment } from '../payments/payments.ts';
import { dtoContext, type PaymentViewDeps } from '../payments/payment-routes.ts';
import { toPaymentDto } from '../payments/payments.ts';

export function livePaymentReader(view: PaymentViewDeps): LiveReader {
  const read = async (principal: Principal, id: string): Promise<unknown> => {
    const found = await getPayment(view.db.kysely, id);
    if (!found || found.payment.user_id !== principal.user_id) return null;
    const ctx = await dtoContext(view, null, principal, [found.payment], 'dto');
    return toPaymentDto(found.payment, found.timeline, ctx);
  };
  return {
    event: () => 'payment.updated',
    read: async (principal, body) => {
      const id = (body.data as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? read(principal, id) : null;
    },
  };
}
