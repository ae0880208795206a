// The invoice as the API shows it: the merchant's `invoice` of API.md (with its payments and
// refunds) and the payer's checkout status, which reveals nothing about the merchant.
import { Type, type Static } from '@sinclair/typebox';
import { isoTime } from '../../shared/clock.ts';
import { formatAmount } from '../../shared/money.ts';
import type { Principal } from '../../shared/principal.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import { getPayment } from '../payments.ts';
import { eip681Uri, INVOICE_EXCEPTIONS, INVOICE_STATUSES } from './invoice-rules.ts';
import type { InvoiceRow, Invoices } from './invoices.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * The fields the merchant and the payer both see, in the order both answers list them (a
 * response schema orders its JSON): fresh schema objects on every call.
 */
function paymentRequestFields() {
  return {
    id: Type.String(),
    status: Type.Union(INVOICE_STATUSES.map((s) => Type.Literal(s))),
    exception: Nullable(Type.Union(INVOICE_EXCEPTIONS.map((s) => Type.Literal(s)))),
    asset: Type.String(),
    chain_id: Type.Integer(),
    amount_due: Type.String(),
    amount_paid: Type.String(),
    address: Type.String(),
    payment_uri: Type.String(),
  };
}

export const InvoiceSchema = Type.Object({
  ...paymentRequestFields(),
  checkout_url: Type.String(),
  expires_at: Type.String(),
  order_id: Nullable(Type.String()),
  metadata: Nullable(Type.Record(Type.String(), Type.Unknown())),
  mark_reason: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
  payments: Type.Array(PaymentSchema),
  refunds: Type.Array(Type.Object({ id: Type.String(), payment_id: Type.String(), to_address: Type.String(), amount: Type.String(), created_at: Type.String() })),
});
export type InvoiceDto = Static<typeof InvoiceSchema>;

/** What the payer's page may know: nothing about the merchant, its order or metadata. */
export const CheckoutStatusSchema = Type.Object({
  ...paymentRequestFields(),
  expires_at: Type.String(),
});
export type CheckoutStatus = Static<typeof CheckoutStatusSchema>;

/** The payer's view of an invoice (the checkout page and its polling). */
export function checkoutStatus(invoices: Invoices, r: InvoiceRow): CheckoutStatus {
  const a = invoices.asset(r.asset);
  const decimals = a?.decimals ?? 0;
  return {
    id: r.id,
    status: r.status as CheckoutStatus['status'],
    exception: r.exception as CheckoutStatus['exception'],
    asset: r.asset,
    chain_id: r.chain_id,
    amount_due: formatAmount(r.amount_due_minor, decimals),
    amount_paid: formatAmount(r.amount_paid_minor, decimals),
    address: r.address,
    payment_uri: eip681Uri({ chain_id: r.chain_id, token: a?.contract_address ?? null, to: r.address, amount_minor: r.amount_due_minor }),
    expires_at: isoTime(r.expires_at_ms),
  };
}

/** The merchant's `invoice` (API.md), with its payments in the caller's locale. */
export async function toInvoiceDto(deps: PaymentViewDeps & { invoices: Invoices }, req: Parameters<typeof dtoContext>[1], me: Principal | null, r: InvoiceRow): Promise<InvoiceDto> {
  const links = await deps.invoices.payments(r.id);
  const found = (await Promise.all(links.map((l) => getPayment(deps.db.kysely, l.payment_id)))).filter((x): x is NonNullable<typeof x> => x !== null);
  const ctx = await dtoContext(deps, req, me, found.map((f) => f.payment));
  const refunds = await deps.invoices.refunds(r.id);
  const decimals = deps.invoices.asset(r.asset)?.decimals ?? 0;
  return {
    ...checkoutStatus(deps.invoices, r),
    checkout_url: deps.invoices.checkoutUrl(r.id),
    order_id: r.order_id,
    metadata: r.metadata ? (JSON.parse(r.metadata) as Record<string, unknown>) : null,
    mark_reason: r.mark_reason,
    created_at: isoTime(r.created_at_ms),
    updated_at: isoTime(r.updated_at_ms),
    payments: found.map((f) => toPaymentDto(f.payment, f.timeline, ctx)),
    refunds: refunds.map((x) => ({ id: x.id, payment_id: x.payment_id, to_address: x.to_address, amount: formatAmount(x.amount_minor, decimals), created_at: isoTime(x.created_at_ms) })),
  };
}
