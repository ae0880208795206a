// Shared set-up for deposit tests, the scanner child process and the chain benchmark: a real
// anvil with TestUSDT deployed, a chain configuration like the dev chain's, a ledger with the
// assets registered, deposit keys, and helpers to pay and mine. Test-only.
import { keccak256, numberToHex, type PublicClient } from 'viem';
import type { ChainConfigFile } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import { createLedger, type Ledger } from '../../src/ledger/ledger.ts';
import { startAnvil, type AnvilHandle, type AnvilOptions } from '../../src/chain/chain.ts';
import { createEvmClient, createEvmReader } from '../../src/chain/chain.ts';
import type { BlockHeader, ChainReader, Hex, TokenTransfer } from '../../src/chain/chain.ts';
import { createDepositKeys, type DepositKeys } from '../../src/chain/chain.ts';
import { ensureDepositAddress } from '../../src/payments/custody/deposit-addresses.ts';
import { anvilAccount, deployTestUsdt } from '../../src/chain/chain.ts';
import { devChainConfig } from '../../src/chain/chain.ts';
import { systemClock, type Clock } from '../../src/shared/clock.ts';
import { assetSpecs } from '../../src/payments/deposits/deposit-rules.ts';

/** A fixed mnemonic (not the anvil one) so that deposit addresses are not anvil's funded accounts. */
export const TEST_DEPOSIT_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/** The dev chain's configuration (the same assets and confirmation tiers) under a test name and poll interval. */
export function testChainConfig(rpc_url: string, usdt: Hex, poll_interval_ms = 200): ChainConfigFile {
  return { ...devChainConfig(rpc_url, usdt), name: 'Test chain', poll_interval_ms };
}

export interface ChainEnv {
  anvil: AnvilHandle;
  client: PublicClient;
  reader: ChainReader;
  usdt: Hex;
  chain: ChainConfigFile;
  stop(): Promise<void>;
}

/** Starts anvil, deploys TestUSDT from account #0 and mints 10M USDT to payer accounts #1..#5. */
export async function startChainEnv(opts: AnvilOptions = {}): Promise<ChainEnv> {
  const anvil = await startAnvil(opts);
  try {
    const endpoint = { chain_id: 31337, rpc_url: anvil.rpc_url };
    const client = createEvmClient(endpoint);
    const usdt = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    return { anvil, client, reader: createEvmReader(endpoint, client), usdt, chain: testChainConfig(anvil.rpc_url, usdt), stop: () => anvil.stop() };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

export async function mine(client: PublicClient, blocks = 1): Promise<void> {
  await client.request({ method: 'anvil_mine' as never, params: [numberToHex(blocks)] as never });
}

export async function snapshot(client: PublicClient): Promise<Hex> {
  return (await client.request({ method: 'evm_snapshot' as never })) as Hex;
}

export async function revert(client: PublicClient, id: Hex): Promise<void> {
  await client.request({ method: 'evm_revert' as never, params: [id] as never });
}

export async function setAutomine(client: PublicClient, on: boolean): Promise<void> {
  await client.request({ method: 'evm_setAutomine' as never, params: [on] as never });
}

export interface LedgerEnv {
  ledger: Ledger;
  keys: DepositKeys;
  /** Issues (or returns) a user's deposit address at the current head. */
  address(user_id: string): Promise<Hex>;
}

export async function ledgerEnv(db: Db, env: { reader: ChainReader; chain: ChainConfigFile }, clock: Clock = systemClock): Promise<LedgerEnv> {
  const ledger = createLedger(db, clock);
  await ledger.ensureAssets(assetSpecs([env.chain]));
  const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);
  return {
    ledger,
    keys,
    async address(user_id) {
      const head = await env.reader.head();
      return (await ensureDepositAddress(db, keys, { chain_id: env.chain.chain_id, user_id, issued_at_block: head }, clock)).address.address;
    },
  };
}

/**
 * A chain in memory, for the scanner without a node: blocks 1..head, the token transfers of each
 * block as given (logsAt), no native transfers; grows with mine().
 */
export function memoryChain(logsAt: Map<number, TokenTransfer[]>) {
  const hashOf = (n: number) => keccak256(numberToHex(n, { size: 32 }));
  const header = (n: number): BlockHeader => ({ number: n, hash: hashOf(n), parent_hash: n === 0 ? (`0x${'0'.repeat(64)}` as Hex) : hashOf(n - 1), timestamp_s: 1_700_000_000 + n });
  let head = 0;
  const reader: ChainReader = {
    chain_id: 31337,
    rpc_url: 'memory:',
    chainId: async () => 31337,
    head: async () => head,
    block: async (n) => (n <= head ? header(n) : null),
    blocks: async (from, to) => Array.from({ length: Math.max(0, Math.min(to, head) - from + 1) }, (_, i) => header(from + i)),
    tokenTransfers: async (from, to) => {
      const out: TokenTransfer[] = [];
      for (let n = from; n <= Math.min(to, head); n++) out.push(...(logsAt.get(n) ?? []).map((t) => ({ ...t, block_hash: hashOf(n) })));
      return out;
    },
    nativeTransfers: async (n) => (n <= head ? { header: header(n), transfers: [] } : null),
    transaction: async () => ({ found: false }) as never,
  };
  return { reader, mine: (blocks = 1) => (head += blocks), head: () => head };
}
