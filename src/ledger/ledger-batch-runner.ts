// Applying transfer batches in a transaction: the ledger's one write path (ledger.ts's face uses
// it inside a caller's transaction, and inside one of its own for group commit). Every batch
// locks the chain head row first, loads the transfers and accounts it touches, decides with
// ledger-rules.ts, writes, and queues the expiry job of each new pending transfer that has one.
import type { Db, DbExecutor } from '../db/database.ts';
import { enqueueJob } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { accountIdsToLock, applyBatch, newBatchState, transferIdsToLoad, type RuleInput } from './ledger-rules.ts';
import type { LedgerTx } from './ledger-store.ts';
import { SqliteStatements, pgTx } from './ledger-batch-store.ts';
import type { TransferResult } from './ledger-types.ts';

/** The job that voids a pending transfer at its timeout (registered by ledger.ts). */
export const EXPIRE_JOB = 'ledger.expire_pending';

export interface BatchRunner {
  /** Applies caller batches ("segments") in the caller's transaction `ex`; results per segment. */
  run(ex: DbExecutor, segments: RuleInput[][]): Promise<TransferResult[][]>;
  /** The same in a transaction of its own (BEGIN IMMEDIATE through prepared statements on SQLite). */
  runOwn(segments: RuleInput[][]): Promise<TransferResult[][]>;
}

export function createBatchRunner(db: Db, clock: Clock): BatchRunner {
  let statements: SqliteStatements | null = null;
  const sqliteStatements = (): SqliteStatements => (statements ??= new SqliteStatements(db.sqlite!));
  const txFor = (ex: DbExecutor): LedgerTx => (db.dialect === 'sqlite' ? sqliteStatements().tx() : pgTx(ex));

  async function run(ex: DbExecutor, segments: RuleInput[][]): Promise<TransferResult[][]> {
    const tx = txFor(ex);
    const head = await tx.lockHead();
    const state = newBatchState(clock.now_ms(), head);
    const all = segments.length === 1 ? segments[0]! : segments.flat();
    const { own, targets } = transferIdsToLoad(all);
    for (const t of await tx.loadTransfers(own)) state.transfers.set(t.id, t);
    for (const { transfer, resolved_by } of await tx.loadTargets(targets)) {
      state.transfers.set(transfer.id, transfer);
      if (transfer.type === 'pending' && resolved_by) state.resolutions.set(transfer.id, resolved_by === 'post_pending' ? 'posted' : 'voided');
    }
    for (const a of await tx.lockAccounts(accountIdsToLock(all, state.transfers))) state.accounts.set(a.id, a);
    const results = segments.map((segment) => applyBatch(state, segment));
    if (state.created.length) {
      await tx.write(state.created, state.accounts, [...state.dirty].map((id) => state.accounts.get(id)!), state.head);
      for (const t of state.created) {
        if (t.expires_at_ms === null) continue;
        await enqueueJob(ex, EXPIRE_JOB, { pending_id: t.id }, { run_at_ms: t.expires_at_ms, unique_key: `${EXPIRE_JOB}:${t.id}` }, clock);
      }
    }
    return results;
  }

  /** One transaction of its own (group commit). */
  async function runOwn(segments: RuleInput[][]): Promise<TransferResult[][]> {
    if (db.dialect === 'postgres') return db.transaction((trx) => run(trx, segments));
    // SQLite: hold Kysely's connection mutex so no other query interleaves, and drive the
    // transaction with prepared statements (BEGIN IMMEDIATE takes the write lock up front).
    const s = sqliteStatements();
    return db.kysely.connection().execute(async (conn) => {
      s.begin.run();
      try {
        const results = await run(conn, segments);
        s.commit.run();
        return results;
      } catch (error) {
        if (s.raw.inTransaction) s.rollback.run();
        throw error;
      }
    });
  }

  return { run, runOwn };
}
