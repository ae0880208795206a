// The database layer: Kysely over better-sqlite3 (embedded default) or PostgreSQL, picked by
// configuration, with one set of migrations for both.
//
// Money columns end in `_minor` (CONVENTIONS: unit last). They are TEXT on SQLite and
// NUMERIC(78,0) on PostgreSQL, because an EVM amount in wei outgrows a 64-bit integer; the
// BigintPlugin below turns every `_minor` result column into a `bigint` and every `bigint`
// parameter into its decimal text, so both dialects look the same to the code above.
// Other integers (times in ms, block numbers, counters) stay JS numbers: INT8 is parsed as a
// number on PostgreSQL, which is exact below 2^53.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  OperationNodeTransformer,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Driver,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';
export type DbExecutor = Kysely<Database> | Transaction<Database>;

export interface Db {
  readonly dialect: Dialect;
  readonly kysely: Kysely<Database>;
  /** Raw handle for measured hot paths (the ledger's batch commit); everything else uses kysely. */
  readonly sqlite: BetterSqlite3.Database | null;
  readonly pool: pg.Pool | null;
  /** One state change = one transaction (CONVENTIONS #5); retried on PostgreSQL serialization failures. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type DbTarget =
  | { kind: 'sqlite'; path: string; synchronous?: 'FULL' | 'NORMAL' }
  | ({ kind: 'postgres'; url: string; schema?: string; pool_size_max?: number } & Partial<PgTimeouts>);

/**
 * Bounds on one PostgreSQL connection, so that a hung caller holding a lock (the ledger's head
 * row, a payment row) cannot stall every writer behind it: the server cancels a statement past
 * statement_timeout_ms and ends a session idle inside a transaction past
 * idle_in_transaction_timeout_ms (its transaction rolls back, its locks are freed); a server
 * that accepts but never answers fails a connection attempt after connect_timeout_ms. 0 = off.
 */
export interface PgTimeouts {
  statement_timeout_ms: number;
  idle_in_transaction_timeout_ms: number;
  connect_timeout_ms: number;
}

// The ledger's largest batch (8190 transfers) commits in well under a second; a minute leaves
// room for reports and migrations on a large database without letting a stuck one hold on.
export const PG_TIMEOUTS_DEFAULT: PgTimeouts = { statement_timeout_ms: 60_000, idle_in_transaction_timeout_ms: 30_000, connect_timeout_ms: 10_000 };

class BigintParams extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    return typeof node.value === 'bigint' ? { ...node, value: node.value.toString() } : super.transformValue(node);
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    if (!node.values.some((v) => typeof v === 'bigint')) return super.transformPrimitiveValueList(node);
    return { ...node, values: node.values.map((v) => (typeof v === 'bigint' ? v.toString() : v)) };
  }
}

/** Converts `_minor` columns to bigint on the way out and bigint parameters to text on the way in. */
export class BigintPlugin implements KyselyPlugin {
  private readonly params = new BigintParams();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.params.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    for (const row of args.result.rows) convertMinorColumns(row);
    return args.result;
  }
}

/** Mutates a raw row so that every `*_minor` column is a bigint (also used by raw hot paths). */
export function convertMinorColumns(row: Record<string, unknown>): void {
  for (const key in row) {
    if (!key.endsWith('_minor')) continue;
    const value = row[key];
    if (typeof value === 'string' || typeof value === 'number') row[key] = BigInt(value);
  }
}

// Which Db's transaction the current async flow is inside. A db.transaction() opened inside
// another would deadlock on SQLite (one connection) and would not be atomic with it on
// PostgreSQL (another pooled connection): it is a bug, so it fails loudly instead of hanging.
const activeTransaction = new AsyncLocalStorage<{ owner: object; open: boolean }>();

/**
 * A check run first in every db.transaction() opened inside `withTransactionFence` (on this
 * async flow): a singleton loop's tick uses it to lock its lease row and confirm its fencing
 * token, so that a holder whose lease was taken over cannot commit (jobs/leases.ts, decision 0017).
 * It throws to refuse the transaction.
 */
export type TransactionFence = (trx: Transaction<Database>) => Promise<void>;
const activeFence = new AsyncLocalStorage<TransactionFence>();

/** withTransactionFence((trx) => checkToken(trx), () => tick()): every transaction of the tick checks first. */
export function withTransactionFence<T>(fence: TransactionFence, fn: () => T): T {
  return activeFence.run(fence, fn);
}

/** Runs fn with the transaction marked open, after the fence of the current flow (if any). */
function runInside<T>(store: { owner: object; open: boolean }, trx: Transaction<Database>, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const fence = activeFence.getStore();
  return activeTransaction.run(store, async () => {
    if (fence) await fence(trx);
    return fn(trx);
  });
}

function insideOpenTransaction(owner: object): boolean {
  const store = activeTransaction.getStore();
  return store !== undefined && store.owner === owner && store.open;
}

function assertNotNested(owner: object): void {
  if (insideOpenTransaction(owner)) {
    throw new Error('db.transaction() called inside a transaction of the same database: pass the trx down instead');
  }
}

// On SQLite, a query sent through db.kysely (not the trx) from inside a transaction waits for
// the one connection that the transaction itself holds: the process hangs silently. This
// dialect makes that mistake throw at once, naming the fix.
class GuardedSqliteDialect extends SqliteDialect {
  owner: object | null = null;
  override createDriver(): Driver {
    const inner = super.createDriver();
    const acquire = inner.acquireConnection.bind(inner);
    inner.acquireConnection = async () => {
      if (this.owner && insideOpenTransaction(this.owner)) {
        throw new Error('query through db.kysely inside db.transaction() on SQLite would deadlock: use the trx passed to the transaction');
      }
      return acquire();
    };
    return inner;
  }
}

