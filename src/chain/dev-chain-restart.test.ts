// Goal: the local dev chain comes back as the SAME chain after a restart — same chain id, the
// test USDT at the same address (not redeployed), the balances paid to a deposit address, the
// same deposit mnemonic, and a head no lower than before.
// Method: the code `npm start` runs (loadConfig with no chain configured, then prepareDevChain)
// over a temporary data dir; a deposit address derived from the dev mnemonic is paid USDT and
// ETH from an outside payer; anvil is stopped by its pid (SIGTERM: it writes its state file on
// exit) and the dev chain is prepared again over the same data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEther } from 'viem';
import { loadConfig } from '../config.ts';
import { DEV_CHAIN_ID, DEV_PAYER_INDEXES, prepareDevChain, type DevChainHandle } from './dev-chain.ts';
import { createEvmClient } from './evm.ts';
import { createDepositKeys } from './keys.ts';
import { anvilAccount, sendNative, sendTokenTransfer } from './test-usdt.ts';
import { balanceOfToken } from '../../test/helpers/anvil.ts';
import type { Hex } from './chain-types.ts';

const quiet = { info: () => undefined };

describe('dev chain restart', () => {
  const handles: DevChainHandle[] = [];
  let dir: string | null = null;
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.stop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  /** What `npm start` does with no chain configured: the dev chain over this data dir. */
  async function start(data_dir: string) {
    const config = loadConfig({ SETTLE_DATA_DIR: data_dir }, process.cwd());
    expect(config.chains).toEqual([]);
    const h = await prepareDevChain(config, quiet);
    handles.push(h);
    const dev = h.dev!;
    const client = createEvmClient({ chain_id: DEV_CHAIN_ID, rpc_url: dev.info.rpc_url });
    return { h, dev, client, mnemonic: h.config.deposit_mnemonic! };
  }

  /** Stops anvil by its pid and waits until the process is gone. */
  async function killByPid(pid: number, proc: { once(e: 'exit', f: () => void): unknown; exitCode: number | null; signalCode: NodeJS.Signals | null }) {
    const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
    process.kill(pid, 'SIGTERM');
    await exited;
    expect(() => process.kill(pid, 0)).toThrow(); // no such process any more
  }

  it('comes back with the same chain id, token contract, balances and a head no lower', async () => {
    dir = mkdtempSync(join(tmpdir(), 'settle-devchain-'));
    const first = await start(dir);
    const address = createDepositKeys(first.mnemonic).address(0);
    const payer = anvilAccount(DEV_PAYER_INDEXES[0]!);
    const usdtTx = await sendTokenTransfer(first.dev.info.rpc_url, DEV_CHAIN_ID, first.dev.info.usdt, payer, address, 12_345_678n);
    await first.client.waitForTransactionReceipt({ hash: usdtTx, pollingInterval: 100, timeout: 30_000 });
    const ethTx = await sendNative(first.dev.info.rpc_url, DEV_CHAIN_ID, payer, address, parseEther('0.25'));
    const ethReceipt = await first.client.waitForTransactionReceipt({ hash: ethTx, pollingInterval: 100, timeout: 30_000 });
    const before = {
      chain_id: await first.client.getChainId(),
      usdt: first.dev.info.usdt,
      token_balance: await balanceOfToken(first.client, first.dev.info.usdt, address),
      eth_balance: await first.client.getBalance({ address }),
      head: Number(await first.client.getBlockNumber({ cacheTime: 0 })),
    };
    expect(before.token_balance).toBe(12_345_678n);
    expect(before.eth_balance).toBe(parseEther('0.25'));

    await killByPid(first.dev.info.pid, first.dev.anvil.process);
    handles.splice(0);

    const second = await start(dir);
    expect(second.dev.info.pid).not.toBe(first.dev.info.pid);
    expect(second.mnemonic).toBe(first.mnemonic); // the same deposit keys, so the same addresses
    expect(await second.client.getChainId()).toBe(before.chain_id);
    expect(second.dev.info.usdt).toBe(before.usdt); // not redeployed
    expect(await second.client.getCode({ address: before.usdt as Hex })).not.toBe('0x');
    expect(await balanceOfToken(second.client, before.usdt, address)).toBe(before.token_balance);
    expect(await second.client.getBalance({ address })).toBe(before.eth_balance);
    expect(Number(await second.client.getBlockNumber({ cacheTime: 0 }))).toBeGreaterThanOrEqual(before.head);
    // The block holding the payment is still there, with the same hash.
    const block = await second.client.getBlock({ blockNumber: ethReceipt.blockNumber });
    expect(block.hash).toBe(ethReceipt.blockHash);
  }, 120_000);
});
