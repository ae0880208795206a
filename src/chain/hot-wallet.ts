// The write side of an EVM chain: a sender that signs with one key (the hot wallet, or a
// deposit address's HD key during a sweep) and drives each transaction to a final outcome.
//
// Why it is shaped this way:
// - Nonces live in the database. A nonce is allocated inside a transaction that locks the
//   wallet's nonce row (PostgreSQL: FOR UPDATE; SQLite: BEGIN IMMEDIATE), and the signed raw
//   transaction is recorded in that same transaction, BEFORE anything is broadcast. Two
//   processes therefore never sign two transactions with one nonce (a unique index on
//   (chain, address, nonce) makes it a hard error), and a crash after signing rebroadcasts the
//   very same bytes instead of signing something new.
// - A nonce, once allocated, is always consumed: by the payload, by a fee-bumped replacement of
//   it, or — when the payload cannot be broadcast — by a 0-value self-send ("cancel"). So a failed
//   transaction never leaves a gap that would block every later one.
// - Stuck transactions (in the mempool longer than `stuck_after_ms`) are replaced at the same
//   nonce with both EIP-1559 fees raised by at least 12.5 %.
// - Every RPC call happens outside database transactions; the database records intent first.
import { erc20Abi, keccak256, TransactionReceiptNotFoundError, type PublicClient } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { bump, errorText, isAlreadyCovered, isNetworkError, isRevert, spendOf, type PrepareResult, type TxIntent, type TxView } from './hot-wallet-rules.ts';
import type { Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { isUniqueViolation } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { deterministicId } from '../shared/ids.ts';
import type { Hex } from './chain-types.ts';
import {
  attemptsOf,
  getChainTx,
  getChainTxByPurpose,
  insertAttemptIfNext,
  insertChainTx,
  lockNextNonce,
  openChainTxs,
  setNextNonce,
  unminedSince,
  updateChainTx,
  type ChainTxAttemptRow,
  type ChainTxRow,
} from './hot-wallet-store.ts';

const GAS_MARGIN_PER_MILLE = 1200n;
const NATIVE_TRANSFER_GAS = 21_000n;
/** Rebroadcast a pending transaction at most this often (nodes drop txs; it is harmless). */
const REBROADCAST_EVERY_MS = 5_000;

export interface SenderOptions {
  chain_id: number;
  client: PublicClient;
  private_key: Hex;
  db: Db;
  clock: Clock;
  /** A transaction not mined this long after its latest attempt was broadcast is fee-bumped. */
  stuck_after_ms?: number;
  /** Refused broadcasts (node errors, not network errors) before the nonce is given to a cancel. */
  broadcast_failures_max?: number;
}

/** const hot = new Sender({ chain_id, client, private_key, db, clock }); const r = await hot.prepare(intent) */
export class Sender {
  readonly address: Hex;
  readonly chain_id: number;
  private readonly account: PrivateKeyAccount;
  private readonly stuck_after_ms: number;
  private readonly broadcast_failures_max: number;

  constructor(private readonly opts: SenderOptions) {
    this.account = privateKeyToAccount(opts.private_key);
    this.address = this.account.address.toLowerCase() as Hex;
    this.chain_id = opts.chain_id;
    this.stuck_after_ms = opts.stuck_after_ms ?? 120_000;
    this.broadcast_failures_max = opts.broadcast_failures_max ?? 5;
  }

  get client(): PublicClient {
    return this.opts.client;
  }

  /**
   * Estimates gas and fees (RPC), then allocates a nonce, signs and records the transaction in
   * one database transaction. Nothing is broadcast yet. Idempotent by (purpose, purpose_id).
   */
  async prepare(intent: TxIntent): Promise<PrepareResult> {
    const { db, client } = this.opts;
    const existing = await getChainTxByPurpose(db.kysely, intent.purpose, intent.purpose_id);
    if (existing) return { ok: true, tx: existing };
    const data = intent.data ?? '0x';
    let gas = intent.gas_limit;
    if (gas === undefined) {
      try {
        const estimate = await client.estimateGas({ account: this.address, to: intent.to, value: intent.value_minor, data });
        gas = estimate === NATIVE_TRANSFER_GAS && data === '0x' ? estimate : (estimate * GAS_MARGIN_PER_MILLE) / 1000n;
      } catch (error) {
        if (isRevert(error)) return { ok: false, code: 'reverted', reason: `reverted in simulation: ${errorText(error)}` };
        throw error;
      }
    }
    const fees = intent.fees ?? (await client.estimateFeesPerGas());
    const chainNonce = await client.getTransactionCount({ address: this.address, blockTag: 'pending' });
    // The balance at a known block: transactions of ours not mined by then are still to come out of it.
    const spend = spendOf(intent, gas!, fees.maxFeePerGas);
    const at = await client.getBlockNumber();
    const balance = spend.token
      ? await client.readContract({ address: spend.token, abi: erc20Abi, functionName: 'balanceOf', args: [this.address], blockNumber: at })
      : await client.getBalance({ address: this.address, blockNumber: at });
    try {
      const tx = await db.transaction((trx) => this.signAndRecord(trx, intent, { gas: gas!, fees, chainNonce, spend, at, balance }));
      if ('short' in tx) return { ok: false, code: 'reverted', reason: tx.short };
      return { ok: true, tx };
    } catch (error) {
      // A concurrent prepare of the same intent won the unique index: return its row.
      if (!isUniqueViolation(error)) throw error;
      const row = await getChainTxByPurpose(db.kysely, intent.purpose, intent.purpose_id);
      if (!row) throw error;
      return { ok: true, tx: row };
    }
  }

  /**
   * The part of prepare() inside its database transaction: under the wallet's nonce lock, sets
   * aside what our unmined transactions will take, refuses when the wallet is short, then signs
   * and records the transaction with its nonce. Returns the row, or why it is short.
   */
  private async signAndRecord(
    trx: Transaction<Database>,
    intent: TxIntent,
    est: { gas: bigint; fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }; chainNonce: number; spend: ReturnType<typeof spendOf>; at: bigint; balance: bigint },
  ): Promise<ChainTxRow | { short: string }> {
    const { db, clock } = this.opts;
    const { fees, chainNonce, spend, at, balance } = est;
    const { gas } = est;
    const data = intent.data ?? '0x';
    const again = await getChainTxByPurpose(trx, intent.purpose, intent.purpose_id);
    if (again) return again;
    const now = clock.now_ms();
    const stored = await lockNextNonce(db, trx, this.chain_id, this.address, chainNonce, now);
    // Under the nonce lock, so two preparers never both count on the same coins: what our
    // signed, unmined transactions will take is set aside. Short: nothing is signed.
    if (spend.amount > 0n) {
      let committed = 0n;
      for (const t of await unminedSince(trx, this.chain_id, this.address, Number(at))) {
        const other = spendOf({ to: t.to_address as Hex, value_minor: t.value_minor, data: t.data as Hex }, BigInt(t.gas_limit), fees.maxFeePerGas);
        committed += spend.token ? (other.token === spend.token ? other.amount : 0n) : other.native;
      }
      if (balance - committed < spend.amount) return { short: `hot wallet short: transfer amount exceeds balance (balance ${balance} at block ${at}, ${committed} committed to our unmined transactions, ${spend.amount} needed)` };
    }
    // The chain may know a higher nonce (a transaction sent by hand with this key): never go below it.
    const nonce = Math.max(stored, chainNonce);
    const raw = await this.account.signTransaction({
      type: 'eip1559',
      chainId: this.chain_id,
      nonce,
      to: intent.to,
      value: intent.value_minor,
      data,
      gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    const id = deterministicId('ctx', intent.purpose, intent.purpose_id);
    const row: ChainTxRow = {
      id,
      chain_id: this.chain_id,
      from_address: this.address,
      nonce,
      purpose: intent.purpose,
      purpose_id: intent.purpose_id,
      to_address: intent.to.toLowerCase(),
      value_minor: intent.value_minor,
      data,
      gas_limit: Number(gas),
      confirmations_required: intent.confirmations_required,
      status: 'signed',
      cancelling: 0,
      mined_hash: null,
      block_number: null,
      block_hash: null,
      gas_fee_minor: null,
      failure_reason: null,
      broadcast_failures: 0,
      last_error: null,
      first_broadcast_at_ms: null,
      last_broadcast_at_ms: null,
      created_at_ms: now,
      updated_at_ms: now,
    };
    await insertChainTx(trx, row, this.attemptRow(id, 0, 'payload', raw, fees.maxFeePerGas, fees.maxPriorityFeePerGas, now));
    await setNextNonce(trx, this.chain_id, this.address, nonce + 1, now);
    return row;
  }

  private attemptRow(tx_id: string, seq: number, kind: 'payload' | 'cancel', raw: Hex, maxFee: bigint, maxPrio: bigint, now: number): ChainTxAttemptRow {
    return { hash: keccak256(raw), tx_id, seq, kind, raw, max_fee_per_gas_minor: maxFee, max_priority_fee_per_gas_minor: maxPrio, created_at_ms: now };
  }

  /** Sends the newest attempt's recorded bytes. Node refusals are counted, never thrown. */
  async broadcast(tx_id: string): Promise<void> {
    const { db, clock, client } = this.opts;
    const tx = await getChainTx(db.kysely, tx_id);
    if (!tx || tx.status === 'confirmed' || tx.status === 'failed') return;
    const [latest] = await attemptsOf(db.kysely, tx_id);
    if (!latest) return;
    const now = clock.now_ms();
    try {
      await client.sendRawTransaction({ serializedTransaction: latest.raw as Hex });
    } catch (error) {
      if (isNetworkError(error)) throw error;
      if (!isAlreadyCovered(error)) {
        await updateChainTx(db.kysely, tx_id, { broadcast_failures: tx.broadcast_failures + 1, last_error: errorText(error), updated_at_ms: now });
        return;
      }
    }
    await updateChainTx(
      db.kysely,
      tx_id,
      {
        status: tx.status === 'signed' ? 'broadcast' : tx.status,
        first_broadcast_at_ms: tx.first_broadcast_at_ms ?? now,
        last_broadcast_at_ms: now,
        last_error: null,
        updated_at_ms: now,
      },
      ['signed', 'broadcast', 'mined'],
    );
  }

  /**
   * Looks at the chain and moves the transaction on: records the receipt and its depth, finishes
   * it at the required depth, rebroadcasts, fee-bumps a stuck one, or gives a nonce that cannot
   * be broadcast to a cancel. Safe to call from several processes at once.
   */
  async refresh(tx_id: string): Promise<TxView> {
    const { db, clock } = this.opts;
    const tx = await getChainTx(db.kysely, tx_id);
    if (!tx) throw new Error(`no chain tx ${tx_id}`);
    const attempts = await attemptsOf(db.kysely, tx_id);
    if (tx.status === 'confirmed' || tx.status === 'failed') return this.view(tx, attempts, tx.confirmations_required);

    const mined = await this.findMined(attempts);
    if (mined) return this.recordMined(tx, attempts, mined);
    if (tx.status === 'mined') {
      // The block that held it was reorganised away: back to the mempool, rebroadcast below.
      await updateChainTx(db.kysely, tx.id, { status: 'broadcast', mined_hash: null, block_number: null, block_hash: null, first_broadcast_at_ms: null, last_broadcast_at_ms: null, updated_at_ms: clock.now_ms() });
      tx.status = 'broadcast';
      tx.first_broadcast_at_ms = null;
      tx.last_broadcast_at_ms = null;
    }
    const latestCount = await this.opts.client.getTransactionCount({ address: this.address as Hex, blockTag: 'latest' });
    if (latestCount > tx.nonce || tx.status === 'unknown') {
      // The nonce is used on chain but by none of our attempts (checked once more against a race);
      // or it was found so before (a node that now answers otherwise is one that lags).
      const again = await this.findMined(attempts);
      if (again) return this.recordMined(tx, attempts, again);
      // Not proof of failure: the node may lag behind the one that mined ours. `unknown` until a
      // receipt is found; nothing is re-signed or cancelled at a nonce the chain has used.
      const reason = 'nonce_used_no_receipt: the node says this nonce is used, but no receipt of our transaction is found (yet)';
      if (tx.status !== 'unknown') await updateChainTx(db.kysely, tx.id, { status: 'unknown', last_error: reason, updated_at_ms: clock.now_ms() }, ['signed', 'broadcast', 'mined']);
      return this.view({ ...tx, status: 'unknown', last_error: reason }, attempts, 0);
    }
    await this.push(tx, attempts);
    const fresh = (await getChainTx(db.kysely, tx_id))!;
    return this.view(fresh, await attemptsOf(db.kysely, tx_id), 0);
  }

  /** Decides between rebroadcast, replacement and cancel for a transaction not mined yet. */
  private async push(tx: ChainTxRow, attempts: ChainTxAttemptRow[]): Promise<void> {
    const now = this.opts.clock.now_ms();
    if (tx.broadcast_failures >= this.broadcast_failures_max && tx.cancelling === 0) {
      await this.replace(tx, attempts[0]!, 'cancel', tx.last_error ?? 'the node refused the transaction');
    } else if (tx.first_broadcast_at_ms !== null && now - tx.first_broadcast_at_ms >= this.stuck_after_ms) {
      await this.replace(tx, attempts[0]!, tx.cancelling ? 'cancel' : 'payload', null);
    } else if (tx.status === 'signed' || tx.last_broadcast_at_ms === null || now - tx.last_broadcast_at_ms >= REBROADCAST_EVERY_MS) {
      await this.broadcast(tx.id);
    }
  }

  /** Signs a new attempt at the same nonce with both fees bumped; a cancel is a 0-value self-send. */
  private async replace(tx: ChainTxRow, latest: ChainTxAttemptRow, kind: 'payload' | 'cancel', cancelReason: string | null): Promise<void> {
    const { db, clock, client } = this.opts;
    const fees = await client.estimateFeesPerGas();
    const maxPrio = bump(latest.max_priority_fee_per_gas_minor, fees.maxPriorityFeePerGas);
    let maxFee = bump(latest.max_fee_per_gas_minor, fees.maxFeePerGas);
    if (maxFee < maxPrio) maxFee = maxPrio;
    const cancel = kind === 'cancel';
    const raw = await this.account.signTransaction({
      type: 'eip1559',
      chainId: this.chain_id,
      nonce: tx.nonce,
      to: cancel ? this.address : (tx.to_address as Hex),
      value: cancel ? 0n : tx.value_minor,
      data: cancel ? '0x' : (tx.data as Hex),
      gas: cancel ? NATIVE_TRANSFER_GAS : BigInt(tx.gas_limit),
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: maxPrio,
    });
    const now = clock.now_ms();
    const added = await db.transaction(async (trx) => {
      const ok = await insertAttemptIfNext(trx, this.attemptRow(tx.id, latest.seq + 1, kind, raw, maxFee, maxPrio, now));
      if (!ok) return false;
      await updateChainTx(trx, tx.id, {
        first_broadcast_at_ms: null,
        broadcast_failures: 0,
        updated_at_ms: now,
        ...(cancel ? { cancelling: 1, failure_reason: tx.failure_reason ?? `unbroadcastable: ${cancelReason ?? 'refused'}` } : {}),
      });
      return true;
    });
    if (added) await this.broadcast(tx.id);
  }

  private async findMined(attempts: ChainTxAttemptRow[]): Promise<{ attempt: ChainTxAttemptRow; receipt: Awaited<ReturnType<PublicClient['getTransactionReceipt']>> } | null> {
    for (const attempt of attempts) {
      try {
        const receipt = await this.opts.client.getTransactionReceipt({ hash: attempt.hash as Hex });
        return { attempt, receipt };
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError || (error as Error)?.name === 'TransactionReceiptNotFoundError') continue;
        throw error;
      }
    }
    return null;
  }

  private async recordMined(
    tx: ChainTxRow,
    attempts: ChainTxAttemptRow[],
    mined: { attempt: ChainTxAttemptRow; receipt: Awaited<ReturnType<PublicClient['getTransactionReceipt']>> },
  ): Promise<TxView> {
    const { db, clock, client } = this.opts;
    const head = Number(await client.getBlockNumber({ cacheTime: 0 }));
    const block_number = Number(mined.receipt.blockNumber);
    const confirmations = Math.max(0, head - block_number + 1);
    const gas_fee_minor = mined.receipt.gasUsed * mined.receipt.effectiveGasPrice;
    const base = { mined_hash: mined.attempt.hash, block_number, block_hash: mined.receipt.blockHash.toLowerCase(), gas_fee_minor, updated_at_ms: clock.now_ms() };
    let patch: Partial<ChainTxRow>;
    if (confirmations < tx.confirmations_required) {
      patch = { ...base, status: 'mined' };
    } else if (mined.attempt.kind === 'payload' && mined.receipt.status === 'success') {
      patch = { ...base, status: 'confirmed' };
    } else {
      const reason = mined.attempt.kind === 'cancel' ? (tx.failure_reason ?? 'cancelled') : 'reverted_on_chain: the transaction was mined but reverted';
      patch = { ...base, status: 'failed', failure_reason: reason };
    }
    await updateChainTx(db.kysely, tx.id, patch, ['signed', 'broadcast', 'mined', 'unknown']);
    return this.view({ ...tx, ...patch }, attempts, confirmations);
  }

  private view(tx: ChainTxRow, attempts: ChainTxAttemptRow[], confirmations: number): TxView {
    const depth = tx.status === 'confirmed' || tx.status === 'failed' ? Math.max(confirmations, tx.block_number !== null ? tx.confirmations_required : 0) : confirmations;
    return {
      id: tx.id,
      status: tx.status as TxView['status'],
      nonce: tx.nonce,
      hash: (tx.mined_hash ?? attempts[0]?.hash) as Hex,
      block_number: tx.block_number,
      confirmations: depth,
      confirmations_required: tx.confirmations_required,
      failure_reason: tx.failure_reason,
      gas_fee_minor: tx.gas_fee_minor,
    };
  }

  /** Refreshes every open transaction of this wallet (bounded): the safety net after crashes. */
  async refreshOpen(limit = 100): Promise<number> {
    const open = (await openChainTxs(this.opts.db.kysely, this.chain_id, limit)).filter((t) => t.from_address === this.address);
    for (const tx of open) await this.refresh(tx.id);
    return open.length;
  }
}

