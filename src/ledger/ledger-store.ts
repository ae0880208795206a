// The ledger's queries; no business decisions (those are in ledger-rules.ts).
//
// A batch runs through a LedgerTx: lock the chain head, load the transfers and accounts the batch
// names, let the rules decide, write the outcome. Two implementations:
// - SQLite: prepared statements on the raw better-sqlite3 handle. This is the measured hot path:
//   a batch of 8,190 transfers makes ~25,000 statement executions, and going through Kysely
//   (query compilation, plugin transforms, one promise per statement) costs several times the
//   SQLite work itself. Statements run synchronously on the one connection, inside a transaction
//   that the caller holds (Kysely's connection mutex keeps every other query out meanwhile).
// - PostgreSQL: set-based statements through Kysely (`= any($1)` reads, `unnest` multi-row insert
//   and update), so a batch costs a fixed handful of round trips whatever its size. Every writer
//   locks the chain head first and then the touched accounts in sorted id order (FOR UPDATE):
//   writers queue on the head instead of deadlocking on accounts.
import { sql, type Kysely, type Transaction } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../db/schema.ts';
import type { DbExecutor } from '../db/database.ts';
import type { AccountKind, AssetSpec, LedgerAccount, Transfer } from './ledger-types.ts';
import { accountFlagBits, accountFlagsFromBits, accountKey, type AccountState, type ChainHead } from './ledger-rules.ts';
import type { AccountSpec } from './ledger-types.ts';

export interface LedgerTx {
  lockHead(): Promise<ChainHead>;
  loadTransfers(ids: string[]): Promise<Transfer[]>;
  /** For each pending id that has been resolved: the resolving transfer's type. */
  loadResolutions(pending_ids: string[]): Promise<Array<{ pending_id: string; type: string }>>;
  /** ids must be sorted (lock order). */
  lockAccounts(ids: string[]): Promise<AccountState[]>;
  write(created: Transfer[], dirty: AccountState[], head: ChainHead): Promise<void>;
}

const TRANSFER_COLUMNS = [
  'id',
  'seq',
  'debit_account_id',
  'credit_account_id',
  'asset',
  'amount_minor',
  'type',
  'pending_id',
  'timeout_ms',
  'expires_at_ms',
  'flags',
  'reason',
  'reference',
  'created_at_ms',
  'prev_hash',
  'hash',
] as const;
const INSERT_COLUMNS = [...TRANSFER_COLUMNS, 'debit_key', 'credit_key'] as const;

interface RawTransferRow {
  id: string;
  seq: number;
  debit_account_id: string;
  credit_account_id: string;
  asset: string;
  amount_minor: bigint | string;
  type: string;
  pending_id: string | null;
  timeout_ms: number;
  expires_at_ms: number | null;
  flags: number;
  reason: string;
  reference: string | null;
  created_at_ms: number;
  prev_hash: string;
  hash: string;
}

