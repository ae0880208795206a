// Goal: native coin that reaches a deposit address from inside a contract call (an "internal
// transfer": in no log, in no transaction's value) is detected, counted and released once like a
// plain ETH deposit; a failed internal call credits nothing; a rescan changes nothing.
// Method: a real anvil (its debug_traceBlockByNumber callTracer), contracts/EthForwarder.sol
// compiled offline with solc-js and deployed, the real ledger and scanner on each dialect.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWalletClient, defineChain, encodeFunctionData, http, parseEther, type Abi } from 'viem';
import { compileContract } from '../../../scripts/compile-contracts.ts';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import type { Hex } from '../../chain/chain.ts';
import { internalTransfers } from '../../chain/chain.ts';
import { anvilAccount } from '../../chain/chain.ts';
import { getPayment } from '../payments.ts';
import { depositId } from './deposit-rules.ts';
import { createDepositScanner, type DepositScanner } from './deposit-scanner.ts';
import { ledgerEnv, mine, startChainEnv, type ChainEnv, type LedgerEnv } from '../../../test/helpers/deposit-testkit.ts';

const payer = anvilAccount(2);

describe('internal transfers in a callTracer trace', () => {
  const header = { number: 7, hash: `0x${'ab'.repeat(32)}` as Hex, parent_hash: `0x${'cd'.repeat(32)}` as Hex, timestamp_s: 1 };
  const ours = `0x${'11'.repeat(20)}` as Hex;
  const other = `0x${'22'.repeat(20)}`;
  it('numbers successful value moves below the top frame per transaction, skipping failed frames and those under them', () => {
    const trace = {
      txHash: `0x${'EE'.repeat(32)}`,
      result: {
        type: 'CALL', from: '0xaa', to: '0xbb', value: '0x64',
        calls: [
          { type: 'CALL', from: '0xbb', to: other, value: '0x1' }, // #0, not ours
          { type: 'STATICCALL', from: '0xbb', to: ours }, // moves nothing
          { type: 'CALL', from: '0xbb', to: ours, value: '0x0' }, // moves nothing
          { type: 'CALL', from: '0xbb', to: '0xcc', value: '0x5', error: 'execution reverted', calls: [{ type: 'CALL', from: '0xcc', to: ours, value: '0x5' }] }, // failed above
          { type: 'DELEGATECALL', from: '0xbb', to: '0xdd', calls: [{ type: 'CALL', from: '0xbb', to: ours, value: '0x7' }] }, // #1, ours
          { type: 'SELFDESTRUCT', from: '0xdd', to: ours, value: '0x9' }, // #2, ours
        ],
      },
    };
    expect(internalTransfers([trace], header, (a) => a === ours)).toEqual([
      { from: '0xbb', to: ours, amount_minor: 7n, tx_hash: `0x${'ee'.repeat(32)}`, block_number: 7, block_hash: header.hash, internal_index: 1 },
      { from: '0xdd', to: ours, amount_minor: 9n, tx_hash: `0x${'ee'.repeat(32)}`, block_number: 7, block_hash: header.hash, internal_index: 2 },
    ]);
    // A reverted transaction moved nothing.
    expect(internalTransfers([{ ...trace, result: { ...trace.result, error: 'execution reverted' } }], header, (a) => a === ours)).toEqual([]);
  });
});

describe.each(DIALECTS)('internal native transfers on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let t: TestDb;
  let env: LedgerEnv;
  let scanner: DepositScanner;
  let forwarder: Hex;
  let abi: Abi;

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    const artifact = compileContract('EthForwarder');
    abi = artifact.abi as Abi;
    const chain = defineChain({ id: 31337, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [chainEnv.anvil.rpc_url] } } });
    const wallet = createWalletClient({ account: payer, chain, transport: http(chainEnv.anvil.rpc_url) });
    const hash = await wallet.deployContract({ abi, bytecode: artifact.bytecode });
    forwarder = (await chainEnv.client.waitForTransactionReceipt({ hash, pollingInterval: 50 })).contractAddress!.toLowerCase() as Hex;
  }, 60_000);
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    t = await openTestDb(dialect);
    env = await ledgerEnv(t.db, chainEnv);
    scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, blocks_per_tick_max: 50, receiveMode: async () => 'credit' });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  async function call(functionName: 'forward' | 'split', args: Hex[], value: bigint): Promise<Hex> {
    const chain = defineChain({ id: 31337, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [chainEnv.anvil.rpc_url] } } });
    const wallet = createWalletClient({ account: payer, chain, transport: http(chainEnv.anvil.rpc_url) });
    const hash = await wallet.sendTransaction({ to: forwarder, value, gas: 200_000n, data: encodeFunctionData({ abi, functionName, args }) });
    const r = await chainEnv.client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(r.status).toBe('success');
    return hash;
  }
  const balance = async (user: string) => (await env.ledger.balancesOf('user', user, ['ETH']))[0]!;

  it('ETH forwarded by a contract to a deposit address is detected, released once at depth; a swallowed failed call credits nothing', async () => {
    const a = await env.address('usr_internal');
    await scanner.tick();
    const fwd = await call('forward', [a], parseEther('0.5'));
    // Half reaches the address, the other half bounces off a contract that takes no ETH (swallowed).
    const split = await call('split', [a, forwarder], parseEther('0.2'));
    await scanner.tick();
    const rows = await t.db.kysely.selectFrom('deposits').select(['id', 'tx_hash', 'log_index', 'asset', 'amount_minor', 'status', 'from_address']).orderBy('amount_minor').execute();
    expect(rows.map((r) => ({ ...r, log_index: Number(r.log_index), amount_minor: BigInt(r.amount_minor) }))).toEqual([
      { id: depositId(31337, split, -2), tx_hash: split, log_index: -2, asset: 'ETH', amount_minor: parseEther('0.1'), status: 'confirming', from_address: forwarder },
      { id: depositId(31337, fwd, -2), tx_hash: fwd, log_index: -2, asset: 'ETH', amount_minor: parseEther('0.5'), status: 'confirming', from_address: forwarder },
    ]);
    expect((await balance('usr_internal')).pending_in_minor).toBe(parseEther('0.6'));
    await mine(chainEnv.client, 3);
    await scanner.tick();
    expect(await balance('usr_internal')).toMatchObject({ available_minor: parseEther('0.6'), pending_in_minor: 0n });
    const p = await getPayment(t.db.kysely, (await t.db.kysely.selectFrom('deposits').select('payment_id').where('tx_hash', '=', fwd).executeTakeFirstOrThrow()).payment_id);
    expect(p!.payment).toMatchObject({ kind: 'deposit', asset: 'ETH', status: 'credited', chain: { tx_hash: fwd, log_index: null, from: forwarder, to: a } });
    // A rescan from scratch finds the same deposits and credits nothing twice.
    await t.db.kysely.updateTable('chain_cursors').set({ next_block: 0 }).execute();
    await t.db.kysely.deleteFrom('chain_blocks').execute();
    await scanner.tick();
    expect(Number((await t.db.kysely.selectFrom('deposits').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(2);
    expect(await balance('usr_internal')).toMatchObject({ available_minor: parseEther('0.6'), pending_in_minor: 0n });
  });
});
