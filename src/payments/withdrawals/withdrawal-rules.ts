// Withdrawal rules (pure): the status transition table with an exhaustive switch, what the job
// does in each status, the confirmations required for an amount, and the ledger ids derived from
// the withdrawal's id (so that a retry after a crash finds the same transfers, never new ones).
import { assertNever } from '../../shared/assert.ts';
import { deterministicId } from '../../shared/ids.ts';
import { parseAmount } from '../../shared/money.ts';
import { referenceCents, WITHDRAWAL_STATUSES, type AssetInfo, type WithdrawalStatus } from '../payment-rules.ts';

// A withdrawal row has the statuses of its payment (payment-rules.ts); its own moves are stricter
// (review only goes back to requested: the job broadcasts it, never the staff decision).
export { WITHDRAWAL_STATUSES, type WithdrawalStatus } from '../payment-rules.ts';

const TRANSITIONS: Record<WithdrawalStatus, readonly WithdrawalStatus[]> = {
  requested: ['review', 'broadcast', 'failed', 'cancelled'],
  review: ['requested', 'failed', 'cancelled'],
  broadcast: ['confirming', 'completed', 'failed', 'unknown'],
  confirming: ['broadcast', 'completed', 'failed', 'unknown'], // back to broadcast when a reorg drops the block
  completed: [],
  failed: [],
  cancelled: [],
  // The node says the nonce is used, no receipt of ours is found: never voided on that alone;
  // watched until a receipt says how it ended (staff are told meanwhile).
  unknown: ['confirming', 'completed', 'failed'],
};

