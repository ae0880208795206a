// Chain helpers for tests only: the anvil test mnemonic (its accounts are well known and funded on
// every anvil) and a token balance read. Production code never imports this file.
import { erc20Abi, type PublicClient } from 'viem';
import type { Hex } from '../../src/chain/chain.ts';

/** The default anvil test mnemonic, for tests that derive its accounts or use it as a deposit mnemonic. */
export const ANVIL_TEST_MNEMONIC = 'test test test test test test test test test test test junk';

/** balanceOfToken(client, usdt, address) -> bigint */
export async function balanceOfToken(client: PublicClient, token: Hex, owner: Hex): Promise<bigint> {
  return client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [owner] });
}
