// Group commit for small state changes of concurrent requests on SQLite.
//
// SQLite has one writer and, with synchronous=FULL, every COMMIT waits for an fsync; better-sqlite3
// runs it on the event loop, so nothing else happens meanwhile. One transaction per request
// therefore caps money-moving writes at 1 / (fsyncs per request × fsync time), whatever the CPU.
// Here, the writes that arrive while a commit is in progress wait and then share the next
// transaction: each runs inside its own SAVEPOINT (its failure rolls back only its own writes
// and reaches only its own caller), and all of them become durable with one COMMIT. A caller's
// promise settles only after that COMMIT, so durability is unchanged: nothing is acknowledged
// before it is on disk. Work runs one item after the other, in arrival order, exactly as if each
// had its own transaction; only the commit is shared.
//
// On PostgreSQL every call keeps a transaction of its own (the server groups commits of
// concurrent connections itself, and the pool runs them in parallel).
//
//   const gc = groupCommit(db);
//   const payment = await gc.transaction(async (trx) => createPayment(trx, …));
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Transaction } from 'kysely';
import type { Db, DbExecutor } from './database.ts';
import type { Database } from './schema.ts';

/** At most this many items share one transaction (bounds the time a commit holds the writer). */
export const GROUP_ITEMS_MAX = 64;

type Work = (trx: Transaction<Database>) => Promise<unknown>;

interface Item {
  work: Work;
  /** A single statement: no savepoint around it. */
  single: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommit {
  /** One state change (CONVENTIONS #5), committed together with concurrent ones on SQLite. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * ONE statement that needs no transaction of its own (bookkeeping such as idempotency keys):
   * grouped on SQLite without a savepoint (SQLite undoes a failed statement by itself), run
   * directly (autocommit) on PostgreSQL.
   */
  write<T>(work: (ex: DbExecutor) => Promise<T>): Promise<T>;
}

const perDb = new WeakMap<Db, GroupCommit>();

// The drain runs in the async context of this module's loading, not in that of whichever caller
// happened to start it: a caller's context (for example a transaction it wrongly holds) must not
// leak into the groups of everyone else.
const outsideCallers = AsyncLocalStorage.snapshot();

// Work that queued more grouped work and waited for it would wait for its own group's end: a
// deadlock. It throws instead, naming the fix.
const insideGroupWork = new AsyncLocalStorage<true>();

/** The one group committer of this database (shared, so that all grouped writes share commits). */
export function groupCommit(db: Db): GroupCommit {
  let gc = perDb.get(db);
  if (!gc) {
    gc = db.dialect === 'sqlite' ? sqliteGroupCommit(db) : { transaction: (work) => db.transaction(work), write: (work) => work(db.kysely) };
    perDb.set(db, gc);
  }
  return gc;
}

/**
 * One item of a group inside the shared transaction: a plain write runs as is (its error fails
 * only itself unless SQLite rolled the whole transaction back), a transaction runs under a
 * savepoint so that its failure undoes only its own work.
 */
async function runItem(db: Db, trx: Transaction<Database>, item: Item): Promise<Outcome> {
  if (item.single) {
    const outcome = await insideGroupWork.run(true, () => item.work(trx)).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    // An error that made SQLite roll the whole transaction back (disk full, I/O) fails the group.
    if (!outcome.ok && !db.sqlite?.inTransaction) throw outcome.error;
    return outcome;
  }
  await sql`savepoint group_item`.execute(trx);
  try {
    const value = await insideGroupWork.run(true, () => item.work(trx));
    await sql`release savepoint group_item`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to savepoint group_item`.execute(trx);
    await sql`release savepoint group_item`.execute(trx);
    return { ok: false, error };
  }
}

function sqliteGroupCommit(db: Db): GroupCommit {
  const queue: Item[] = [];
  let draining = false;

  async function runGroup(group: Item[]): Promise<void> {
    let outcomes: Outcome[] = [];
    try {
      await db.transaction(async (trx) => {
        outcomes = [];
        for (const item of group) outcomes.push(await runItem(db, trx, item));
      });
    } catch (error) {
      // The shared transaction itself failed (its COMMIT, or a savepoint the engine lost): nothing
      // of this group is durable, and every caller learns it.
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }

  // better-sqlite3 is synchronous and Kysely's awaits are microtasks, so a transaction never
  // yields to the event loop: a group is only formed if the drain first lets the loop run (read
  // the sockets, run the requests that are ready) up to the point where they queue their work.
  const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function drain(): Promise<void> {
    try {
      await yieldToEventLoop();
      while (queue.length) {
        await runGroup(queue.splice(0, GROUP_ITEMS_MAX));
        await yieldToEventLoop();
      }
    } finally {
      draining = false;
    }
  }

  function enqueue<T>(work: Work, single: boolean): Promise<T> {
    if (insideGroupWork.getStore()) return Promise.reject(new Error('group commit used inside grouped work would deadlock: pass the trx down instead'));
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, single, resolve: resolve as (v: unknown) => void, reject });
      if (draining) return;
      draining = true;
      void outsideCallers(drain);
    });
  }

  return {
    transaction: (work) => enqueue(work, false),
    write: (work) => enqueue(work, true),
  };
}
