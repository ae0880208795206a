// The chain module's vocabulary: what a chain adapter reads and returns. Adapters look alike
// (CONVENTIONS #10): every rail exposes this small read interface, does no hidden I/O of its own
// (no caches, no background polling, no filters kept on the node), and returns plain data.
// Writing to a chain (signing, broadcasting) is a separate interface in its own files so that the
// read side stays free of keys.

/** A lower-case 0x-prefixed hex string (addresses, hashes). */
export type Hex = `0x${string}`;

export interface BlockHeader {
  number: number;
  hash: Hex;
  parent_hash: Hex;
  timestamp_s: number;
}

/** One ERC-20 `Transfer(from, to, value)` log. Addresses lower-case. */
export interface TokenTransfer {
  token: Hex;
  from: Hex;
  to: Hex;
  amount_minor: bigint;
  tx_hash: Hex;
  log_index: number;
  block_number: number;
  block_hash: Hex;
}

/**
 * A top-level native-coin payment (a transaction with value to one of our addresses that
 * succeeded). Coins moved by contracts (internal transactions) are not seen by this reader.
 */
export interface NativeTransfer {
  from: Hex;
  to: Hex;
  amount_minor: bigint;
  tx_hash: Hex;
  block_number: number;
  block_hash: Hex;
  /**
   * Set for coins moved by a contract inside the transaction (an internal CALL with value, or a
   * SELFDESTRUCT): its position among the transaction's successful internal value transfers, in
   * trace order (0, 1, …). Absent for the transaction's own value.
   */
  internal_index?: number;
}

/** What the chain itself says about a transaction hash (for diagnosis). */
export type TransactionInfo =
  | { found: false; tx_hash: Hex }
  | {
      found: true;
      tx_hash: Hex;
      /** null while in the mempool. */
      block_number: number | null;
      block_hash: Hex | null;
      /** 'pending' while not mined. */
      status: 'success' | 'reverted' | 'pending';
      from: Hex;
      to: Hex | null;
      value_minor: bigint;
      /** ERC-20 Transfer logs emitted by the transaction (decoded), in log order. */
      token_transfers: TokenTransfer[];
      /**
       * The native coin moved by contracts inside the transaction (successful internal CALLs with
       * value and SELFDESTRUCTs, numbered as the scanner numbers them); empty for a plain transfer,
       * while pending, or where the node cannot trace (debug_traceTransaction).
       */
      internal_transfers: NativeTransfer[];
      /** head − block + 1, or 0 while pending. */
      confirmations: number;
    };

/**
 * Read access to one chain. Every method is one bounded RPC round (or a bounded batch of them);
 * failures throw ChainRpcError so callers can retry at their own pace.
 *
 * const reader = createEvmReader({ chain_id: 31337, rpc_url }); const head = await reader.head();
 */
/** Which of these addresses are ours (the caller looks them up; the chain module knows no owners). */
export type OursFilter = (candidates: readonly Hex[]) => Promise<ReadonlySet<Hex>>;

export interface ChainReader {
  readonly chain_id: number;
  readonly rpc_url: string;
  /** The chain id the node reports (eth_chainId). */
  chainId(): Promise<number>;
  /** The latest block number. */
  head(): Promise<number>;
  /** A block header, or null when the node has no such block (beyond head). */
  block(number: number): Promise<BlockHeader | null>;
  /** Headers for [from, to] inclusive (bounded by the caller); missing blocks are omitted. */
  blocks(from: number, to: number): Promise<BlockHeader[]>;
  /** ERC-20 Transfer logs of the given token contracts in [from, to] inclusive, in chain order. */
  tokenTransfers(from: number, to: number, tokens: Hex[]): Promise<TokenTransfer[]>;
  /**
   * The block's header and its successful native transfers (top-level and, when traced,
   * internal) to the addresses `ours` picks out of the block's candidate recipients (null when
   * the block does not exist). `ours` is asked once per block with every recipient of value.
   */
  nativeTransfers(number: number, ours: OursFilter): Promise<{ header: BlockHeader; transfers: NativeTransfer[] } | null>;
  /** What the chain says about a transaction hash. */
  transaction(hash: Hex): Promise<TransactionInfo>;
}

/** An RPC call failed (unreachable node, timeout, error answer). Expected: callers retry later. */
export class ChainRpcError extends Error {
  override name = 'ChainRpcError';
  constructor(
    message: string,
    readonly method: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** The configuration a reader needs. */
export interface ChainEndpoint {
  chain_id: number;
  rpc_url: string;
  /** Per-request timeout; default 10 s. */
  timeout_ms?: number;
  /** Retries per request on network errors; default 2. */
  retries_max?: number;
  /** Trace blocks with contract calls for internal native transfers (debug_traceBlockByNumber); default on, off by itself where the node lacks the method. */
  trace_internal?: boolean;
}
