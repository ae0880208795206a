// The ledger's batch writers; no business decisions (those are in ledger-rules.ts).
//
// A batch runs through a LedgerTx: lock the chain head, load the transfers and accounts the batch
// names, let the rules decide, write the outcome. Two implementations:
// - SQLite: prepared statements on the raw better-sqlite3 handle. This is the measured hot path:
//   going through Kysely (query compilation, plugin transforms, one promise per statement) costs
//   several times the SQLite work itself. Statements run synchronously on the one connection,
//   inside a transaction that the caller holds (Kysely's connection mutex keeps every other query
//   out meanwhile).
// - PostgreSQL: set-based statements (`= any($1)` reads, `unnest` multi-row insert and update), so
//   a batch costs a fixed handful of round trips whatever its size. Every writer locks the chain
//   head first (FOR UPDATE): writers queue there, so the accounts they then read and update need
//   no row locks of their own (see pgTx).
import { sql, type RawBuilder, type Kysely, type Transaction } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../db/schema.ts';
import type { Transfer } from './ledger-types.ts';
import { hashedValues } from './ledger-replay-rules.ts';
import type { AccountState, StoredTransfer } from './ledger-rules.ts';
import { CREDIT_AT, DEBIT_AT, INSERT_COLUMNS, TARGET_SELECT, TRANSFER_SELECT, toState, toTransfer, type LedgerTx, type RawAccountRow, type RawTransferRow } from './ledger-store.ts';

function numOf(accounts: ReadonlyMap<string, AccountState>, id: string): number {
  const a = accounts.get(id);
  if (!a) throw new Error(`ledger account ${id} was not loaded with its batch`);
  return a.num;
}

// ---------------------------------------------------------------- SQLite (prepared statements)

/** The raw statements, prepared once per connection (after migrations). */
export class SqliteStatements {
  readonly begin: BetterSqlite3.Statement;
  readonly commit: BetterSqlite3.Statement;
  readonly rollback: BetterSqlite3.Statement;
  private readonly head: BetterSqlite3.Statement;
  private readonly setHead: BetterSqlite3.Statement;
  private readonly exists: BetterSqlite3.Statement;
  private readonly transfer: BetterSqlite3.Statement;
  private readonly target: BetterSqlite3.Statement;
  private readonly account: BetterSqlite3.Statement;
  private readonly insert: BetterSqlite3.Statement;
  private readonly update: BetterSqlite3.Statement;

