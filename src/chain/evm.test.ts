// Goal: the EVM reader returns what a real chain holds, and the committed TestUSDT artifact is
// exactly what the offline compiler makes of its source. Method: recompile with solc-js and
// compare; start a real anvil (automine), deploy TestUSDT, mint and send coins, and read them
// back through the reader (headers, Transfer logs, native transfers, transaction diagnosis).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, compileContract, renderArtifact } from '../../scripts/compile-contracts.ts';
import { startAnvil, type AnvilHandle } from './anvil.ts';
import { createEvmClient, createEvmReader, isTooManyResults, rawTransfer, TRANSFER_TOPIC } from './evm.ts';
import { anvilAccount, deployTestUsdt, sendMint, sendNative, sendTokenTransfer } from './test-usdt.ts';
import type { Hex } from './chain-types.ts';

describe('TestUSDT artifact', () => {
  it('matches a fresh offline compilation of contracts/TestUSDT.sol', () => {
    expect(readFileSync(artifactPath('TestUSDT'), 'utf8')).toBe(renderArtifact(compileContract('TestUSDT')));
  });
});

describe('EVM reader on a real anvil', () => {
  let anvil: AnvilHandle;
  beforeAll(async () => {
    anvil = await startAnvil({});
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('reads heads, headers, Transfer logs, native transfers and transactions', async () => {
    const endpoint = { chain_id: 31337, rpc_url: anvil.rpc_url };
    const client = createEvmClient(endpoint);
    const reader = createEvmReader(endpoint, client);
    expect(await reader.chainId()).toBe(31337);
    const owner = anvilAccount(0);
    const payer = anvilAccount(1);
    const usdt = await deployTestUsdt(client, anvil.rpc_url, owner);
    const ours = anvilAccount(7).address.toLowerCase() as Hex;
    const start = await reader.head();
    const mint = await sendMint(anvil.rpc_url, 31337, usdt, owner, payer.address.toLowerCase() as Hex, 5_000_000n);
    await client.waitForTransactionReceipt({ hash: mint, pollingInterval: 50 });
    const pay = await sendTokenTransfer(anvil.rpc_url, 31337, usdt, payer, ours, 1_250_000n);
    await client.waitForTransactionReceipt({ hash: pay, pollingInterval: 50 });
    const eth = await sendNative(anvil.rpc_url, 31337, payer, ours, 10n ** 16n);
    await client.waitForTransactionReceipt({ hash: eth, pollingInterval: 50 });
    const head = await reader.head();
    expect(head).toBe(start + 3);

    const headers = await reader.blocks(start, head);
    expect(headers.map((h) => h.number)).toEqual([start, start + 1, start + 2, start + 3]);
    for (let i = 1; i < headers.length; i++) expect(headers[i]!.parent_hash).toBe(headers[i - 1]!.hash);
    expect(await reader.block(head + 10)).toBeNull();

    const logs = await reader.tokenTransfers(start, head, [usdt]);
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatchObject({ token: usdt, to: ours, amount_minor: 1_250_000n, tx_hash: pay, block_number: start + 2 });
    expect(logs[1]!.block_hash).toBe(headers[2]!.hash);

    const native = await reader.nativeTransfers(head, async (c) => new Set(c.filter((a) => a === ours)));
    expect(native!.header.hash).toBe(headers[3]!.hash);
    expect(native!.transfers).toEqual([{ from: payer.address.toLowerCase(), to: ours, amount_minor: 10n ** 16n, tx_hash: eth, block_number: head, block_hash: headers[3]!.hash }]);
    expect((await reader.nativeTransfers(head, async () => new Set()))!.transfers).toEqual([]);

    const info = await reader.transaction(pay);
    expect(info).toMatchObject({ found: true, status: 'success', block_number: start + 2, confirmations: 2 });
    if (info.found) expect(info.token_transfers[0]).toMatchObject({ to: ours, amount_minor: 1_250_000n });
    expect(await reader.transaction(`0x${'ab'.repeat(32)}`)).toEqual({ found: false, tx_hash: `0x${'ab'.repeat(32)}` });
  });

  it('reports an unreachable node as a ChainRpcError', async () => {
    const reader = createEvmReader({ chain_id: 1, rpc_url: 'http://127.0.0.1:1', retries_max: 0, timeout_ms: 1000 });
    await expect(reader.head()).rejects.toMatchObject({ name: 'ChainRpcError', method: 'eth_blockNumber' });
  });

  it('decodes raw Transfer logs by hand: ERC-20 only, never a removed, pending or malformed one', () => {
    const pad = (a: string) => `0x${'0'.repeat(24)}${a.slice(2)}`;
    const from = '0x' + 'Aa'.repeat(20);
    const to = '0x' + '0b'.repeat(20);
    const log = { address: '0x' + 'CC'.repeat(20), topics: [TRANSFER_TOPIC, pad(from), pad(to)], data: `0x${(1_250_000n).toString(16).padStart(64, '0')}`, blockNumber: '0x10', blockHash: '0x' + 'dd'.repeat(32), transactionHash: '0x' + 'EE'.repeat(32), logIndex: '0x2' };
    expect(rawTransfer(log)).toEqual({ token: '0x' + 'cc'.repeat(20), from: from.toLowerCase(), to, amount_minor: 1_250_000n, tx_hash: '0x' + 'ee'.repeat(32), log_index: 2, block_number: 16, block_hash: '0x' + 'dd'.repeat(32) });
    expect(rawTransfer({ ...log, topics: [...log.topics, pad(to)], data: '0x' })).toBeNull(); // ERC-721: tokenId indexed
    expect(rawTransfer({ ...log, removed: true })).toBeNull();
    expect(rawTransfer({ ...log, blockHash: null })).toBeNull();
    expect(rawTransfer({ ...log, data: '0x01' })).toBeNull();
    expect(rawTransfer({ ...log, topics: [log.topics[0]!, `0x${'ff'.repeat(32)}`, log.topics[2]!] })).toBeNull(); // not an address
    expect(rawTransfer({ ...log, topics: [`0x${'12'.repeat(32)}`, log.topics[1]!, log.topics[2]!] })).toBeNull();
  });

  it('recognises providers\' "too many results" answers', () => {
    expect(isTooManyResults(new Error('query returned more than 10000 results'))).toBe(true);
    expect(isTooManyResults(new Error('Log response size exceeded.'))).toBe(true);
    expect(isTooManyResults(new Error('execution reverted'))).toBe(false);
  });
});
