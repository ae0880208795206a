// Group commit for createTransfers: calls from concurrent callers queue up; while one database
// transaction commits, the next calls gather, and they are applied together in the next one (up
// to batch_max transfers). Each caller gets its own results. If the shared transaction throws,
// each caller's batch is retried alone, so one bad batch cannot fail its neighbours. A full queue
// refuses at once (backpressure) with the error `busy` makes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { assert } from '../shared/assert.ts';
import type { RuleInput } from './ledger-rules.ts';
import type { TransferResult } from './ledger-types.ts';

interface Waiter {
  batch: RuleInput[];
  resolve: (r: TransferResult[]) => void;
  reject: (e: unknown) => void;
}

/** Applies a group in one transaction; if it throws, each caller's batch alone. */
async function commitGroup(runOwn: (segments: RuleInput[][]) => Promise<TransferResult[][]>, group: Waiter[]): Promise<void> {
  try {
    const results = await runOwn(group.map((w) => w.batch));
    group.forEach((w, i) => w.resolve(results[i]!));
  } catch (error) {
    if (group.length === 1) {
      group[0]!.reject(error);
      return;
    }
    // Isolate the batch that broke the shared transaction: each caller alone.
    for (const w of group) {
      try {
        w.resolve((await runOwn([w.batch]))[0]!);
      } catch (e) {
        w.reject(e);
      }
    }
  }
}

export interface CommitQueue {
  submit(batch: RuleInput[]): Promise<TransferResult[]>;
  /** Waits until every queued batch has been applied (shutdown). */
  drain(): Promise<void>;
}

export function createCommitQueue(
  runOwn: (segments: RuleInput[][]) => Promise<TransferResult[][]>,
  opts: { batch_max: number; queue_max: number; busy: (queued: number) => Error },
): CommitQueue {
  const { batch_max, queue_max } = opts;
  const queue: Waiter[] = [];
  let queued = 0;
  let draining: Promise<void> | null = null;
  const outsideCallers = AsyncLocalStorage.snapshot();

  async function drainQueue(): Promise<void> {
    while (queue.length) {
      const group: Waiter[] = [];
      let size = 0;
      while (queue.length && size + queue[0]!.batch.length <= batch_max) {
        const w = queue.shift()!;
        size += w.batch.length;
        group.push(w);
      }
      queued -= size;
      await commitGroup(runOwn, group);
    }
  }

  function kick(): void {
    if (draining) return;
    // Started on the next microtask so that callers in the same tick share the first transaction,
    // and outside the context of the caller that happened to start it: a singleton loop's lease
    // fence (database.ts withTransactionFence) must not reach the groups of everyone else.
    draining = Promise.resolve()
      .then(() => outsideCallers(drainQueue))
      .finally(() => {
        draining = null;
        if (queue.length) kick();
      });
  }

  async function submit(batch: RuleInput[]): Promise<TransferResult[]> {
    if (batch.length === 0) return [];
    assert(batch.length <= batch_max, `a ledger batch holds at most ${batch_max} transfers`);
    if (queued + batch.length > queue_max) throw opts.busy(queued);
    return new Promise<TransferResult[]>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
      queued += batch.length;
      kick();
    });
  }

  return {
    submit,
    async drain() {
      while (draining) await draining;
    },
  };
}
