// Pure deposit rules: which assets a chain carries, how many confirmations an amount needs, where
// a deposit is credited, the deterministic ids of its ledger transfers, and the status table.
// No I/O here; the scanner (deposit-scanner.ts) owns the state and the calls.
import type { ChainConfigFile } from '../../config.ts';
import type { AssetSpec } from '../../ledger/ledger.ts';
import { assert, assertNever } from '../../shared/assert.ts';
import { deterministicId } from '../../shared/ids.ts';
import { parseAmount } from '../../shared/money.ts';
import type { DepositStatus, HoldReason } from '../payment-rules.ts';

export interface ConfirmationTier {
  /** null: the open-ended last tier. */
  max_amount_minor: bigint | null;
  blocks: number;
}

export interface ChainAsset {
  code: string;
  decimals: number;
  chain_id: number;
  /** ERC-20 contract (lower-case), null for the native coin. */
  token: `0x${string}` | null;
  min_deposit_minor: bigint;
  /** Withdrawals of at least this amount go to review; null: the configuration names none. */
  review_above_minor: bigint | null;
  tiers: ConfirmationTier[];
}

/** Used when the configuration names no tiers for an asset. */
export const DEFAULT_CONFIRMATIONS_BLOCKS = 12;

function toMinor(text: string, decimals: number, what: string): bigint {
  const r = parseAmount(text, decimals);
  assert(r.ok, `${what}: "${text}" is not an amount with at most ${decimals} decimals`);
  return r.amount_minor;
}

/** chainAssets(chainConfig) -> the native coin (if any) and the tokens, amounts in minor units. */
export function chainAssets(chain: ChainConfigFile): ChainAsset[] {
  const out: ChainAsset[] = [];
  const add = (a: { symbol: string; decimals: number; min_deposit?: string | undefined; review_above?: string | undefined; confirmations?: Array<{ max_amount: string | null; blocks: number }> | undefined }, token: `0x${string}` | null) => {
    const tiers = (a.confirmations ?? [{ max_amount: null, blocks: DEFAULT_CONFIRMATIONS_BLOCKS }]).map((t) => ({
      max_amount_minor: t.max_amount === null ? null : toMinor(t.max_amount, a.decimals, `${a.symbol} confirmations`),
      blocks: t.blocks,
    }));
    out.push({ code: a.symbol, decimals: a.decimals, chain_id: chain.chain_id, token, min_deposit_minor: a.min_deposit ? toMinor(a.min_deposit, a.decimals, `${a.symbol} min_deposit`) : 1n, review_above_minor: a.review_above ? toMinor(a.review_above, a.decimals, `${a.symbol} review_above`) : null, tiers });
  };
  if (chain.native) add(chain.native, null);
  for (const t of chain.tokens ?? []) add(t, t.address.toLowerCase() as `0x${string}`);
  return out;
}

/** The ledger's asset registry entries for the configured chains. */
export function assetSpecs(chains: readonly ChainConfigFile[]): AssetSpec[] {
  return chains.flatMap((c) => chainAssets(c).map((a) => ({ code: a.code, decimals: a.decimals, chain_id: a.chain_id, contract_address: a.token })));
}

/**
 * requiredConfirmations(tiers, 1500_000000n) -> 6 with the USDT default tiers: the first tier
 * whose max_amount covers the amount (inclusive); above every bounded tier, the open one (or the
 * largest bounded tier's blocks when the configuration has no open tier).
 */
export function requiredConfirmations(tiers: readonly ConfirmationTier[], amount_minor: bigint): number {
  assert(tiers.length > 0, 'an asset has at least one confirmation tier');
  const sorted = [...tiers].sort((a, b) => (a.max_amount_minor === null ? 1 : b.max_amount_minor === null ? -1 : a.max_amount_minor < b.max_amount_minor ? -1 : 1));
  for (const t of sorted) if (t.max_amount_minor === null || amount_minor <= t.max_amount_minor) return t.blocks;
  return Math.max(...sorted.map((t) => t.blocks));
}

/** The inclusion block counts as 1: confirmations(head 105, block 100) -> 6; 0 before inclusion. */
export function confirmationsAt(head: number, block_number: number | null): number {
  if (block_number === null || head < block_number) return 0;
  return head - block_number + 1;
}

