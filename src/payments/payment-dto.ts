// Shapes a payment for the API (API.md `payment`): decimal strings for money, ISO timestamps,
// the explanation in the caller's locale with an ETA computed from measured facts, and the
// timeline with each entry's message.
import { Type, type Static } from '@sinclair/typebox';
import { formatAmount } from '../shared/money.ts';
import { isoTime } from '../shared/clock.ts';
import type { Locale } from '../shared/i18n.ts';
import { explain, type MessageParams } from './payment-messages.ts';
import { etaMs } from './payment-eta-rules.ts';
import type { AssetInfo } from './payment-rules.ts';
import type { Payment, TimelineEntry } from './payments.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const PaymentSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    direction: Type.String(),
    asset: Type.String(),
    amount: Type.String(),
    fee: Type.String(),
    status: Type.String(),
    hold: Nullable(Type.Object({ reason: Type.String(), since: Type.String() })),
    explanation: Type.Object({ code: Type.String(), message: Type.String(), eta: Nullable(Type.String()), next_action: Type.String() }),
    confirmations: Nullable(Type.Object({ current: Type.Integer(), required: Type.Integer() })),
    chain: Nullable(
      Type.Object({
        chain_id: Type.Integer(),
        tx_hash: Nullable(Type.String()),
        log_index: Nullable(Type.Integer()),
        block_number: Nullable(Type.Integer()),
        from: Nullable(Type.String()),
        to: Nullable(Type.String()),
        token: Nullable(Type.String()),
      }),
    ),
    counterparty: Nullable(Type.Object({ email: Nullable(Type.String()) })),
    memo: Nullable(Type.String()),
    reference: Nullable(Type.String()),
    created_at: Type.String(),
    updated_at: Type.String(),
    timeline: Type.Array(Type.Object({ at: Type.String(), status: Type.String(), code: Type.String(), message: Type.String() })),
  },
  { $id: 'Payment' },
);
export type PaymentDto = Static<typeof PaymentSchema>;

export interface ChainTiming {
  block_time_ms: number | null;
  head_seen_at_ms: number | null;
}

export interface ActiveWindow {
  scope: string;
  ends_at_ms: number;
  message: string;
  /** The staff's Chinese text, when given; otherwise zh-CN readers see `message`. */
  message_zh: string | null;
}

/** Everything the mapper needs besides the payment, loaded once per request. */
export interface DtoContext {
  locale: Locale;
  now_ms: number;
  assets: ReadonlyMap<string, AssetInfo>;
  timing: ReadonlyMap<number, ChainTiming>;
  /** Active maintenance windows (global and per chain). */
  windows: readonly ActiveWindow[];
  review_sla_ms: number;
  /** Counterparty user id -> email, for transfers (only what the caller may see). */
  counterparties?: ReadonlyMap<string, string>;
}

/** Message parameters for a locale: a staff text kept in both languages (`message`, `message_zh`) reads in the reader's. */
function inLocale(params: MessageParams, locale: Locale): MessageParams {
  if (params.message_zh === undefined) return params;
  const { message_zh, ...rest } = params;
  return locale === 'zh-CN' ? { ...rest, message: message_zh } : rest;
}

/** The window that blocks a payment on this chain: a global one, or the chain's own. */
export function blockingWindow(windows: readonly ActiveWindow[], chain_id: number | null): ActiveWindow | null {
  let best: ActiveWindow | null = null;
  for (const w of windows) {
    if (w.scope !== 'global' && w.scope !== `chain:${chain_id}`) continue;
    if (!best || w.ends_at_ms > best.ends_at_ms) best = w;
  }
  return best;
}

/**
 * Whether toPaymentDto reads measured chain timing for this payment: only etaMs's block-based
 * ETA of a payment that is not held and waits for blocks (pending, confirming, broadcast).
 * Callers skip loading the timing when no payment needs it.
 */
export function needsChainTiming(p: Pick<Payment, 'hold' | 'status'>): boolean {
  return !p.hold && (p.status === 'pending' || p.status === 'confirming' || p.status === 'broadcast');
}

/** Whether toPaymentDto reads the active maintenance windows for this payment (a maintenance hold). */
export function needsMaintenanceWindows(p: Pick<Payment, 'hold'>): boolean {
  return p.hold?.reason === 'maintenance';
}

function decimalsOf(ctx: DtoContext, asset: string): number {
  return ctx.assets.get(asset)?.decimals ?? 0;
}

/** toPaymentDto(payment, timeline, ctx) -> the API's `payment` object. */
export function toPaymentDto(p: Payment, timeline: readonly TimelineEntry[], ctx: DtoContext): PaymentDto {
  const chain_id = p.chain?.chain_id ?? ctx.assets.get(p.asset)?.chain_id ?? null;
  const timing = chain_id !== null && needsChainTiming(p) ? ctx.timing.get(chain_id) : undefined;
  const window = needsMaintenanceWindows(p) ? blockingWindow(ctx.windows, chain_id) : null;
  const eta = etaMs({
    now_ms: ctx.now_ms,
    status: p.status,
    hold: p.hold,
    confirmations: p.confirmations,
    block_time_ms: timing?.block_time_ms ?? null,
    head_seen_at_ms: timing?.head_seen_at_ms ?? null,
    maintenance_ends_at_ms: window?.ends_at_ms ?? null,
    review_sla_ms: ctx.review_sla_ms,
  });
  const decimals = decimalsOf(ctx, p.asset);
  const params: MessageParams = {
    asset: p.asset,
    amount: formatAmount(p.amount_minor, decimals),
    ...(p.confirmations ? { current: p.confirmations.current, required: p.confirmations.required } : {}),
    ...(eta !== null ? { eta: isoTime(eta) } : {}),
    ...inLocale(p.params, ctx.locale),
    // The live window wins over what was kept with the hold (staff may have moved its end).
    ...(window ? inLocale({ message: window.message, ...(window.message_zh ? { message_zh: window.message_zh } : {}), ends_at: isoTime(window.ends_at_ms) }, ctx.locale) : {}),
  };
  const { message, next_action } = explain(p.code, ctx.locale, params);
  const email = p.counterparty ? ctx.counterparties?.get(p.counterparty) : undefined;
  return {
    id: p.id,
    kind: p.kind,
    direction: p.direction,
    asset: p.asset,
    amount: formatAmount(p.amount_minor, decimals),
    fee: formatAmount(p.fee_minor, decimals),
    status: p.status,
    hold: p.hold ? { reason: p.hold.reason, since: isoTime(p.hold.since_ms) } : null,
    explanation: { code: p.code, message, eta: eta !== null ? isoTime(eta) : null, next_action },
    confirmations: p.confirmations,
    chain: p.chain ? { chain_id: p.chain.chain_id, tx_hash: p.chain.tx_hash, log_index: p.chain.log_index, block_number: p.chain.block_number, from: p.chain.from, to: p.chain.to, token: p.chain.token } : null,
    counterparty: (p.kind === 'transfer' || p.kind === 'trade') && p.counterparty ? { email: email ?? null } : null,
    memo: p.memo,
    reference: p.reference,
    created_at: isoTime(p.created_at_ms),
    updated_at: isoTime(p.updated_at_ms),
    timeline: timeline.map((e) => ({
      at: isoTime(e.at_ms),
      status: e.status,
      code: e.code,
      message: explain(e.code, ctx.locale, { asset: p.asset, amount: formatAmount(p.amount_minor, decimals), current: '?', required: p.confirmations?.required ?? '?', message: '', ends_at: '', ...inLocale(e.params, ctx.locale) }).message,
    })),
  };
}
