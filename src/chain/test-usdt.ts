// The test USDT (contracts/TestUSDT.sol, compiled offline, artifact committed): deploy and mint
// helpers used by the dev chain (`settle start` with no chain configured, `settle dev pay`), the tests
// and the benchmark. Nothing here runs against a configured chain; test-only helpers are in test/helpers/anvil.ts.
import { readFileSync } from 'node:fs';
import { createWalletClient, defineChain, http, parseAbi, type Abi, type PublicClient } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { DEV_CHAIN_MNEMONIC } from './anvil.ts';
import type { Hex } from './chain-types.ts';

const ARTIFACT_URL = new URL('../../contracts/artifacts/TestUSDT.json', import.meta.url);

export interface TestUsdtArtifact {
  abi: Abi;
  bytecode: Hex;
}

let artifact: TestUsdtArtifact | null = null;
export function testUsdtArtifact(): TestUsdtArtifact {
  artifact ??= JSON.parse(readFileSync(ARTIFACT_URL, 'utf8')) as TestUsdtArtifact;
  return artifact;
}

/** anvilAccount(0) -> the well-known funded account #0 of the anvil test mnemonic. */
export function anvilAccount(index: number, mnemonic = DEV_CHAIN_MNEMONIC): HDAccount {
  return mnemonicToAccount(mnemonic, { addressIndex: index });
}

const TOKEN_ABI = parseAbi(['function mint(address to, uint256 amount)', 'function transfer(address to, uint256 amount) returns (bool)', 'function balanceOf(address) view returns (uint256)']);

function wallet(rpc_url: string, account: HDAccount, chain_id: number) {
  const chain = defineChain({ id: chain_id, name: `chain ${chain_id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpc_url] } } });
  return createWalletClient({ account, chain, transport: http(rpc_url, { timeout: 30_000 }) });
}

/** const usdt = await deployTestUsdt(client, rpc_url, anvilAccount(0)) — waits for the receipt. */
export async function deployTestUsdt(client: PublicClient, rpc_url: string, owner: HDAccount): Promise<Hex> {
  const { abi, bytecode } = testUsdtArtifact();
  const chainId = await client.getChainId();
  const hash = await wallet(rpc_url, owner, chainId).deployContract({ abi, bytecode, args: [owner.address] });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 60_000 });
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`TestUSDT deployment failed (${hash})`);
  return receipt.contractAddress.toLowerCase() as Hex;
}

/** Sends mint(to, amount) from the owner; returns the tx hash without waiting for it to be mined. */
export async function sendMint(rpc_url: string, chain_id: number, token: Hex, owner: HDAccount, to: Hex, amount_minor: bigint, nonce?: number): Promise<Hex> {
  return wallet(rpc_url, owner, chain_id).writeContract({
    address: token,
    abi: TOKEN_ABI,
    functionName: 'mint',
    args: [to, amount_minor],
    gas: 100_000n,
    ...(nonce !== undefined ? { nonce } : {}),
  });
}

/** Sends transfer(to, amount) from `from`; returns the tx hash without waiting. */
export async function sendTokenTransfer(rpc_url: string, chain_id: number, token: Hex, from: HDAccount, to: Hex, amount_minor: bigint, nonce?: number): Promise<Hex> {
  return wallet(rpc_url, from, chain_id).writeContract({
    address: token,
    abi: TOKEN_ABI,
    functionName: 'transfer',
    args: [to, amount_minor],
    gas: 100_000n,
    ...(nonce !== undefined ? { nonce } : {}),
  });
}

/** Sends native coin; returns the tx hash without waiting. */
export async function sendNative(rpc_url: string, chain_id: number, from: HDAccount, to: Hex, amount_minor: bigint, nonce?: number): Promise<Hex> {
  return wallet(rpc_url, from, chain_id).sendTransaction({ to, value: amount_minor, gas: 21_000n, ...(nonce !== undefined ? { nonce } : {}) });
}
