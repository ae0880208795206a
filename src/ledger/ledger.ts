// The ledger's face: the only file (with ledger-types.ts) other modules import.
//
// createLedger(db, clock) implements Ledger over ledger-rules.ts (decisions), ledger-store.ts
// (queries), ledger-batch-runner.ts (the one write path) and ledger-commit-queue.ts (group
// commit). Two ways in:
// - createTransfersIn(trx, batch): inside a caller's transaction, so that a payment's status, its
//   transfers and its outbox row commit together;
// - createTransfers(batch): group commit. Calls from concurrent callers queue up; while one
//   database transaction commits, the next calls gather, and they are applied together in the
//   next one (up to ledger_batch_max transfers). Each caller gets its own results; a caller's
//   failing transfer fails only its own linked chain. If the shared transaction itself throws,
//   each caller's batch is retried alone, so one bad batch cannot fail its neighbours.
// Every batch locks the chain head row first: the hash chain stays one line under any
// concurrency, across processes, and PostgreSQL writers queue there rather than deadlock.
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import { LIMITS } from '../config.ts';
import { assert } from '../shared/assert.ts';
import type { Clock } from '../shared/clock.ts';
import type { RuleInput } from './ledger-rules.ts';
import { createBatchRunner, EXPIRE_JOB } from './ledger-batch-runner.ts';
import { createCommitQueue } from './ledger-commit-queue.ts';
export { EXPIRE_JOB };
import { ownerBalances } from './ledger-replay-rules.ts';
import {
  insertAccounts,
  selectAccounts,
  selectAssets,
  selectHistory,
  selectOwnerAccounts,
  selectTransfers,
  upsertAssets,
} from './ledger-store.ts';
import type { AccountSpec, AssetSpec, LedgerAccount, OwnerBalance, Transfer, TransferInput, TransferResult } from './ledger-types.ts';

export interface Ledger {
  /** Creates the accounts that do not exist yet (idempotent). */
  ensureAccounts(specs: AccountSpec[], trx?: Transaction<Database>): Promise<void>;
  /**
   * Applies a batch inside the caller's transaction, so that a state change, its ledger
   * transfers and its outbox rows commit together. One result per input, in order.
   */
  createTransfersIn(trx: Transaction<Database>, batch: TransferInput[]): Promise<TransferResult[]>;
  /**
   * Applies a batch through group commit (many callers' batches share one transaction).
   * Never call it while holding a transaction (on SQLite it would wait for that very
   * transaction's connection): inside a transaction use createTransfersIn.
   */
  createTransfers(batch: TransferInput[]): Promise<TransferResult[]>;
  getAccounts(ids: string[], trx?: Transaction<Database>): Promise<LedgerAccount[]>;
  getTransfers(ids: string[], trx?: Transaction<Database>): Promise<Transfer[]>;
  /** available / pending_in / pending_out / held for one owner, per asset. */
  balancesOf(owner_type: 'user' | 'platform', owner_id: string, assets: string[], trx?: Transaction<Database>): Promise<OwnerBalance[]>;
  /** An account's transfers, newest first, cursor-paginated. */
  history(account_id: string, opts: { limit: number; cursor?: string | null }): Promise<{ data: Transfer[]; next_cursor: string | null }>;
  /** Registers assets (idempotent); an existing code with other decimals/chain/contract is refused. */
  ensureAssets(specs: AssetSpec[], trx?: Transaction<Database>): Promise<void>;
  listAssets(trx?: Transaction<Database>): Promise<AssetSpec[]>;
  /**
   * Voids a pending transfer whose timeout has passed (the `ledger.expire_pending` job calls it).
   * The void's id is `expire:<pending id>`; a pending transfer already resolved is left alone.
   */
  expirePendingIn(trx: Transaction<Database>, pending_id: string): Promise<TransferResult>;
  /** Waits for queued group-commit batches to finish (shutdown). */
  drain(): Promise<void>;
}

/** Refused: the group-commit queue is full (backpressure; retry later with the same ids). */
export class LedgerBusyError extends Error {
  override name = 'LedgerBusyError';
}

export interface LedgerOptions {
  batch_max?: number;
  queue_max?: number;
}