  constructor(readonly raw: BetterSqlite3.Database) {
    this.begin = raw.prepare('begin immediate');
    this.commit = raw.prepare('commit');
    this.rollback = raw.prepare('rollback');
    this.head = raw.prepare('select seq, hash from ledger_head where id = 1');
    this.setHead = raw.prepare('update ledger_head set seq = ?, hash = ? where id = 1');
    // The common case (a new id) costs one probe of the id index; the full row only for retries.
    this.exists = raw.prepare('select 1 from ledger_transfers where id = ?').pluck();
    this.transfer = raw.prepare(`${TRANSFER_SELECT} where t.id = ?`);
    this.target = raw.prepare(`${TARGET_SELECT} where t.id = ?`);
    this.account = raw.prepare('select * from ledger_accounts where id = ?');
    this.insert = raw.prepare(`insert into ledger_transfers (${INSERT_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.update = raw.prepare(
      'update ledger_accounts set debits_pending_minor = ?, debits_posted_minor = ?, credits_pending_minor = ?, credits_posted_minor = ?, last_seq = ? where num = ?',
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
          if (this.exists.get(id) === undefined) continue;
          out.push(toTransfer(this.transfer.get(id) as RawTransferRow));
        }
        return out;
      },
      loadTargets: async (ids) => {
        const out: Array<{ transfer: Transfer; resolved_by: string | null }> = [];
        for (const id of ids) {
          const row = this.target.get(id) as (RawTransferRow & { resolved_by: string | null }) | undefined;
          if (row) out.push({ transfer: toTransfer(row), resolved_by: row.resolved_by });
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
      write: async (created, accounts, dirty, head) => {
        const insert = this.insert;
        for (const t of created) {
          const values: Array<string | number | null | Buffer> = hashedValues(t);
          values[DEBIT_AT] = numOf(accounts, t.debit_account_id);
          values[CREDIT_AT] = numOf(accounts, t.credit_account_id);
          insert.run(...values, t.debit_prev, t.credit_prev, Buffer.from(t.hash, 'hex'));
        }
        for (const a of dirty) {
          this.update.run(a.debits_pending_minor.toString(), a.debits_posted_minor.toString(), a.credits_pending_minor.toString(), a.credits_posted_minor.toString(), a.last_seq, a.num);
        }
        this.setHead.run(head.seq, head.hash);
      },
    };
  }
}

// ---------------------------------------------------------------- PostgreSQL (set-based)

/** A LedgerTx inside a PostgreSQL transaction. */
export function pgTx(trx: Transaction<Database> | Kysely<Database>): LedgerTx {
  // Holding the head row lock makes this transaction the only ledger writer, and under READ
  // COMMITTED every later statement sees what earlier writers committed: the accounts need no
  // row locks of their own (each one is a heap write). A caller's transaction at a stricter
  // isolation level reads from an older snapshot, so there they are locked as before.
  let lockAccountRows = true;
  return {
    async lockHead() {
      const r = await sql<{ seq: number; hash: string; isolation: string }>`select seq, hash, current_setting('transaction_isolation') as isolation
        from ledger_head where id = 1 for update`.execute(trx);
      const row = r.rows[0]!;
      lockAccountRows = row.isolation !== 'read committed';
      return { seq: Number(row.seq), hash: row.hash };
    },
    async loadTransfers(ids) {
      if (!ids.length) return [];
      const r = await sql<RawTransferRow>`${sql.raw(TRANSFER_SELECT)} where t.id = any(${ids}::text[])`.execute(trx);
      return r.rows.map(toTransfer);
    },
    async loadTargets(ids) {
      if (!ids.length) return [];
      const r = await sql<RawTransferRow & { resolved_by: string | null }>`${sql.raw(TARGET_SELECT)} where t.id = any(${ids}::text[])`.execute(trx);
      return r.rows.map((row) => ({ transfer: toTransfer(row), resolved_by: row.resolved_by }));
    },
    async lockAccounts(ids) {
      if (!ids.length) return [];
      const r = await sql<RawAccountRow>`select * from ledger_accounts where id = any(${ids}::text[]) order by id ${sql.raw(lockAccountRows ? 'for update' : '')}`.execute(trx);
      return r.rows.map(toState);
    },
    async write(created, accounts, dirty, head) {
      if (created.length) await sql`${pgInsert(created, accounts)}`.execute(trx);
      if (dirty.length) {
        const s = (f: (a: AccountState) => bigint) => dirty.map((a) => f(a).toString());
        await sql`update ledger_accounts a set debits_pending_minor = v.dp, debits_posted_minor = v.dpo, credits_pending_minor = v.cp, credits_posted_minor = v.cpo,
            last_seq = v.ls
          from unnest(${dirty.map((a) => a.num)}::int8[], ${s((a) => a.debits_pending_minor)}::numeric[], ${s((a) => a.debits_posted_minor)}::numeric[],
            ${s((a) => a.credits_pending_minor)}::numeric[], ${s((a) => a.credits_posted_minor)}::numeric[], ${dirty.map((a) => a.last_seq)}::int8[]) as v(num, dp, dpo, cp, cpo, ls)
          where a.num = v.num`.execute(trx);
      }
      await sql`update ledger_head set seq = ${head.seq}, hash = ${head.hash} where id = 1`.execute(trx);
    },
  };
}

/** One multi-row insert: a column array per field, whatever the batch size. */
function pgInsert(created: StoredTransfer[], accounts: ReadonlyMap<string, AccountState>): RawBuilder<unknown> {
  const n = created.length;
  const seq = new Array<number>(n);
  const id = new Array<string>(n);
  const dn = new Array<number>(n);
  const cn = new Array<number>(n);
  const dp = new Array<number>(n);
  const cp = new Array<number>(n);
  const asset = new Array<string>(n);
  const amount = new Array<string>(n);
  const type = new Array<string>(n);
  const pending = new Array<string | null>(n);
  const timeout = new Array<number>(n);
  const expires = new Array<number | null>(n);
  const flags = new Array<number>(n);
  const reason = new Array<string>(n);
  const reference = new Array<string | null>(n);
  const created_at = new Array<number>(n);
  const hash = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const t = created[i]!;
    seq[i] = t.seq;
    id[i] = t.id;
    dn[i] = numOf(accounts, t.debit_account_id);
    cn[i] = numOf(accounts, t.credit_account_id);
    dp[i] = t.debit_prev;
    cp[i] = t.credit_prev;
    asset[i] = t.asset;
    amount[i] = t.amount_minor.toString();
    type[i] = t.type;
    pending[i] = t.pending_id;
    timeout[i] = t.timeout_ms;
    expires[i] = t.expires_at_ms;
    flags[i] = t.flags;
    reason[i] = t.reason;
    reference[i] = t.reference;
    created_at[i] = t.created_at_ms;
    hash[i] = t.hash;
  }
  return sql`insert into ledger_transfers (${sql.raw(INSERT_COLUMNS)})
    select s, i, dn, cn, a, am, ty, p, tm, ex, f, r, rf, c, dp, cp, decode(h, 'hex')
    from unnest(${seq}::int8[], ${id}::text[], ${dn}::int8[], ${cn}::int8[], ${dp}::int8[], ${cp}::int8[], ${asset}::text[], ${amount}::numeric[],
      ${type}::text[], ${pending}::text[], ${timeout}::int8[], ${expires}::int8[], ${flags}::int4[], ${reason}::text[], ${reference}::text[],
      ${created_at}::int8[], ${hash}::text[]) as v(s, i, dn, cn, dp, cp, a, am, ty, p, tm, ex, f, r, rf, c, h)`;
}