export function canMove(from: WithdrawalStatus, to: WithdrawalStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export function isWithdrawalStatus(s: string): s is WithdrawalStatus {
  return (WITHDRAWAL_STATUSES as readonly string[]).includes(s);
}

/** What the withdrawal job does for a status. */
export type NextStep = 'sign_and_broadcast' | 'track' | 'wait_for_staff' | 'done';

export function nextStep(status: WithdrawalStatus): NextStep {
  switch (status) {
    case 'requested':
      return 'sign_and_broadcast';
    case 'broadcast':
    case 'confirming':
    case 'unknown':
      return 'track';
    case 'review':
      return 'wait_for_staff';
    case 'completed':
    case 'failed':
    case 'cancelled':
      return 'done';
    default:
      return assertNever(status, 'withdrawal status');
  }
}

export interface ConfirmationTier {
  max_amount: string | null;
  blocks: number;
}

/** confirmationsFor(1500_000000n, 6, tiers) -> the blocks of the first tier that covers the amount (1 without tiers). */
export function confirmationsFor(amount_minor: bigint, decimals: number, tiers: readonly ConfirmationTier[] | undefined): number {
  for (const tier of tiers ?? []) {
    if (tier.max_amount === null) return tier.blocks;
    const max = parseAmount(tier.max_amount, decimals);
    if (max.ok && amount_minor <= max.amount_minor) return tier.blocks;
  }
  return tiers?.length ? tiers[tiers.length - 1]!.blocks : 1;
}

/** Ids derived from (user, Idempotency-Key): the same request always names the same records. */
export function withdrawalIds(user_id: string, idempotency_key: string): { id: string; amount_transfer_id: string; fee_transfer_id: string } {
  const id = deterministicId('pay', 'withdrawal', user_id, idempotency_key);
  return { id, amount_transfer_id: `wd:${id}:amount`, fee_transfer_id: `wd:${id}:fee` };
}

/**
 * The gas booking of a withdrawal's mined transaction, from the chain tx itself: one per mined
 * hash, so a re-run of the job (or a second worker) books it once.
 * withdrawalGasId(31337, '0xab…') -> 'gas:31337:0xab…'
 */
export function withdrawalGasId(chain_id: number, mined_hash: string): string {
  return `gas:${chain_id}:${mined_hash.toLowerCase()}`;
}

export function postIds(id: string): { amount: string; fee: string } {
  return { amount: `wd:${id}:amount:post`, fee: `wd:${id}:fee:post` };
}

export function voidIds(id: string): { amount: string; fee: string } {
  return { amount: `wd:${id}:amount:void`, fee: `wd:${id}:fee:void` };
}

// ------------------------------------------------------------------ KYC daily limit

/**
 * The KYC daily withdrawal limit, in US dollars across every priced asset, so that splitting a
 * day's withdrawals over USDT, USDC and ETH does not multiply it. An asset without a price is not
 * limited here (its withdrawals still go to review above review_above) and counts 0.
 * dailyLimitRefusal(assets, 'ETH', 10n ** 17n, [{ asset: 'USDT', amount_minor: 900_000000n }], { decimals: 2, daily_withdrawal_minor: 100000n })
 *   -> { amount_cents: 30000n, used_cents: 90000n, limit_cents: 100000n }   (ETH at 3,000 USD)
 */
export function dailyLimitRefusal(
  assets: ReadonlyMap<string, Pick<AssetInfo, 'decimals' | 'usd_price'>>,
  asset: string,
  amount_minor: bigint,
  withdrawn: ReadonlyArray<{ asset: string; amount_minor: bigint }>,
  limit: { decimals: number; daily_withdrawal_minor: bigint },
): { amount_cents: bigint; used_cents: bigint; limit_cents: bigint } | null {
  const info = assets.get(asset);
  const amount_cents = info ? referenceCents(info, amount_minor) : null;
  if (amount_cents === null) return null;
  const d = limit.decimals;
  const limit_cents = d >= 2 ? limit.daily_withdrawal_minor / 10n ** BigInt(d - 2) : limit.daily_withdrawal_minor * 10n ** BigInt(2 - d);
  let used_cents = 0n;
  for (const r of withdrawn) {
    const a = assets.get(r.asset);
    used_cents += (a && referenceCents(a, r.amount_minor)) ?? 0n;
  }
  return used_cents + amount_cents > limit_cents ? { amount_cents, used_cents, limit_cents } : null;
}

// ------------------------------------------------------------------ risk review
// A withdrawal waits for staff (status `review`, hold `risk_review`) when one of these fires.
// Pure: the facts (account age, recent credential changes, addresses used) are read elsewhere.

export const REVIEW_RULES = ['large_amount', 'new_account', 'new_address_after_credential_change'] as const;
export type ReviewRule = (typeof REVIEW_RULES)[number];

/** Review thresholds used when the chains configuration names no `review_above` for the asset. */
export const DEFAULT_REVIEW_ABOVE: Readonly<Record<string, string>> = { USDT: '10000', USDC: '10000', DAI: '10000', ETH: '5' };

/** How long after registration (and after a password or email change) the account counts as new. */
export const NEW_ACCOUNT_MS = 24 * 3600_000;

/**
 * The review threshold of an asset in minor units: the configured `review_above`, else the
 * default for its symbol, else none (null).
 * reviewThreshold('USDT', 6, undefined) -> 10_000_000000n
 */
export function reviewThreshold(asset: string, decimals: number, configured: string | undefined): bigint | null {
  const text = configured ?? DEFAULT_REVIEW_ABOVE[asset];
  if (text === undefined) return null;
  const r = parseAmount(text, decimals);
  return r.ok ? r.amount_minor : null;
}

export interface ReviewFacts {
  now_ms: number;
  amount_minor: bigint;
  /** null: the asset has no threshold. */
  threshold_minor: bigint | null;
  /** null: unknown (no accounts module behind the withdrawals). */
  account_created_at_ms: number | null;
  /** Most recent password or email change, null if none (or unknown). */
  credentials_changed_at_ms: number | null;
  /** Whether this user has sent a withdrawal to this address before. */
  address_used_before: boolean;
  /** The new-account window; null turns the rule off. */
  new_account_ms: number | null;
}

/**
 * The review rules that fire, in order of weight (the first one explains the review).
 * reviewRules({amount_minor: 20_000n, threshold_minor: 10_000n, …}) -> ['large_amount']
 */
export function reviewRules(f: ReviewFacts): ReviewRule[] {
  const out: ReviewRule[] = [];
  if (f.threshold_minor !== null && f.amount_minor >= f.threshold_minor) out.push('large_amount');
  if (f.new_account_ms !== null && f.account_created_at_ms !== null && f.now_ms - f.account_created_at_ms < f.new_account_ms) out.push('new_account');
  if (!f.address_used_before && f.credentials_changed_at_ms !== null && f.now_ms - f.credentials_changed_at_ms < NEW_ACCOUNT_MS) out.push('new_address_after_credential_change');
  return out;
}

export function isReviewRule(s: string): s is ReviewRule {
  return (REVIEW_RULES as readonly string[]).includes(s);
}

/** The explanation code that says why a withdrawal is in review (its first rule). */
export function reviewCode(rule: ReviewRule): 'withdrawal_review_large_amount' | 'withdrawal_review_new_account' | 'withdrawal_review_new_address' {
  switch (rule) {
    case 'large_amount':
      return 'withdrawal_review_large_amount';
    case 'new_account':
      return 'withdrawal_review_new_account';
    case 'new_address_after_credential_change':
      return 'withdrawal_review_new_address';
    default:
      return assertNever(rule, 'review rule');
  }
}

export type ReviewDecision = 'approve' | 'reject';

/**
 * What a staff decision does to a withdrawal: the status it moves to, or why it is refused.
 * decideReview('review', 'usr_a', 'usr_b', 'approve') -> { ok: true, to: 'requested' }
 */
export function decideReview(status: WithdrawalStatus, owner_id: string, staff_id: string, decision: ReviewDecision): { ok: true; to: WithdrawalStatus } | { ok: false; status: 403 | 409; code: 'own_withdrawal' | 'review_closed' } {
  if (owner_id === staff_id) return { ok: false, status: 403, code: 'own_withdrawal' };
  if (status !== 'review') return { ok: false, status: 409, code: 'review_closed' };
  return { ok: true, to: decision === 'approve' ? 'requested' : 'failed' };
}

/**
 * How many different staff members must approve a withdrawal in review: two at or above the
 * four-eyes amount (API.md part 2, `four_eyes_above_usd`), and two when the asset has no US dollar
 * price (its worth cannot be judged, so the stricter rule holds); one below it.
 * reviewApprovalsRequired(6000n, 100000n) -> 1; reviewApprovalsRequired(100000n, 100000n) -> 2
 */
export function reviewApprovalsRequired(amount_cents: bigint | null, four_eyes_cents: bigint): 1 | 2 {
  return amount_cents === null || amount_cents >= four_eyes_cents ? 2 : 1;
}