export function toTransfer(r: RawTransferRow): Transfer {
  return {
    id: r.id,
    seq: Number(r.seq),
    debit_account_id: r.debit_account_id,
    credit_account_id: r.credit_account_id,
    asset: r.asset,
    amount_minor: BigInt(r.amount_minor),
    type: r.type as Transfer['type'],
    pending_id: r.pending_id,
    timeout_ms: Number(r.timeout_ms),
    expires_at_ms: r.expires_at_ms === null ? null : Number(r.expires_at_ms),
    flags: r.flags,
    reason: r.reason,
    reference: r.reference,
    created_at_ms: Number(r.created_at_ms),
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

interface RawAccountRow {
  id: string;
  asset: string;
  owner_type: string;
  owner_id: string;
  kind: string;
  flags: number;
  debits_pending_minor: bigint | string;
  debits_posted_minor: bigint | string;
  credits_pending_minor: bigint | string;
  credits_posted_minor: bigint | string;
  created_at_ms: number;
}

function toState(r: RawAccountRow): AccountState {
  return {
    id: r.id,
    asset: r.asset,
    ...accountFlagsFromBits(r.flags),
    debits_pending_minor: BigInt(r.debits_pending_minor),
    debits_posted_minor: BigInt(r.debits_posted_minor),
    credits_pending_minor: BigInt(r.credits_pending_minor),
    credits_posted_minor: BigInt(r.credits_posted_minor),
  };
}

export function toAccount(r: RawAccountRow): LedgerAccount {
  return {
    id: r.id,
    asset: r.asset,
    owner_type: r.owner_type as 'user' | 'platform',
    owner_id: r.owner_id,
    kind: r.kind as AccountKind,
    flags: accountFlagsFromBits(r.flags),
    debits_pending_minor: BigInt(r.debits_pending_minor),
    debits_posted_minor: BigInt(r.debits_posted_minor),
    credits_pending_minor: BigInt(r.credits_pending_minor),
    credits_posted_minor: BigInt(r.credits_posted_minor),
    created_at_ms: Number(r.created_at_ms),
  };
}

// ---------------------------------------------------------------- SQLite (prepared statements)

/** The raw statements, prepared once per connection (after migrations). */
export class SqliteStatements {
  readonly begin: BetterSqlite3.Statement;
  readonly commit: BetterSqlite3.Statement;
  readonly rollback: BetterSqlite3.Statement;
  private readonly head: BetterSqlite3.Statement;
  private readonly setHead: BetterSqlite3.Statement;
  private readonly transfer: BetterSqlite3.Statement;
  private readonly resolution: BetterSqlite3.Statement;
  private readonly account: BetterSqlite3.Statement;
  private readonly insert: BetterSqlite3.Statement;
  private readonly update: BetterSqlite3.Statement;

  constructor(readonly raw: BetterSqlite3.Database) {
    this.begin = raw.prepare('begin immediate');
    this.commit = raw.prepare('commit');
    this.rollback = raw.prepare('rollback');
    this.head = raw.prepare('select seq, hash from ledger_head where id = 1');
    this.setHead = raw.prepare('update ledger_head set seq = ?, hash = ? where id = 1');
    this.transfer = raw.prepare(`select ${TRANSFER_COLUMNS.join(', ')} from ledger_transfers where id = ?`);
    this.resolution = raw.prepare('select pending_id, type from ledger_transfers where pending_id = ?');
    this.account = raw.prepare('select * from ledger_accounts where id = ?');
    this.insert = raw.prepare(`insert into ledger_transfers (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map(() => '?').join(', ')})`);
    this.update = raw.prepare(
      'update ledger_accounts set debits_pending_minor = ?, debits_posted_minor = ?, credits_pending_minor = ?, credits_posted_minor = ? where id = ?',
    );
  }

  /** A LedgerTx over these statements; the caller has begun the transaction. */
  tx(): LedgerTx {
    return {
      lockHead: async () => {
        // SQLite has one writer: BEGIN IMMEDIATE already serialised us.
        const row = this.head.get() as { seq: number; hash: string };
        return { seq: Number(row.seq), hash: row.hash };
      },
      loadTransfers: async (ids) => {
        const out: Transfer[] = [];
        for (const id of ids) {
          const row = this.transfer.get(id) as RawTransferRow | undefined;
          if (row) out.push(toTransfer(row));
        }
        return out;
      },
      loadResolutions: async (pending_ids) => {
        const out: Array<{ pending_id: string; type: string }> = [];
        for (const id of pending_ids) {
          const row = this.resolution.get(id) as { pending_id: string; type: string } | undefined;
          if (row) out.push(row);
        }
        return out;
      },
      lockAccounts: async (ids) => {
        const out: AccountState[] = [];
        for (const id of ids) {
          const row = this.account.get(id) as RawAccountRow | undefined;
          if (row) out.push(toState(row));
        }
        return out;
      },
      write: async (created, dirty, head) => {
        for (const t of created) {
          this.insert.run(
            t.id,
            t.seq,
            t.debit_account_id,
            t.credit_account_id,
            t.asset,
            t.amount_minor.toString(),
            t.type,
            t.pending_id,
            t.timeout_ms,
            t.expires_at_ms,
            t.flags,
            t.reason,
            t.reference,
            t.created_at_ms,
            t.prev_hash,
            t.hash,
            accountKey(t.debit_account_id),
            accountKey(t.credit_account_id),
          );
        }
        for (const a of dirty) {
          this.update.run(a.debits_pending_minor.toString(), a.debits_posted_minor.toString(), a.credits_pending_minor.toString(), a.credits_posted_minor.toString(), a.id);
        }
        this.setHead.run(head.seq, head.hash);
      },
    };
  }
}

// ---------------------------------------------------------------- PostgreSQL (set-based)

/** A LedgerTx inside a PostgreSQL transaction. */
export function pgTx(trx: Transaction<Database> | Kysely<Database>): LedgerTx {
  return {
    async lockHead() {
      const r = await sql<{ seq: number; hash: string }>`select seq, hash from ledger_head where id = 1 for update`.execute(trx);
      const row = r.rows[0]!;
      return { seq: Number(row.seq), hash: row.hash };
    },
    async loadTransfers(ids) {
      if (!ids.length) return [];
      const r = await sql<RawTransferRow>`select * from ledger_transfers where id = any(${ids}::text[])`.execute(trx);
      return r.rows.map(toTransfer);
    },
    async loadResolutions(pending_ids) {
      if (!pending_ids.length) return [];
      const r = await sql<{ pending_id: string; type: string }>`select pending_id, type from ledger_transfers where pending_id = any(${pending_ids}::text[])`.execute(trx);
      return r.rows;
    },
    async lockAccounts(ids) {
      if (!ids.length) return [];
      const r = await sql<RawAccountRow>`select * from ledger_accounts where id = any(${ids}::text[]) order by id for update`.execute(trx);
      return r.rows.map(toState);
    },
    async write(created, dirty, head) {
      if (created.length) {
        const col = <K extends keyof Transfer>(k: K) => created.map((t) => t[k]);
        await sql`insert into ledger_transfers (${sql.raw(INSERT_COLUMNS.join(', '))})
          select * from unnest(${col('id')}::text[], ${col('seq')}::int8[], ${col('debit_account_id')}::text[], ${col('credit_account_id')}::text[],
            ${col('asset')}::text[], ${created.map((t) => t.amount_minor.toString())}::numeric[], ${col('type')}::text[], ${col('pending_id')}::text[],
            ${col('timeout_ms')}::int8[], ${col('expires_at_ms')}::int8[], ${col('flags')}::int4[], ${col('reason')}::text[], ${col('reference')}::text[],
            ${col('created_at_ms')}::int8[], ${col('prev_hash')}::text[], ${col('hash')}::text[],
            ${created.map((t) => accountKey(t.debit_account_id))}::int8[], ${created.map((t) => accountKey(t.credit_account_id))}::int8[])`.execute(trx);
      }
      if (dirty.length) {
        const s = (f: (a: AccountState) => bigint) => dirty.map((a) => f(a).toString());
        await sql`update ledger_accounts a set debits_pending_minor = v.dp, debits_posted_minor = v.dpo, credits_pending_minor = v.cp, credits_posted_minor = v.cpo
          from unnest(${dirty.map((a) => a.id)}::text[], ${s((a) => a.debits_pending_minor)}::numeric[], ${s((a) => a.debits_posted_minor)}::numeric[],
            ${s((a) => a.credits_pending_minor)}::numeric[], ${s((a) => a.credits_posted_minor)}::numeric[]) as v(id, dp, dpo, cp, cpo)
          where a.id = v.id`.execute(trx);
      }
      await sql`update ledger_head set seq = ${head.seq}, hash = ${head.hash} where id = 1`.execute(trx);
    },
  };
}

// ---------------------------------------------------------------- reads (both dialects, Kysely)

const INSERT_CHUNK_MAX = 500;

export async function insertAccounts(ex: DbExecutor, specs: AccountSpec[], now_ms: number): Promise<void> {
  for (let i = 0; i < specs.length; i += INSERT_CHUNK_MAX) {
    const rows = specs.slice(i, i + INSERT_CHUNK_MAX).map((s) => ({
      id: s.id,
      asset: s.asset,
      owner_type: s.owner_type,
      owner_id: s.owner_id,
      kind: s.kind,
      flags: accountFlagBits(s.flags),
      debits_pending_minor: 0n,
      debits_posted_minor: 0n,
      credits_pending_minor: 0n,
      credits_posted_minor: 0n,
      created_at_ms: now_ms,
    }));
    await ex.insertInto('ledger_accounts').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
  }
}

export async function selectAccounts(ex: DbExecutor, ids: string[]): Promise<LedgerAccount[]> {
  if (!ids.length) return [];
  const rows = await ex.selectFrom('ledger_accounts').selectAll().where('id', 'in', ids).execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectOwnerAccounts(ex: DbExecutor, owner_type: string, owner_id: string, assets: string[]): Promise<LedgerAccount[]> {
  if (!assets.length) return [];
  const rows = await ex.selectFrom('ledger_accounts').selectAll().where('owner_type', '=', owner_type).where('owner_id', '=', owner_id).where('asset', 'in', assets).execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectTransfers(ex: DbExecutor, ids: string[]): Promise<Transfer[]> {
  if (!ids.length) return [];
  const rows = await ex.selectFrom('ledger_transfers').select(TRANSFER_COLUMNS).where('id', 'in', ids).execute();
  return rows.map((r) => toTransfer(r as unknown as RawTransferRow));
}

/** An account's transfers with seq < before_seq, newest first: two index range scans merged. */
export async function selectHistory(ex: DbExecutor, account_id: string, before_seq: number | null, limit: number): Promise<Transfer[]> {
  const key = accountKey(account_id);
  const side = (column: 'debit_account_id' | 'credit_account_id') => {
    const keyColumn = column === 'debit_account_id' ? 'debit_key' : 'credit_key';
    let q = ex.selectFrom('ledger_transfers').select(TRANSFER_COLUMNS).where(keyColumn, '=', key).where(column, '=', account_id);
    if (before_seq !== null) q = q.where('seq', '<', before_seq);
    return q.orderBy('seq', 'desc').limit(limit).execute();
  };
  const [debits, credits] = await Promise.all([side('debit_account_id'), side('credit_account_id')]);
  return [...debits, ...credits]
    .map((r) => toTransfer(r as unknown as RawTransferRow))
    .sort((a, b) => b.seq - a.seq)
    .slice(0, limit);
}

/** Transfers in seq order after `after_seq` (verify streams the chain with it). */
export async function selectTransfersAfter(ex: DbExecutor, after_seq: number, limit: number): Promise<Transfer[]> {
  const rows = await ex.selectFrom('ledger_transfers').select(TRANSFER_COLUMNS).where('seq', '>', after_seq).orderBy('seq').limit(limit).execute();
  return rows.map((r) => toTransfer(r as unknown as RawTransferRow));
}

export async function selectAllAccounts(ex: DbExecutor): Promise<LedgerAccount[]> {
  const rows = await ex.selectFrom('ledger_accounts').selectAll().orderBy('id').execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectHead(ex: DbExecutor): Promise<ChainHead> {
  const row = await ex.selectFrom('ledger_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash };
}

export async function upsertAssets(ex: DbExecutor, specs: AssetSpec[], now_ms: number): Promise<void> {
  if (!specs.length) return;
  await ex
    .insertInto('assets')
    .values(specs.map((s) => ({ code: s.code, decimals: s.decimals, chain_id: s.chain_id, contract_address: s.contract_address, created_at_ms: now_ms })))
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}

export async function selectAssets(ex: DbExecutor): Promise<AssetSpec[]> {
  const rows = await ex.selectFrom('assets').select(['code', 'decimals', 'chain_id', 'contract_address']).orderBy('code').execute();
  return rows.map((r) => ({ code: r.code, decimals: Number(r.decimals), chain_id: r.chain_id === null ? null : Number(r.chain_id), contract_address: r.contract_address }));
}
