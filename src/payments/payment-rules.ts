// The one payment model, as pure rules: the statuses of every kind, the transitions between
// them (a table plus an exhaustive switch, no default), why a payment is held, which
// explanation code describes it (when it should move next: payment-eta-rules.ts).
// No I/O: the store persists, payments.ts orchestrates, payment-dto.ts shapes the API answer.
import { assertNever } from '../shared/assert.ts';

export const PAYMENT_KINDS = ['deposit', 'withdrawal', 'transfer', 'invoice', 'trade'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];
export const DIRECTIONS = ['in', 'out'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const DEPOSIT_STATUSES = ['pending', 'confirming', 'held', 'credited', 'dropped', 'reversed', 'refunded'] as const;
export const WITHDRAWAL_STATUSES = ['requested', 'review', 'broadcast', 'confirming', 'completed', 'failed', 'cancelled', 'unknown'] as const;
export const TRANSFER_STATUSES = ['completed', 'held', 'failed'] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];
export type PaymentStatus = DepositStatus | WithdrawalStatus | TransferStatus;
export const PAYMENT_STATUSES: readonly PaymentStatus[] = [...new Set<PaymentStatus>([...DEPOSIT_STATUSES, ...WITHDRAWAL_STATUSES, ...TRANSFER_STATUSES])];

