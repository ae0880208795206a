// The local dev chain (embedded default): with no chain configured, `npm start` runs anvil (the
// binary from @foundry-rs/anvil, stopped by its pid on shutdown) with interval mining, its state in
// <data dir>/devchain/state.json so that a restart finds the same chain, and the test USDT
// deployed once (its address kept in <data dir>/devchain/devchain.json). The CLI (`settle dev pay`,
// `settle dev mine`) finds the running chain through that same file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainConfigFile, Config } from '../config.ts';
import { startAnvil, type AnvilHandle } from './anvil.ts';
import type { Hex } from './chain-types.ts';
import { createEvmClient } from './evm.ts';
import { loadOrCreateDevMnemonic } from './keys.ts';
import { parseEther } from 'viem';
import { anvilAccount, deployTestUsdt, sendMint } from './test-usdt.ts';
import { DEV_HOT_WALLET_INDEX } from './hot-wallets.ts';

export const DEV_CHAIN_ID = 31337;
/** Anvil test-mnemonic accounts: #0 deploys and owns the test USDT; #1..#5 are "outside payers". */
export const DEV_DEPLOYER_INDEX = 0;
export const DEV_PAYER_INDEXES = [1, 2, 3, 4, 5];
const PAYER_USDT_MINOR = 1_000_000n * 1_000_000n;
/** What anvil gives each test account at genesis (startAnvil's default --balance). */
export const DEV_GENESIS_WEI = parseEther('10000');

export interface DevChainInfo {
  chain_id: number;
  rpc_url: string;
  port: number;
  pid: number;
  usdt: Hex;
  started_at_ms: number;
}

export interface DevChain {
  info: DevChainInfo;
  chain: ChainConfigFile;
  anvil: AnvilHandle;
  stop(): Promise<void>;
}

export function devChainDir(data_dir: string): string {
  return join(data_dir, 'devchain');
}

function infoPath(data_dir: string): string {
  return join(devChainDir(data_dir), 'devchain.json');
}

/** The dev chain written by a running `settle start`, or null. */
export function readDevChainInfo(data_dir: string): DevChainInfo | null {
  const path = infoPath(data_dir);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DevChainInfo;
  } catch {
    return null;
  }
}

/** The chain configuration the dev chain stands for (what settle.config.json would say). */
export function devChainConfig(rpc_url: string, usdt: Hex): ChainConfigFile {
  return {
    chain_id: DEV_CHAIN_ID,
    name: 'Local dev chain',
    rpc_url,
    poll_interval_ms: 1000,
    native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: '1', blocks: 3 }, { max_amount: null, blocks: 12 }] },
    tokens: [
      {
        symbol: 'USDT',
        address: usdt,
        decimals: 6,
        min_deposit: '1',
        confirmations: [
          { max_amount: '1000', blocks: 3 },
          { max_amount: '5000', blocks: 6 },
          { max_amount: null, blocks: 12 },
        ],
      },
    ],
  };
}

/**
 * const dev = await startDevChain(config.data_dir); … await dev.stop()
 * Reuses the previous port when it is free, so that the RPC URL stays the same across restarts.
 */
export async function startDevChain(data_dir: string, opts: { block_time_s?: number; port?: number } = {}): Promise<DevChain> {
  const dir = devChainDir(data_dir);
  mkdirSync(dir, { recursive: true });
  const previous = readDevChainInfo(data_dir);
  const state_path = join(dir, 'state.json');
  const block_time_s = opts.block_time_s ?? 1;
  let anvil: AnvilHandle;
  try {
    anvil = await startAnvil({ chain_id: DEV_CHAIN_ID, block_time_s, state_path, port: opts.port ?? previous?.port ?? 0 });
  } catch {
    anvil = await startAnvil({ chain_id: DEV_CHAIN_ID, block_time_s, state_path, port: 0 });
  }
  try {
    const client = createEvmClient({ chain_id: DEV_CHAIN_ID, rpc_url: anvil.rpc_url });
    let usdt = previous?.usdt ?? null;
    const code = usdt ? await client.getCode({ address: usdt }) : undefined;
    if (!usdt || !code || code === '0x') {
      const owner = anvilAccount(DEV_DEPLOYER_INDEX);
      usdt = await deployTestUsdt(client, anvil.rpc_url, owner);
      // Outside payers start with test USDT (anvil already gives them ETH), and so does the dev
      // hot wallet: its float pays withdrawals before the sweeper has brought deposits in.
      for (const i of [...DEV_PAYER_INDEXES, DEV_HOT_WALLET_INDEX]) {
        const h = await sendMint(anvil.rpc_url, DEV_CHAIN_ID, usdt, owner, anvilAccount(i).address.toLowerCase() as Hex, PAYER_USDT_MINOR);
        await client.waitForTransactionReceipt({ hash: h, pollingInterval: 200, timeout: 60_000 });
      }
    }
    const info: DevChainInfo = { chain_id: DEV_CHAIN_ID, rpc_url: anvil.rpc_url, port: anvil.port, pid: anvil.pid, usdt, started_at_ms: Date.now() };
    writeFileSync(infoPath(data_dir), `${JSON.stringify(info, null, 2)}\n`);
    return { info, chain: devChainConfig(anvil.rpc_url, usdt), anvil, stop: () => anvil.stop() };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

export interface DevChainHandle {
  /** The configuration to run with: the dev chain added when none was configured. */
  config: Config;
  dev: DevChain | null;
  stop(): Promise<void>;
}

/**
 * With chains configured, nothing happens. With none, the dev chain starts and the configuration
 * gains it, plus the development deposit mnemonic (generated once, kept in the data dir).
 */
export async function prepareDevChain(config: Config, log: { info(data: object, msg: string): void }): Promise<DevChainHandle> {
  if (config.chains.length > 0) return { config, dev: null, stop: async () => undefined };
  const dev = await startDevChain(config.data_dir);
  const mnemonic = config.deposit_mnemonic ?? loadOrCreateDevMnemonic(config.data_dir).mnemonic;
  log.info({ rpc_url: dev.info.rpc_url, anvil_pid: dev.info.pid, chain_id: dev.info.chain_id, usdt: dev.info.usdt, state: join(devChainDir(config.data_dir), 'state.json') }, 'no chain configured: started the local dev chain (anvil, 1 s blocks); pay it with `settle dev pay <address> <amount> [USDT|ETH]`');
  return { config: { ...config, chains: [dev.chain], deposit_mnemonic: mnemonic }, dev, stop: () => dev.stop() };
}

/**
 * The chains a CLI command should look at: the configured ones, or, with none configured, the
 * local dev chain that `settle start` runs from this data dir (whether or not it is up now).
 */
export function chainsForCli(config: Config): ChainConfigFile[] {
  if (config.chains.length > 0) return config.chains;
  const dev = readDevChainInfo(config.data_dir);
  return dev ? [devChainConfig(dev.rpc_url, dev.usdt)] : [];
}
