// The reconciler's custody checks (decision 0006): the hot wallet's ledger balance against the
// chain (our mined but unbooked transactions counted from their receipts), and custody assets
// against what the platform owes. See reconciler.ts for the whole run.
import { TransactionReceiptNotFoundError, type PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Hex } from '../../chain/chain.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { platformAccount } from './chart.ts';
import { debitBalance, hotWalletEffect, solvencyPart, type AssetSummary } from './reconcile-rules.ts';
import * as store from './reconcile-store.ts';
import { ERC20_ABI, type ReconcileContext } from './reconciler.ts';

/** Unbooked hot-wallet transactions looked up on chain per run; more and the check reports in flight. */
const HOT_IN_FLIGHT_MAX = 200;
/** Reads of (transactions, ledger, transactions) retried when a booking lands between them. */
const HOT_SNAPSHOT_TRIES = 3;
const LEDGER_PAGE_MAX = 1000;

/**
 * The hot wallet: its balance on chain at block h equals its ledger balance (posted) plus what
 * our mined-but-unbooked transactions did (read from their receipts). The ledger is read between
 * two reads of which transactions are booked; if a booking landed in between, it is read again.
 */
export async function checkHotWallet(c: ReconcileContext, chain: ChainConfigFile, summaries: Map<string, AssetSummary>): Promise<string[]> {
  const { db, ledger, deps } = c;
  const chain_id = chain.chain_id;
  const hot = deps.hotWallet?.(chain_id)?.toLowerCase() ?? null;
  if (!hot) return [];
  const assets = chainAssets(chain);
  const native = assets.find((a) => a.token === null)?.code ?? null;
  const tokens = assets.flatMap((a) => (a.token ? [{ code: a.code, contract: a.token }] : []));
  const setAll = (status: 'in_flight') => {
    for (const a of assets) Object.assign(summaries.get(a.code)!.custody.hot_wallet, { status, address: hot });
  };
  const client = c.clientFor(chain);
  const head = await client.getBlockNumber({ cacheTime: 0 });
  const onChain = new Map<string, bigint>();
  for (const a of assets) {
    onChain.set(a.code, a.token === null
      ? await client.getBalance({ address: hot as Hex, blockNumber: head })
      : await client.readContract({ address: a.token, abi: ERC20_ABI, functionName: 'balanceOf', args: [hot as Hex], blockNumber: head }));
  }
  const ids = assets.map((a) => platformAccount(a.code, 'hot_wallet').id);
  let txs: store.HotTxRow[] | null = null;
  let accounts: Awaited<ReturnType<Ledger['getAccounts']>> = [];
  for (let i = 0; i < HOT_SNAPSHOT_TRIES && !txs; i++) {
    const before = await store.selectHotWalletTxs(db.kysely, chain_id, hot);
    accounts = await ledger.getAccounts(ids);
    const after = await store.selectHotWalletTxs(db.kysely, chain_id, hot);
    const bookedBefore = new Set(before.filter((t) => t.booked).map((t) => t.id));
    if (after.every((t) => !t.booked || bookedBefore.has(t.id))) txs = before;
  }
  // Still moving, too much in flight, or booked from a block above the one read: next run.
  const open = txs?.filter((t) => !t.booked) ?? [];
  if (!txs || open.length > HOT_IN_FLIGHT_MAX || txs.some((t) => t.booked && t.block_number !== null && t.block_number > Number(head))) {
    setAll('in_flight');
    return [];
  }
  const effects = new Map<string, bigint>();
  let counted = 0;
  const attempts = await store.selectAttempts(db.kysely, open.map((t) => t.id));
  for (const t of open) {
    for (const at of attempts.filter((x) => x.tx_id === t.id)) {
      const receipt = await receiptOf(client, at.hash as Hex);
      if (!receipt || receipt.blockNumber > head) continue;
      const mined = { kind: at.kind as 'payload' | 'cancel', success: receipt.status === 'success', gas_fee_minor: receipt.gasUsed * receipt.effectiveGasPrice };
      for (const [asset, v] of hotWalletEffect(t, mined, hot, native, tokens)) effects.set(asset, (effects.get(asset) ?? 0n) + v);
      counted++;
      break;
    }
  }
  const checked: string[] = [];
  for (const a of assets) {
    const acct = accounts.find((x) => x.id === platformAccount(a.code, 'hot_wallet').id);
    const s = summaries.get(a.code)!;
    s.custody.hot_wallet = {
      status: 'checked', address: hot,
      ledger_minor: acct ? acct.debits_posted_minor - acct.credits_posted_minor : 0n,
      in_flight_minor: effects.get(a.code) ?? 0n, in_flight_txs: counted, on_chain_minor: onChain.get(a.code)!,
    };
    checked.push(`hot_wallet_mismatch:${chain_id}:${a.code}:`);
  }
  return checked;
}

/** Custody assets against what is owed, and the ledger's deposit_wallets, per asset of a chain (database only). */
export async function checkSolvency(c: ReconcileContext, chain: ChainConfigFile, summaries: Map<string, AssetSummary>): Promise<void> {
  const { db } = c;
  for (const a of chainAssets(chain)) {
    const custody = summaries.get(a.code)!.custody;
    let after = '';
    for (;;) {
      const page = await store.selectLedgerAccountsPage(db.kysely, a.code, after, LEDGER_PAGE_MAX);
      for (const acct of page) {
        const part = solvencyPart(acct);
        custody.assets_minor += part.assets_minor;
        custody.liabilities_minor += part.liabilities_minor;
        if (acct.owner_type === 'platform' && acct.kind === 'deposit_wallets') custody.deposit_wallets.ledger_minor += debitBalance(acct);
      }
      if (page.length < LEDGER_PAGE_MAX) break;
      after = page[page.length - 1]!.id;
    }
  }
}

/** The receipt of a transaction hash, or null while it is not mined. */
async function receiptOf(client: PublicClient, hash: Hex) {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError || (error as Error)?.name === 'TransactionReceiptNotFoundError') return null;
    throw error;
  }
}
