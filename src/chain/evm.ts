// The EVM chain adapter (read side) over viem. One public client per chain, http transport with
// bounded timeouts and retries, JSON-RPC batching for block ranges, and `cacheTime: 0` so that
// every call asks the node (the scanner decides what to remember, in the database). No filters
// are installed on the node: logs are fetched by block range with eth_getLogs, which is what
// makes restarts and reorg handling ours rather than the node's.
import {
  createPublicClient,
  http,
  numberToHex,
  toEventSelector,
  parseAbiItem,
  parseEventLogs,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Log,
  type PublicClient,
} from 'viem';
import { ChainRpcError, type BlockHeader, type ChainEndpoint, type ChainReader, type Hex, type NativeTransfer, type OursFilter, type TokenTransfer, type TransactionInfo } from './chain-types.ts';

export const TRANSFER_EVENT = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

/** Most log-range splits before giving up on one call (a range halves each time). */
const LOG_SPLITS_MAX = 64;
/** Receipts fetched at once for one block's candidate native transfers. */
const RECEIPTS_PARALLEL_MAX = 16;
/** Headers per blocks() call; the scanner asks for at most blocks_per_tick_max. */
export const BLOCKS_PER_CALL_MAX = 2000;

const lower = (a: string) => a.toLowerCase() as Hex;