export type ReceiveMode = 'credit' | 'hold' | 'refuse';

/** Where a deposit goes: available, or held (frozen/closed account, below the minimum). */
export function creditDecision(mode: ReceiveMode, amount_minor: bigint, min_deposit_minor: bigint): { credit_kind: 'user_available' | 'user_held'; hold: HoldReason | null } {
  if (amount_minor < min_deposit_minor) return { credit_kind: 'user_held', hold: 'below_minimum' };
  switch (mode) {
    case 'credit':
      return { credit_kind: 'user_available', hold: null };
    case 'hold':
      return { credit_kind: 'user_held', hold: 'account_frozen' };
    case 'refuse':
      // A closed account cannot refuse coins already on chain: they are held, never lost.
      return { credit_kind: 'user_held', hold: 'account_restricted' };
    default:
      return assertNever(mode, 'receive mode');
  }
}

/** A native transfer has no log: it is recorded with log index -1. */
export const NATIVE_LOG_INDEX = -1;

/**
 * The log index a native transfer is recorded with: -1 for the transaction's own value; -2, -3, …
 * for coins a contract moved inside it (the n-th internal transfer of the transaction: -2 - n).
 */
export function nativeLogIndex(internal_index: number | undefined): number {
  return internal_index === undefined ? NATIVE_LOG_INDEX : NATIVE_LOG_INDEX - 1 - internal_index;
}

export function depositId(chain_id: number, tx_hash: string, log_index: number): string {
  return deterministicId('dep', String(chain_id), tx_hash.toLowerCase(), String(log_index));
}

export function depositPaymentId(chain_id: number, tx_hash: string, log_index: number): string {
  return deterministicId('pay', 'dep', String(chain_id), tx_hash.toLowerCase(), String(log_index));
}

/**
 * Ledger transfer ids derive from (chain id, tx hash, log index) and the generation (a deposit
 * dropped by a reorg and later re-included starts a new generation, since a voided id is spent).
 */
export function depositTransferIds(chain_id: number, tx_hash: string, log_index: number, generation: number) {
  const base = `dep:${chain_id}:${tx_hash.toLowerCase()}:${log_index}${generation ? `:g${generation}` : ''}`;
  return { pending: `${base}:pending`, post: `${base}:post`, void: `${base}:void`, reverse: `${base}:reverse` };
}

/** Scanner's deposit statuses and their moves (a subset of the API's deposit statuses). */
export const SCANNER_TRANSITIONS: Record<DepositStatus, readonly DepositStatus[]> = {
  pending: ['confirming', 'dropped'],
  confirming: ['held', 'credited', 'dropped'],
  held: ['credited', 'reversed', 'refunded'],
  credited: ['reversed'],
  dropped: ['confirming'],
  reversed: [],
  refunded: [],
};

export function canMove(from: DepositStatus, to: DepositStatus): boolean {
  return from === to || SCANNER_TRANSITIONS[from].includes(to);
}

/** What to do with a deposit whose block vanished in a reorg and was not seen again. */
export function orphanOutcome(status: DepositStatus): 'void' | 'reverse' | 'none' {
  switch (status) {
    case 'pending':
    case 'confirming':
      return 'void';
    case 'held':
    case 'credited':
      return 'reverse';
    case 'dropped':
    case 'reversed':
    case 'refunded':
      return 'none';
    default:
      return assertNever(status, 'deposit status');
  }
}

/** Block-time samples kept to measure the pace of a chain (from when heads were seen). */
export const BLOCK_TIME_SAMPLES_MAX = 32;

/** addHeadSample(samples, { number: 12, seen_at_ms }) keeps the first sighting of each new head. */
export function addHeadSample(samples: Array<{ number: number; seen_at_ms: number }>, s: { number: number; seen_at_ms: number }): void {
  const last = samples[samples.length - 1];
  if (last && s.number <= last.number) {
    // A lower head is a reorg or a restarted node: the pace restarts from here.
    if (s.number < last.number) samples.splice(0, samples.length, s);
    return;
  }
  samples.push(s);
  if (samples.length > BLOCK_TIME_SAMPLES_MAX) samples.shift();
}
