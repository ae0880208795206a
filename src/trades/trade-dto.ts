// The API shapes of ads and orders (API.md part 2 "P2P trades"): TypeBox schemas and the
// functions that fill them from rows. Amounts are decimal strings, times ISO 8601.
import { Type, type Static } from '@sinclair/typebox';
import { isoTime } from '../shared/clock.ts';
import { formatAmount } from '../shared/money.ts';
import { nextMove, type OrderStatus } from './order-rules.ts';
import type { AdRow, MessageRow, OrderRow } from './trades-store.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AdSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  side: Type.Union([Type.Literal('sell'), Type.Literal('buy')]),
  asset: Type.String(),
  fiat: Type.String(),
  price: Type.String(),
  min_amount: Type.String(),
  max_amount: Type.String(),
  available_amount: Type.String(),
  payment_methods: Type.Array(Type.String()),
  terms: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('closed')]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type AdDto = Static<typeof AdSchema>;

export const MessageSchema = Type.Object({
  id: Type.String(),
  at: Type.String(),
  author: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  body: Type.String(),
  attachment_ids: Type.Array(Type.String()),
});

export const OrderSchema = Type.Object({
  id: Type.String(),
  ad_id: Type.String(),
  buyer_id: Type.String(),
  seller_id: Type.String(),
  asset: Type.String(),
  amount: Type.String(),
  fiat: Type.String(),
  price: Type.String(),
  fiat_amount: Type.String(),
  status: Type.String(),
  pay_by: Type.String(),
  release_by: Nullable(Type.String()),
  paid_at: Nullable(Type.String()),
  released_at: Nullable(Type.String()),
  cancel_reason: Nullable(Type.String()),
  appeal_case_id: Nullable(Type.String()),
  /** Whose move it is and until when (null: nobody's, the order is over). */
  next_move: Type.Object({ whose: Nullable(Type.String()), action: Type.String(), until: Nullable(Type.String()) }),
  /** The caller's side of the order (staff: null). */
  role: Nullable(Type.String()),
  messages: Type.Array(MessageSchema),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type OrderDto = Static<typeof OrderSchema>;

const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(Number(ms)));

export function toAdDto(ad: AdRow, decimals: number): AdDto {
  return {
    id: ad.id, user_id: ad.user_id, side: ad.side as AdDto['side'], asset: ad.asset, fiat: ad.fiat, price: ad.price,
    min_amount: formatAmount(ad.min_amount_minor, decimals), max_amount: formatAmount(ad.max_amount_minor, decimals),
    available_amount: formatAmount(ad.available_minor, decimals), payment_methods: JSON.parse(ad.payment_methods) as string[], terms: ad.terms,
    status: ad.status as AdDto['status'], created_at: isoTime(Number(ad.created_at_ms)), updated_at: isoTime(Number(ad.updated_at_ms)),
  };
}

export function toOrderDto(o: OrderRow, decimals: number, messages: MessageRow[], viewer_id: string | null): OrderDto {
  const move = nextMove({ status: o.status as OrderStatus, pay_by_ms: Number(o.pay_by_ms), release_by_ms: o.release_by_ms === null ? null : Number(o.release_by_ms) });
  return {
    id: o.id, ad_id: o.ad_id, buyer_id: o.buyer_id, seller_id: o.seller_id, asset: o.asset, amount: formatAmount(o.amount_minor, decimals),
    fiat: o.fiat, price: o.price, fiat_amount: o.fiat_amount, status: o.status, pay_by: isoTime(Number(o.pay_by_ms)), release_by: iso(o.release_by_ms),
    paid_at: iso(o.paid_at_ms), released_at: iso(o.released_at_ms), cancel_reason: o.cancel_reason, appeal_case_id: o.appeal_case_id,
    next_move: { whose: move.whose, action: move.what, until: iso(move.until_ms) },
    role: viewer_id === o.buyer_id ? 'buyer' : viewer_id === o.seller_id ? 'seller' : null,
    messages: messages.map((m) => ({ id: m.id, at: isoTime(Number(m.created_at_ms)), author: { type: m.author_type, id: m.author_id }, body: m.body, attachment_ids: JSON.parse(m.attachment_ids) as string[] })),
    created_at: isoTime(Number(o.created_at_ms)), updated_at: isoTime(Number(o.updated_at_ms)),
  };
}