/** True when an eth_getLogs error says the range returned too much (providers word it differently). */
export function isTooManyResults(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''} ${(error as { details?: string })?.details ?? ''}`.toLowerCase();
  return /too many|more than \d+ results|response size|limit exceeded|range (is )?too (large|wide)|block range|query timeout|-32005/.test(text);
}

/** The viem client used by readers (and by the hot wallet's writer, which reuses it). */
export function createEvmClient(endpoint: ChainEndpoint): PublicClient {
  return createPublicClient({
    transport: http(endpoint.rpc_url, {
      timeout: endpoint.timeout_ms ?? 10_000,
      retryCount: endpoint.retries_max ?? 2,
      retryDelay: 150,
      batch: { batchSize: 100, wait: 0 },
    }),
    cacheTime: 0,
    pollingInterval: 1000,
  });
}

function wrap(method: string, error: unknown): ChainRpcError {
  if (error instanceof ChainRpcError) return error;
  const message = (error as { shortMessage?: string; message?: string })?.shortMessage ?? (error as Error)?.message ?? String(error);
  return new ChainRpcError(`${method}: ${message.split('\n')[0]}`, method, error);
}

function toHeader(b: { number: bigint | null; hash: Hex | null; parentHash: Hex; timestamp: bigint }): BlockHeader {
  return { number: Number(b.number), hash: lower(b.hash!), parent_hash: lower(b.parentHash), timestamp_s: Number(b.timestamp) };
}

function toTokenTransfer(log: Log<bigint, number, false, typeof TRANSFER_EVENT>): TokenTransfer {
  return {
    token: lower(log.address),
    from: lower(log.args.from!),
    to: lower(log.args.to!),
    amount_minor: log.args.value!,
    tx_hash: lower(log.transactionHash!),
    log_index: Number(log.logIndex),
    block_number: Number(log.blockNumber),
    block_hash: lower(log.blockHash!),
  };
}

/** Transfer(address,address,uint256)'s topic 0. */
export const TRANSFER_TOPIC = toEventSelector(TRANSFER_EVENT);

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string | null;
  blockHash: string | null;
  transactionHash: string | null;
  logIndex: string | null;
  removed?: boolean;
}

/** A raw log as an ERC-20 Transfer, or null (removed, pending, not a 3-topic Transfer, bad data). */
export function rawTransfer(l: RawLog): TokenTransfer | null {
  if (l.removed || l.topics.length !== 3 || l.topics[0]!.toLowerCase() !== TRANSFER_TOPIC) return null;
  if (l.blockNumber === null || l.blockHash === null || l.transactionHash === null || l.logIndex === null) return null;
  if (!/^0x[0-9a-fA-F]{64}$/.test(l.data)) return null;
  const [, from, to] = l.topics as [string, string, string];
  // An indexed address is its 20 bytes left-padded with zeros to 32.
  if (!/^0x0{24}[0-9a-fA-F]{40}$/.test(from) || !/^0x0{24}[0-9a-fA-F]{40}$/.test(to)) return null;
  return {
    token: lower(l.address),
    from: lower(`0x${from.slice(26)}`),
    to: lower(`0x${to.slice(26)}`),
    amount_minor: BigInt(l.data),
    tx_hash: lower(l.transactionHash),
    log_index: Number(l.logIndex),
    block_number: Number(l.blockNumber),
    block_hash: lower(l.blockHash),
  };
}

/** One frame of a callTracer trace. */
export interface CallFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  error?: string;
  calls?: CallFrame[];
}

function isMethodUnsupported(error: unknown): boolean {
  const e = error as { code?: number; cause?: { code?: number }; message?: string; details?: string };
  if (e?.code === -32601 || e?.cause?.code === -32601) return true;
  return /method not found|not supported|does not exist|unsupported method/i.test(`${e?.message ?? ''} ${e?.details ?? ''}`);
}

/**
 * The native coin moved inside a block's transactions (callTracer traces): every CALL or
 * SELFDESTRUCT below the top frame that carries value and succeeded (neither it nor a frame above
 * it failed), numbered per transaction in trace order; those to our addresses are returned.
 */
export function internalTransfers(traces: Array<{ txHash: string; result: CallFrame }>, header: BlockHeader, isOurs: (a: Hex) => boolean): NativeTransfer[] {
  const out: NativeTransfer[] = [];
  for (const { txHash, result } of traces) {
    for (const t of valueMoves(txHash, result, header)) if (isOurs(t.to)) out.push(t);
  }
  return out;
}

/** Every successful internal value transfer of one transaction's trace, numbered in trace order. */
function valueMoves(txHash: string, root: CallFrame, header: Pick<BlockHeader, 'number' | 'hash'>): NativeTransfer[] {
  const out: NativeTransfer[] = [];
  const walk = (frame: CallFrame, depth: number, failedAbove: boolean) => {
    const failed = failedAbove || frame.error !== undefined;
    const value = frame.value ? BigInt(frame.value) : 0n;
    const moves = frame.type === 'CALL' || frame.type === 'SELFDESTRUCT';
    if (depth > 0 && !failed && moves && value > 0n && frame.to) {
      out.push({ from: lower(frame.from), to: lower(frame.to), amount_minor: value, tx_hash: lower(txHash), block_number: header.number, block_hash: header.hash, internal_index: out.length });
    }
    for (const c of frame.calls ?? []) walk(c, depth + 1, failed);
  };
  walk(root, 0, false);
  return out;
}

// A raw eth_getLogs decoded by hand: a Transfer(address,address,uint256) log has exactly three
// topics and a 32-byte value (an ERC-721 Transfer has four topics and is skipped, as viem's
// strict decoding would). ABI-decoding every log through viem cost more than the request itself.
async function logsOnce(client: PublicClient, from: number, to: number, tokens: Hex[]): Promise<TokenTransfer[]> {
  const logs = (await client.request({
    method: 'eth_getLogs',
    params: [{ address: tokens, topics: [TRANSFER_TOPIC], fromBlock: numberToHex(from), toBlock: numberToHex(to) }],
  })) as RawLog[];
  const out: TokenTransfer[] = [];
  for (const l of logs) {
    const t = rawTransfer(l);
    if (t) out.push(t);
  }
  return out;
}

/** Headers of blocks from..to (at most BLOCKS_PER_CALL_MAX); blocks the node does not have are left out. */
async function readBlocks(client: PublicClient, from: number, to: number): Promise<BlockHeader[]> {
  if (to < from) return [];
  if (to - from + 1 > BLOCKS_PER_CALL_MAX) throw new Error(`blocks(): at most ${BLOCKS_PER_CALL_MAX} per call`);
  const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const found = await Promise.all(
    numbers.map((n) =>
      client.getBlock({ blockNumber: BigInt(n) }).catch((error: unknown) => {
        if ((error as Error)?.name === 'BlockNotFoundError') return null;
        throw error;
      }),
    ),
  );
  return found.filter((b) => b !== null).map(toHeader);
}

/**
 * Token transfers of `tokens` in from..to. Splits the range on "too many results" with an
 * explicit work list (no recursion), keeping chain order: ranges are processed front to back.
 */
async function readTokenTransfers(client: PublicClient, from: number, to: number, tokens: Hex[]): Promise<TokenTransfer[]> {
  if (tokens.length === 0 || to < from) return [];
  const out: TokenTransfer[] = [];
  const work: Array<[number, number]> = [[from, to]];
  let splits = 0;
  while (work.length) {
    const [a, b] = work.shift()!;
    try {
      out.push(...(await logsOnce(client, a, b, tokens)));
    } catch (error) {
      if (!isTooManyResults(error) || a === b || ++splits > LOG_SPLITS_MAX) throw error;
      const mid = a + Math.floor((b - a) / 2);
      work.unshift([a, mid], [mid + 1, b]);
    }
  }
  return out;
}

/**
 * The node's tracer (debug_trace*), for internal transfers. A node without it (many public RPCs)
 * is remembered as such, and only top-level native transfers are seen there.
 */
interface Tracer {
  readonly enabled: boolean;
  block(number: number): Promise<Array<{ txHash: string; result: CallFrame }> | null>;
  transaction(hash: Hex): Promise<CallFrame | null>;
}

function createTracer(client: PublicClient, endpoint: ChainEndpoint): Tracer {
  let tracing = endpoint.trace_internal !== false;
  async function traceOrNull<T>(method: string, params: unknown[]): Promise<T | null> {
    try {
      return (await client.request({ method: method as never, params: params as never })) as T;
    } catch (error) {
      if (isMethodUnsupported(error)) {
        tracing = false;
        return null;
      }
      throw error;
    }
  }
  return {
    get enabled() {
      return tracing;
    },
    block: (number) => traceOrNull('debug_traceBlockByNumber', [numberToHex(number), { tracer: 'callTracer' }]),
    transaction: async (hash) => (tracing ? traceOrNull('debug_traceTransaction', [hash, { tracer: 'callTracer' }]) : null),
  };
}

/** A block's native transfers to our addresses (top-level and, when traced, internal), or null when the node lacks the block. */
async function readNativeTransfers(client: PublicClient, tracer: Tracer, number: number, ours: OursFilter): Promise<{ header: BlockHeader; transfers: NativeTransfer[] } | null> {
  const b = await client.getBlock({ blockNumber: BigInt(number), includeTransactions: true }).catch((error: unknown) => {
    if ((error as Error)?.name === 'BlockNotFoundError') return null;
    throw error;
  });
  if (!b) return null;
  const header = toHeader(b);
  // Coins a contract moves (internal transfers) appear in no log and no transaction's value:
  // blocks with contract calls or creations are traced when the node can (callTracer).
  let internal: NativeTransfer[] = [];
  if (tracer.enabled && b.transactions.some((tx) => tx.to === null || tx.input !== '0x')) {
    const traced = await tracer.block(number);
    if (traced) internal = internalTransfers(traced, header, () => true);
  }
  const valued = b.transactions.filter((tx) => tx.to && tx.value > 0n);
  const recipients = new Set<Hex>([...valued.map((tx) => lower(tx.to!)), ...internal.map((t) => t.to)]);
  const mine = recipients.size ? await ours([...recipients]) : new Set<Hex>();
  const transfers: NativeTransfer[] = internal.filter((t) => mine.has(t.to));
  const candidates = valued.filter((tx) => mine.has(lower(tx.to!)));
  for (let i = 0; i < candidates.length; i += RECEIPTS_PARALLEL_MAX) {
    const slice = candidates.slice(i, i + RECEIPTS_PARALLEL_MAX);
    const receipts = await Promise.all(slice.map((tx) => client.getTransactionReceipt({ hash: tx.hash })));
    for (const [j, tx] of slice.entries()) {
      if (receipts[j]!.status !== 'success') continue;
      transfers.push({ from: lower(tx.from), to: lower(tx.to!), amount_minor: tx.value, tx_hash: lower(tx.hash), block_number: header.number, block_hash: header.hash });
    }
  }
  return { header, transfers };
}

/** What one transaction did, as far as deposits care (diagnosis): status, token and internal transfers, depth. */
async function readTransaction(client: PublicClient, tracer: Tracer, hash: Hex): Promise<TransactionInfo> {
  const tx = await client.getTransaction({ hash }).catch((error: unknown) => {
    if (error instanceof TransactionNotFoundError) return null;
    throw error;
  });
  if (!tx) return { found: false, tx_hash: lower(hash) };
  const base = { found: true as const, tx_hash: lower(tx.hash), from: lower(tx.from), to: tx.to ? lower(tx.to) : null, value_minor: tx.value };
  if (tx.blockNumber === null) return { ...base, block_number: null, block_hash: null, status: 'pending', token_transfers: [], internal_transfers: [], confirmations: 0 };
  const [receipt, head] = await Promise.all([
    client.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const logs = receipt ? parseEventLogs({ abi: [TRANSFER_EVENT], logs: receipt.logs, strict: true }) : [];
  const block_number = Number(tx.blockNumber);
  const block_hash = tx.blockHash ? lower(tx.blockHash) : null;
  // A contract call may have moved the native coin on to other addresses (a forwarder, a
  // multisig, an exchange's batch payout): only a trace shows it.
  const trace = receipt?.status === 'success' && tx.input !== '0x' && block_hash ? await tracer.transaction(hash) : null;
  return {
    ...base,
    block_number,
    block_hash,
    status: receipt ? receipt.status : 'pending',
    token_transfers: logs.map((l) => toTokenTransfer(l as unknown as Log<bigint, number, false, typeof TRANSFER_EVENT>)),
    internal_transfers: trace && block_hash ? valueMoves(hash, trace, { number: block_number, hash: block_hash }) : [],
    confirmations: Math.max(0, Number(head) - block_number + 1),
  };
}

/** const reader = createEvmReader({ chain_id: 31337, rpc_url: 'http://127.0.0.1:8545' }) */
export function createEvmReader(endpoint: ChainEndpoint, client: PublicClient = createEvmClient(endpoint)): ChainReader {
  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw wrap(method, error);
    }
  }
  const tracer = createTracer(client, endpoint);

  return {
    chain_id: endpoint.chain_id,
    rpc_url: endpoint.rpc_url,
    chainId: () => call('eth_chainId', () => client.getChainId()),
    head: () => call('eth_blockNumber', async () => Number(await client.getBlockNumber({ cacheTime: 0 }))),
    block: (number) =>
      call('eth_getBlockByNumber', async () => {
        const b = await client.getBlock({ blockNumber: BigInt(number) }).catch((error: unknown) => {
          if ((error as Error)?.name === 'BlockNotFoundError') return null;
          throw error;
        });
        return b ? toHeader(b) : null;
      }),

    blocks: (from, to) => call('eth_getBlockByNumber', () => readBlocks(client, from, to)),
    tokenTransfers: (from, to, tokens) => call('eth_getLogs', () => readTokenTransfers(client, from, to, tokens)),
    nativeTransfers: (number, ours) => call('eth_getBlockByNumber', () => readNativeTransfers(client, tracer, number, ours)),
    transaction: (hash) => call('eth_getTransactionByHash', () => readTransaction(client, tracer, hash)),
  };
}