// `settle ledger verify`'s check, offered on the face so that other modules (the reconciler) reuse it.
export { verifyLedger, verifyLedgerSnapshot, type VerifyReport } from './ledger-verify.ts';
export { ledgerAccountId, type AccountKind, type AccountSpec, type AssetSpec, type TransferInput, type TransferResult, type TransferResultCode } from './ledger-types.ts';

export const EXPIRED_REASON = 'ledger.pending_expired';

/** const ledger = createLedger(db, clock); await ledger.createTransfers([{ id, debit_account_id, … }]) */
export function createLedger(db: Db, clock: Clock, opts: LedgerOptions = {}): Ledger {
  const batch_max = opts.batch_max ?? LIMITS.ledger_batch_max;
  const queue_max = opts.queue_max ?? LIMITS.ledger_queue_max;
  const { run, runOwn } = createBatchRunner(db, clock);
  const queue = createCommitQueue(runOwn, { batch_max, queue_max, busy: (queued) => new LedgerBusyError(`ledger queue full (${queued} transfers waiting)`) });

  return {
    async ensureAccounts(specs, trx) {
      await insertAccounts(trx ?? db.kysely, specs, clock.now_ms());
    },

    async createTransfersIn(trx, batch) {
      if (batch.length === 0) return [];
      assert(batch.length <= batch_max, `a ledger batch holds at most ${batch_max} transfers`);
      return (await run(trx, [batch]))[0]!;
    },

    createTransfers(batch) {
      return queue.submit(batch);
    },

    async getAccounts(ids, trx) {
      return selectAccounts(trx ?? db.kysely, ids);
    },

    async getTransfers(ids, trx) {
      return selectTransfers(trx ?? db.kysely, ids);
    },

    async balancesOf(owner_type, owner_id, assets, trx) {
      return ownerBalances(await selectOwnerAccounts(trx ?? db.kysely, owner_type, owner_id, assets), assets);
    },

    history(account_id, page) {
      return historyPage(db, account_id, page);
    },

    ensureAssets(specs, trx) {
      return ensureAssetsIn(trx ?? db.kysely, specs, clock.now_ms());
    },

    async listAssets(trx) {
      return selectAssets(trx ?? db.kysely);
    },

    async expirePendingIn(trx, pending_id) {
      const input: RuleInput = { id: `expire:${pending_id}`, void_pending_id: pending_id, reason: EXPIRED_REASON, reference: null, expiry: true };
      return (await run(trx, [[input]]))[0]![0]!;
    },

    drain: () => queue.drain(),
  };
}

/** An account's transfers, newest first: `limit` (capped at page_size_max) after the `cursor` seq. */
async function historyPage(db: Db, account_id: string, { limit, cursor }: { limit: number; cursor?: string | null }): Promise<{ data: Transfer[]; next_cursor: string | null }> {
  const n = Math.max(1, Math.min(limit, LIMITS.page_size_max));
  const before = cursor ? Number.parseInt(cursor, 10) : null;
  assert(before === null || Number.isSafeInteger(before), 'history cursor must be a seq');
  const rows = await selectHistory(db.kysely, account_id, before, n + 1);
  const data = rows.slice(0, n);
  return { data, next_cursor: rows.length > n ? String(data[data.length - 1]!.seq) : null };
}

/** Registers assets; one already registered with other decimals, chain or contract is a programmer error. */
async function ensureAssetsIn(ex: DbExecutor, specs: AssetSpec[], now_ms: number): Promise<void> {
  await upsertAssets(ex, specs, now_ms);
  const stored = new Map((await selectAssets(ex)).map((a) => [a.code, a]));
  for (const s of specs) {
    const have = stored.get(s.code);
    assert(
      have && have.decimals === s.decimals && have.chain_id === s.chain_id && have.contract_address === s.contract_address,
      `asset ${s.code} is registered with other decimals, chain or contract`,
    );
  }
}

/** Registers the ledger's durable jobs: the expiry of pending transfers. */
export function registerLedgerJobs(jobs: JobRunner, ledger: Ledger): void {
  jobs.register(EXPIRE_JOB, async (payload, ctx) => {
    const { pending_id } = payload as { pending_id: string };
    // Whatever the result (voided now, or already posted/voided by its owner), the job is done.
    await ctx.commit((trx) => ledger.expirePendingIn(trx, pending_id));
  });
}
