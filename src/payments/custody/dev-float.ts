// The dev chain's float, booked as operator capital (decision 0006): the dev chain (chain/dev-chain.ts)
// only starts anvil and mints; what its hot wallet holds at start is booked here, with custody.
import type { PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { anvilAccount, DEV_CHAIN_ID, DEV_GENESIS_WEI, DEV_HOT_WALLET_INDEX, TRANSFER_EVENT, type Hex } from '../../chain/chain.ts';
import { bookFunding, fundingTransferId, genesisFundingTransferId, type FundingItem } from './hot-wallet-funding.ts';

/**
 * Books the dev hot wallet's float as operator capital (debit hot_wallet / credit external), so
 * that its ledger balance can be compared with the chain: the ETH anvil gave it at genesis (id
 * from chain, address and asset) and every test USDT minted to it (id from chain, tx hash and log
 * index — the same id `settle chain record-funding` would use). Safe to call at every start.
 * await bookDevFloat({ ledger, client, chain: dev.chain, hot: hotWallet.address })
 */
export async function bookDevFloat(opts: { ledger: Ledger; client: PublicClient; chain: ChainConfigFile; hot: Hex }): Promise<FundingItem[]> {
  const { ledger, client, chain } = opts;
  const hot = opts.hot.toLowerCase() as Hex;
  if (chain.chain_id !== DEV_CHAIN_ID) return [];
  const items: FundingItem[] = [];
  // Genesis coins exist only for anvil's own accounts: a configured hot key gets no float.
  const native = chain.native?.symbol ?? null;
  if (native && anvilAccount(DEV_HOT_WALLET_INDEX).address.toLowerCase() === hot) {
    const id = genesisFundingTransferId(chain.chain_id, hot, native);
    // Booked once, never compared again (the chain's state at block 0 may not survive a restart).
    if ((await ledger.getTransfers([id])).length === 0) items.push({ asset: native, amount_minor: DEV_GENESIS_WEI, log_index: null, transfer_id: id });
  }
  for (const t of chain.tokens ?? []) {
    const logs = await client.getLogs({ address: t.address as Hex, event: TRANSFER_EVENT, args: { from: '0x0000000000000000000000000000000000000000', to: hot }, fromBlock: 0n, toBlock: 'latest' });
    for (const log of logs) {
      if (log.transactionHash === null || log.logIndex === null || !log.args.value) continue;
      items.push({ asset: t.symbol, amount_minor: log.args.value, log_index: log.logIndex, transfer_id: fundingTransferId(chain.chain_id, log.transactionHash, log.logIndex) });
    }
  }
  await bookFunding(ledger, items, `dev-float:${chain.chain_id}`);
  return items;
}