export const HOLD_REASONS = ['account_frozen', 'account_restricted', 'risk_review', 'maintenance', 'below_minimum', 'amount_mismatch', 'unattributed', 'kyc_limit'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export interface Hold {
  reason: HoldReason;
  since_ms: number;
}

/**
 * The statuses a kind may take. An invoice payment is an on-chain payment into an invoice's
 * address, so it lives through the deposit statuses; a trade settles inside the ledger like a
 * transfer.
 */
export function statusesOf(kind: PaymentKind): readonly PaymentStatus[] {
  switch (kind) {
    case 'deposit':
    case 'invoice':
      return DEPOSIT_STATUSES;
    case 'withdrawal':
      return WITHDRAWAL_STATUSES;
    case 'transfer':
    case 'trade':
      return TRANSFER_STATUSES;
    default:
      return assertNever(kind, 'payment kind');
  }
}

/** Where each status may go next (a status may always "go" to itself: confirmations tick). */
const DEPOSIT_TRANSITIONS: Record<DepositStatus, readonly DepositStatus[]> = {
  pending: ['confirming', 'held', 'credited', 'dropped'],
  confirming: ['held', 'credited', 'dropped'],
  held: ['credited', 'dropped', 'reversed', 'refunded'],
  credited: ['reversed'],
  dropped: ['pending', 'confirming'], // re-included after a reorg
  reversed: [],
  refunded: [],
};
const WITHDRAWAL_TRANSITIONS: Record<WithdrawalStatus, readonly WithdrawalStatus[]> = {
  requested: ['review', 'broadcast', 'failed', 'cancelled'],
  review: ['requested', 'broadcast', 'failed', 'cancelled'],
  broadcast: ['confirming', 'completed', 'failed', 'unknown'],
  confirming: ['broadcast', 'completed', 'failed', 'unknown'], // back to broadcast after a reorg
  completed: [],
  failed: [],
  cancelled: [],
  // The nonce is used but no receipt of ours is found yet: only a receipt moves it on.
  unknown: ['confirming', 'completed', 'failed'],
};
const TRANSFER_TRANSITIONS: Record<TransferStatus, readonly TransferStatus[]> = {
  completed: [],
  held: ['completed', 'failed'],
  failed: [],
};

function includes<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** canTransition('deposit', 'confirming', 'credited') -> true */
export function canTransition(kind: PaymentKind, from: PaymentStatus, to: PaymentStatus): boolean {
  if (from === to) return true;
  switch (kind) {
    case 'deposit':
    case 'invoice':
      return includes(DEPOSIT_STATUSES, from) && includes(DEPOSIT_TRANSITIONS[from], to);
    case 'withdrawal':
      return includes(WITHDRAWAL_STATUSES, from) && includes(WITHDRAWAL_TRANSITIONS[from], to);
    case 'transfer':
    case 'trade':
      return includes(TRANSFER_STATUSES, from) && includes(TRANSFER_TRANSITIONS[from], to);
    default:
      return assertNever(kind, 'payment kind');
  }
}

export function isStatusOf(kind: PaymentKind, status: string): status is PaymentStatus {
  return includes(statusesOf(kind), status);
}

/** A status no transition leaves (the timeline is final). */
export function isTerminal(kind: PaymentKind, status: PaymentStatus): boolean {
  return statusesOf(kind).every((to) => to === status || !canTransition(kind, status, to));
}

/** Every explanation code; payment-messages.ts translates each one in both languages. */
export const EXPLANATION_CODES = [
  'deposit_pending',
  'deposit_confirming',
  'deposit_credited',
  'deposit_dropped',
  'deposit_reversed',
  'deposit_refunded',
  'withdrawal_requested',
  'withdrawal_review',
  'withdrawal_review_large_amount',
  'withdrawal_review_new_account',
  'withdrawal_review_new_address',
  'withdrawal_broadcast',
  'withdrawal_confirming',
  'withdrawal_completed',
  'withdrawal_failed',
  'withdrawal_failed_invalid_address',
  'withdrawal_rejected',
  'withdrawal_cancelled',
  'withdrawal_cancelled_account_blocked',
  'withdrawal_unknown',
  'transfer_sent',
  'transfer_received',
  'transfer_failed',
  'invoice_payment_received',
  'held_account_frozen',
  'held_account_restricted',
  'held_risk_review',
  'held_maintenance',
  'held_below_minimum',
  'held_amount_mismatch',
  'held_unattributed',
  'held_kyc_limit',
  'released',
] as const;
export type ExplanationCode = (typeof EXPLANATION_CODES)[number];

export function isExplanationCode(code: string): code is ExplanationCode {
  return includes(EXPLANATION_CODES, code);
}

export function holdCode(reason: HoldReason): ExplanationCode {
  switch (reason) {
    case 'account_frozen':
      return 'held_account_frozen';
    case 'account_restricted':
      return 'held_account_restricted';
    case 'risk_review':
      return 'held_risk_review';
    case 'maintenance':
      return 'held_maintenance';
    case 'below_minimum':
      return 'held_below_minimum';
    case 'amount_mismatch':
      return 'held_amount_mismatch';
    case 'unattributed':
      return 'held_unattributed';
    case 'kyc_limit':
      return 'held_kyc_limit';
    default:
      return assertNever(reason, 'hold reason');
  }
}

/**
 * The default code for a status when the caller names none. A held payment is explained by
 * its hold reason, whatever its status (a confirming deposit can already be known to be held).
 */
export function defaultCode(kind: PaymentKind, direction: Direction, status: PaymentStatus, hold: HoldReason | null): ExplanationCode {
  if (hold) return holdCode(hold);
  switch (kind) {
    case 'deposit':
    case 'invoice':
      return depositCode(status, kind);
    case 'withdrawal':
      return withdrawalCode(status);
    case 'transfer':
    case 'trade':
      if (status === 'failed') return 'transfer_failed';
      return direction === 'in' ? 'transfer_received' : 'transfer_sent';
    default:
      return assertNever(kind, 'payment kind');
  }
}

function depositCode(status: PaymentStatus, kind: 'deposit' | 'invoice'): ExplanationCode {
  switch (status) {
    case 'pending':
      return 'deposit_pending';
    case 'confirming':
      return 'deposit_confirming';
    case 'credited':
      return kind === 'invoice' ? 'invoice_payment_received' : 'deposit_credited';
    case 'dropped':
      return 'deposit_dropped';
    case 'reversed':
      return 'deposit_reversed';
    case 'refunded':
      return 'deposit_refunded';
    case 'held':
      return 'held_unattributed';
    case 'requested':
    case 'review':
    case 'broadcast':
    case 'completed':
    case 'failed':
    case 'cancelled':
    case 'unknown':
      return 'deposit_pending'; // not deposit statuses; isStatusOf guards writes
    default:
      return assertNever(status, 'payment status');
  }
}

function withdrawalCode(status: PaymentStatus): ExplanationCode {
  switch (status) {
    case 'requested':
      return 'withdrawal_requested';
    case 'review':
      return 'withdrawal_review';
    case 'broadcast':
      return 'withdrawal_broadcast';
    case 'confirming':
      return 'withdrawal_confirming';
    case 'completed':
      return 'withdrawal_completed';
    case 'failed':
      return 'withdrawal_failed';
    case 'cancelled':
      return 'withdrawal_cancelled';
    case 'unknown':
      return 'withdrawal_unknown';
    case 'pending':
    case 'held':
    case 'credited':
    case 'dropped':
    case 'reversed':
    case 'refunded':
      return 'withdrawal_requested'; // not withdrawal statuses; isStatusOf guards writes
    default:
      return assertNever(status, 'payment status');
  }
}


/** The outbox event type of a status change: 'payment.credited'. */
export function eventTypeOf(status: PaymentStatus): string {
  return `payment.${status}`;
}

/** Assets the configuration knows, with their decimals and chain (from settle.config.json). */
export interface AssetInfo {
  code: string;
  decimals: number;
  chain_id: number | null;
  contract_address: string | null;
  /**
   * US dollars per whole unit, for KYC limits: the configured `usd_price`, '1' for a USD
   * stablecoin without one, null when unknown (the asset is then not limited by KYC amounts).
   */
  usd_price: string | null;
}

/** Counted 1:1 against US dollars when the configuration gives them no usd_price. */
export const USD_STABLECOINS: ReadonlySet<string> = new Set(['USDT', 'USDC', 'DAI', 'PYUSD', 'FDUSD', 'TUSD', 'USDP']);

type ConfiguredAsset = { symbol: string; decimals: number; usd_price?: string | undefined };

export function assetsFromChains(
  chains: ReadonlyArray<{ chain_id: number; native?: ConfiguredAsset | undefined; tokens?: ReadonlyArray<ConfiguredAsset & { address: string }> | undefined }>,
): AssetInfo[] {
  const price = (a: ConfiguredAsset) => a.usd_price ?? (USD_STABLECOINS.has(a.symbol) ? '1' : null);
  const out: AssetInfo[] = [];
  for (const c of chains) {
    if (c.native) out.push({ code: c.native.symbol, decimals: c.native.decimals, chain_id: c.chain_id, contract_address: null, usd_price: price(c.native) });
    for (const t of c.tokens ?? []) out.push({ code: t.symbol, decimals: t.decimals, chain_id: c.chain_id, contract_address: t.address.toLowerCase(), usd_price: price(t) });
  }
  return out;
}

/**
 * An amount in US dollar cents, the KYC limits' unit, rounded up so that a limit is never
 * undercounted; null when the asset has no price.
 * referenceCents({ decimals: 18, usd_price: '3000' }, 10n ** 17n) -> 30000n (0.1 ETH = 300 USD)
 */
export function referenceCents(asset: Pick<AssetInfo, 'decimals' | 'usd_price'>, amount_minor: bigint): bigint | null {
  if (asset.usd_price === null) return null;
  const [whole, frac = ''] = asset.usd_price.split('.');
  const price = BigInt(`${whole}${frac}`);
  const num = amount_minor * price * 100n;
  const den = 10n ** BigInt(asset.decimals + frac.length);
  return (num + den - 1n) / den;
}

/**
 * The lock that serialises one user's money-moving transactions (transfers and withdrawals), so
 * that the day's KYC total read inside one holds until it commits (db serialiseOn).
 * userMoneyLock('usr_1') -> 'user-money:usr_1'
 */
export function userMoneyLock(user_id: string): string {
  return `user-money:${user_id}`;
}
