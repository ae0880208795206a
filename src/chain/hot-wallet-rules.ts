// The sender's vocabulary (what is asked of it, what it answers) and its pure decisions: what a
// node's error means, what a transaction takes out of the wallet, and how much a replacement's
// fees must rise. No I/O here: hot-wallet.ts acts on them.
import { encodeFunctionData, erc20Abi } from 'viem';
import type { ChainTxsTable } from '../db/schema-chain.ts';
import type { Hex } from './chain-types.ts';

export interface TxIntent {
  /** Who asked: withdrawal | sweep_gas | sweep | … */
  purpose: string;
  /** The asker's id; (purpose, purpose_id) is unique: preparing twice returns the first. */
  purpose_id: string;
  to: Hex;
  value_minor: bigint;
  data?: Hex;
  confirmations_required: number;
  /** Skip estimation (tests, or a known-good fixed limit). */
  gas_limit?: bigint;
  /** Fixed fees (a native sweep sends "balance minus fees" and must know them in advance). */
  fees?: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
}

export type PrepareResult =
  | { ok: true; tx: ChainTxsTable }
  /** Refused before a nonce was taken: nothing to clean up. */
  | { ok: false; code: 'reverted'; reason: string };

/** What a refresh found: the status of the logical transaction after it. */
export interface TxView {
  id: string;
  /**
   * `unknown`: the node says the nonce is used, but no receipt of any of our attempts is found
   * (a lagging or load-balanced RPC answers so while our transaction is already mined). Never
   * taken for a failure: refresh keeps looking for a receipt, and the owner raises it to staff.
   */
  status: 'signed' | 'broadcast' | 'mined' | 'confirmed' | 'failed' | 'unknown';
  nonce: number;
  /** The hash to show: the mined attempt, else the newest one. */
  hash: Hex;
  block_number: number | null;
  confirmations: number;
  confirmations_required: number;
  failure_reason: string | null;
  gas_fee_minor: bigint | null;
}

/** Both fees of a replacement are at least old × 1125 / 1000 (+1 wei): nodes ask for ≥ 10–12.5 %. */
export const FEE_BUMP_PER_MILLE = 1125n;
/** The calldata of an ERC-20 transfer(to, amount). */
export function erc20TransferData(to: Hex, amount_minor: bigint): Hex {
  return encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [to, amount_minor] });
}

export function errorText(error: unknown): string {
  const e = error as { shortMessage?: string; details?: string; message?: string };
  const head = (e?.shortMessage ?? e?.message ?? String(error)).split('\n')[0]!;
  return [head, e?.details?.split('\n')[0]].filter(Boolean).join(' — ').slice(0, 500);
}

/** A network-level failure (node unreachable, timeout): not the node refusing the transaction. */
export function isNetworkError(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  return name === 'HttpRequestError' || name === 'TimeoutError' || /fetch failed|ECONNREFUSED|socket hang up/i.test(errorText(error));
}

/** Broadcast "errors" that mean the node already has this nonce covered: the receipt will tell. */
export function isAlreadyCovered(error: unknown): boolean {
  return /already known|known transaction|nonce too low|replacement transaction underpriced|already imported/i.test(errorText(error));
}

export function isRevert(error: unknown): boolean {
  return /revert|execution reverted|ERC20Insufficient|insufficient balance/i.test(errorText(error)) && !/insufficient funds for gas/i.test(errorText(error));
}

const ERC20_TRANSFER_SELECTOR = '0xa9059cbb';

/**
 * What a transaction takes out of the sending wallet: an ERC-20 transfer's amount of its token
 * (gas aside), or native value + the most its gas can cost. `amount` is what this one needs.
 */
export function spendOf(t: { to: Hex; value_minor: bigint; data?: Hex }, gas: bigint, maxFeePerGas: bigint) {
  const data = (t.data ?? '0x').toLowerCase();
  const tokenAmount = data.startsWith(ERC20_TRANSFER_SELECTOR) && data.length >= 138 ? BigInt(`0x${data.slice(74, 138)}`) : null;
  const token = tokenAmount !== null ? (t.to.toLowerCase() as Hex) : null;
  const native = t.value_minor + gas * maxFeePerGas;
  return { token, amount: tokenAmount ?? native, native };
}

export function bump(old: bigint, estimate: bigint): bigint {
  const min = (old * FEE_BUMP_PER_MILLE + 999n) / 1000n + 1n;
  return estimate > min ? estimate : min;
}