// Kysely prepares every query anew, and compiling a statement costs SQLite about as much as
// running a point lookup. Compiled statements are kept by their text (bounded; the set of query
// shapes is small) and reused; one still being iterated (a stream) is never handed out twice.
const STATEMENTS_CACHED_MAX = 2000;
function withStatementCache(raw: BetterSqlite3.Database): { close(): void; prepare(text: string): BetterSqlite3.Statement } {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare(text) {
      const cached = cache.get(text);
      if (cached && !cached.busy) return cached;
      const stmt = raw.prepare(text);
      if (!cached) {
        if (cache.size >= STATEMENTS_CACHED_MAX) cache.clear();
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

const RETRYABLE_PG_CODES = new Set(['40001', '40P01']);
const TRANSACTION_RETRIES_MAX = 8;

function openSqlite(target: Extract<DbTarget, { kind: 'sqlite' }>): Db {
  if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
  const raw = new BetterSqlite3(target.path);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${target.synchronous ?? 'FULL'}`);
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 10000');
  // Group commit runs each request in a savepoint; SQLite copies every page a savepoint first
  // touches into a sub-journal, which spills to a temp file past 64 KiB (tens of pwrites per
  // request). Rollback state only: keeping it in memory changes nothing about durability.
  raw.pragma('temp_store = MEMORY');
  const dialect = new GuardedSqliteDialect({ database: withStatementCache(raw) });
  const kysely = new Kysely<Database>({ dialect, plugins: [new BigintPlugin()] });
  dialect.owner = kysely;
  return {
    dialect: 'sqlite',
    kysely,
    sqlite: raw,
    pool: null,
    // Kysely's SQLite driver has one connection guarded by a mutex; holding it through
    // `connection()` serialises our transactions in this process, and BEGIN IMMEDIATE takes the
    // write lock up front so that two processes never deadlock upgrading a read lock.
    async transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      assertNotNested(kysely);
      return kysely.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const store = { owner: kysely, open: true };
          let result: T;
          try {
            result = await runInside(store, conn as unknown as Transaction<Database>, fn);
          } finally {
            store.open = false;
          }
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          if (raw.inTransaction) await sql`rollback`.execute(conn);
          throw error;
        }
      });
    },
    async close() {
      await kysely.destroy();
    },
  };
}

function openPostgres(target: Extract<DbTarget, { kind: 'postgres' }>): Db {
  const types = {
    getTypeParser(oid: number, format?: unknown) {
      if (oid === 20) return (value: string) => Number(value); // int8: times, counters, block numbers
      return pg.types.getTypeParser(oid, format as 'text');
    },
  };
  const timeouts = { ...PG_TIMEOUTS_DEFAULT, ...definedOnly(target) };
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.pool_size_max ?? 10,
    types,
    statement_timeout: timeouts.statement_timeout_ms,
    idle_in_transaction_session_timeout: timeouts.idle_in_transaction_timeout_ms,
    connectionTimeoutMillis: timeouts.connect_timeout_ms,
    ...(target.schema ? { options: `-c search_path=${target.schema}` } : {}),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: the server ending a session idle in its transaction emits an
  // 'error' on a client the pool is not listening to. Its current or next query fails (so the
  // transaction's caller sees the error) and the pool drops it on release as not queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new BigintPlugin()] });
  return {
    dialect: 'postgres',
    kysely,
    sqlite: null,
    pool,
    async transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
      assertNotNested(kysely);
      for (let attempt = 1; ; attempt++) {
        try {
          return await kysely.transaction().execute(async (trx) => {
            const store = { owner: kysely, open: true };
            try {
              return await runInside(store, trx, fn);
            } finally {
              store.open = false;
            }
          });
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (!code || !RETRYABLE_PG_CODES.has(code) || attempt >= TRANSACTION_RETRIES_MAX) throw error;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        }
      }
    },
    async close() {
      await kysely.destroy();
    },
  };
}

function definedOnly(target: Partial<PgTimeouts>): Partial<PgTimeouts> {
  const out: Partial<PgTimeouts> = {};
  for (const key of ['statement_timeout_ms', 'idle_in_transaction_timeout_ms', 'connect_timeout_ms'] as const) {
    if (target[key] !== undefined) out[key] = target[key];
  }
  return out;
}

/** openDb({ kind: 'sqlite', path: './data/settle.db' }) */
export function openDb(target: DbTarget): Db {
  return target.kind === 'sqlite' ? openSqlite(target) : openPostgres(target);
}

/** Which dialect a Kysely handle or transaction speaks (for SQL that differs between them). */
export function dialectOf(ex: DbExecutor): Dialect {
  return ex.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Serialises the transactions that name the same key until they end: a read-then-write on one
 * user's money (the day's limit, then the transfer) cannot interleave with another's. PostgreSQL
 * runs READ COMMITTED, so it takes a transaction-scoped advisory lock on the key's hash; SQLite
 * needs nothing, since BEGIN IMMEDIATE already lets one writer in at a time.
 * await serialiseOn(trx, db.dialect, `user-money:${user_id}`)
 */
export async function serialiseOn(trx: Transaction<Database>, dialect: Dialect, key: string): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}

/** Whether an error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** Parses a JSON text column, typed by the caller. */
export function fromJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
