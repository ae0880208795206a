// Operator funding of a hot wallet: coins the operator sends to the hot wallet from outside
// (a top-up, or the dev chain's initial float) are booked debit hot_wallet / credit external
// ("operator capital"), so that the hot wallet's ledger balance can be compared with the chain.
//
// Nothing here trusts a caller's amount: fundingFromTx() reads the transaction's receipt and
// books exactly what it moved to the hot wallet — each ERC-20 Transfer log of a configured token
// whose recipient is the hot wallet, and the native value of a successful transaction sent to it.
// Every booking's id derives from (chain id, tx hash, log index | 'native'), so a second recording
// of the same transaction answers `exists` and books nothing.
import type { Transaction } from 'kysely';
import { decodeEventLog, erc20Abi, TransactionReceiptNotFoundError, type PublicClient } from 'viem';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { TransferResultCode } from '../../ledger/ledger.ts';
import type { Hex } from '../../chain/chain.ts';
import { platformAccount } from './chart.ts';

/** fundingTransferId(31337, '0xab…', 2) -> 'funding:31337:0xab…:2'; native value: log_index null -> ':native'. */
export function fundingTransferId(chain_id: number, tx_hash: string, log_index: number | null): string {
  return `funding:${chain_id}:${tx_hash.toLowerCase()}:${log_index === null ? 'native' : log_index}`;
}

/** Coins a chain's genesis gave the hot wallet (dev chains only): one booking per chain, address and asset. */
export function genesisFundingTransferId(chain_id: number, address: string, asset: string): string {
  return `funding:${chain_id}:genesis:${address.toLowerCase()}:${asset}`;
}

export interface FundingAssets {
  /** The chain's native coin code (ETH), or null. */
  native: string | null;
  tokens: ReadonlyArray<{ code: string; contract: Hex }>;
}

/** One movement of coins into the hot wallet found in a transaction. */
export interface FundingItem {
  asset: string;
  amount_minor: bigint;
  /** The Transfer log's index; null for the native value. */
  log_index: number | null;
  transfer_id: string;
}

export type FundingFinding =
  | { ok: true; tx_hash: Hex; block_number: bigint; from: Hex; items: FundingItem[] }
  | { ok: false; code: 'not_found' | 'failed_on_chain' | 'nothing_to_hot_wallet'; detail: string };

/**
 * Reads a transaction and lists what it moved to `hot`: fundingFromTx(client, 31337, hot, assets, hash).
 * Tokens not configured (matched by contract, never by symbol) are ignored.
 */
export async function fundingFromTx(client: PublicClient, chain_id: number, hot: Hex, assets: FundingAssets, tx_hash: Hex): Promise<FundingFinding> {
  let receipt;
  try {
    receipt = await client.getTransactionReceipt({ hash: tx_hash });
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError || (error as Error)?.name === 'TransactionReceiptNotFoundError') {
      return { ok: false, code: 'not_found', detail: `chain ${chain_id} has no mined transaction ${tx_hash}` };
    }
    throw error;
  }
  if (receipt.status !== 'success') return { ok: false, code: 'failed_on_chain', detail: `transaction ${tx_hash} reverted on chain ${chain_id}: it moved nothing` };
  const hotLc = hot.toLowerCase();
  const items: FundingItem[] = [];
  for (const log of receipt.logs) {
    const token = assets.tokens.find((t) => t.contract.toLowerCase() === log.address.toLowerCase());
    if (!token) continue;
    let ev;
    try {
      ev = decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics });
    } catch {
      continue;
    }
    if (ev.eventName !== 'Transfer') continue;
    const args = ev.args as { from: Hex; to: Hex; value: bigint };
    if (args.to.toLowerCase() !== hotLc || args.value === 0n || args.from.toLowerCase() === hotLc) continue;
    items.push({ asset: token.code, amount_minor: args.value, log_index: log.logIndex, transfer_id: fundingTransferId(chain_id, tx_hash, log.logIndex) });
  }
  if (assets.native && receipt.to?.toLowerCase() === hotLc && receipt.from.toLowerCase() !== hotLc) {
    const tx = await client.getTransaction({ hash: tx_hash });
    if (tx.value > 0n) items.push({ asset: assets.native, amount_minor: tx.value, log_index: null, transfer_id: fundingTransferId(chain_id, tx_hash, null) });
  }
  if (items.length === 0) return { ok: false, code: 'nothing_to_hot_wallet', detail: `transaction ${tx_hash} moved no configured asset to the hot wallet ${hotLc}` };
  return { ok: true, tx_hash: tx_hash.toLowerCase() as Hex, block_number: receipt.blockNumber, from: receipt.from.toLowerCase() as Hex, items };
}

export interface FundingBooked {
  item: FundingItem;
  /** ok: booked now; exists: booked before (nothing changed). */
  result: 'ok' | 'exists';
}

/**
 * Books funding items (debit hot_wallet / credit external) in the caller's transaction, or
 * through group commit without one. Any result other than ok/exists throws: an id booked
 * before with other fields means the records disagree with the chain, which a person must see.
 */
export async function bookFunding(ledger: Ledger, items: readonly FundingItem[], reference: string, trx?: Transaction<Database>): Promise<FundingBooked[]> {
  if (items.length === 0) return [];
  const assets = [...new Set(items.map((i) => i.asset))];
  await ledger.ensureAccounts(assets.flatMap((a) => [platformAccount(a, 'hot_wallet'), platformAccount(a, 'external')]), trx);
  const batch = items.map((i) => ({
    id: i.transfer_id,
    debit_account_id: platformAccount(i.asset, 'hot_wallet').id,
    credit_account_id: platformAccount(i.asset, 'external').id,
    amount_minor: i.amount_minor,
    asset: i.asset,
    reason: 'hot_wallet_funding',
    reference,
  }));
  const results = trx ? await ledger.createTransfersIn(trx, batch) : await ledger.createTransfers(batch);
  return results.map((r, n) => {
    if (r.result !== 'ok' && r.result !== 'exists') throw new Error(`funding ${batch[n]!.id}: the ledger refused it (${r.result satisfies TransferResultCode})`);
    return { item: items[n]!, result: r.result };
  });
}
