// Withdrawal rules (pure): the status transition table with an exhaustive switch, what the job
// does in each status, the confirmations required for an amount, and the ledger ids derived from
// the withdrawal's id (so that a retry after a crash finds the same transfers, never new ones).
import { assertNever } from '../../shared/assert.ts';
import { deterministicId } from '../../shared/ids.ts';
import { parseAmount } from '../../shared/money.ts';

export const WITHDRAWAL_STATUSES = ['requested', 'review', 'broadcast', 'confirming', 'completed', 'failed', 'cancelled'] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];

const TRANSITIONS: Record<WithdrawalStatus, readonly WithdrawalStatus[]> = {
  requested: ['review', 'broadcast', 'failed', 'cancelled'],
  review: ['requested', 'failed', 'cancelled'],
  broadcast: ['confirming', 'completed', 'failed'],
  confirming: ['broadcast', 'completed', 'failed'], // back to broadcast when a reorg drops the block
  completed: [],
  failed: [],
  cancelled: [],
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

/**
 * The KYC daily limit in the asset's units, for assets counted 1:1 against US dollars
 * (stablecoins); null when the asset has no reference price (no limit can be applied here).
 * dailyLimitInAsset(100000n, 2, 6) -> 1_000_000000n (1,000 USD as 6-decimal USDT)
 */
export function dailyLimitInAsset(limit_cents: bigint, limit_decimals: number, asset_decimals: number | null): bigint | null {
  if (asset_decimals === null) return null;
  return asset_decimals >= limit_decimals ? limit_cents * 10n ** BigInt(asset_decimals - limit_decimals) : limit_cents / 10n ** BigInt(limit_decimals - asset_decimals);
}

/** Assets counted 1:1 against US dollars for KYC limits. */
export const USD_STABLE = new Set(['USDT', 'USDC', 'DAI']);
