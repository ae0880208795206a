// Ledger history as per-account links instead of two history indexes
// (docs/decisions/0011-ledger-performance.md). Frozen in time: Kysely<any>, no app imports.
//
// - ledger_transfers is rebuilt: `debit_key` / `credit_key` (bucket << 32 | account num, indexed)
//   become `debit_num` / `credit_num` (the account nums, not indexed) plus `debit_prev` /
//   `credit_prev`: the seq of the same account's previous transfer (0: none). The two history
//   indexes are dropped: each cost a b-tree insert per transfer and a WAL page per commit.
// - ledger_accounts gains `last_seq`, the seq of the account's latest transfer (0: none): the
//   head of its list. History walks an account's list from there, newest first.
// The hash of every transfer is unchanged (the links are not hashed fields; `settle ledger verify`
// checks every link against the order of the chain instead).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : sql`text`;
  const int = sql.raw(isPg ? 'bigint' : 'integer');
  const mask = 2 ** 32 - 1;

  await sql`alter table ledger_accounts add column last_seq ${int} not null default 0`.execute(db);

  await sql`create table ledger_transfers_new (
    ${sql.raw(isPg ? 'seq bigint not null constraint ledger_transfers_seq_key unique, id text primary key' : 'seq integer primary key, id text not null unique')},
    debit_num ${int} not null,
    credit_num ${int} not null,
    debit_prev ${int} not null,
    credit_prev ${int} not null,
    asset text not null,
    amount_minor ${money} not null,
    type text not null,
    pending_id text,
    timeout_ms bigint not null,
    expires_at_ms bigint,
    flags integer not null,
    reason text not null,
    reference text,
    created_at_ms bigint not null,
    hash ${sql.raw(isPg ? 'bytea' : 'blob')} not null)`.execute(db);
  // Each side of each transfer is one posting; an account's previous posting is the one before
  // it in seq order (a transfer never has the same account on both sides).
  await sql`with postings as (
      select seq, debit_key & ${sql.lit(mask)} as num from ledger_transfers
      union all
      select seq, credit_key & ${sql.lit(mask)} as num from ledger_transfers),
    links as (select seq, num, lag(seq, 1, 0) over (partition by num order by seq) as prev from postings)
    insert into ledger_transfers_new (seq, id, debit_num, credit_num, debit_prev, credit_prev, asset, amount_minor, type, pending_id,
      timeout_ms, expires_at_ms, flags, reason, reference, created_at_ms, hash)
    select t.seq, t.id, dl.num, cl.num, dl.prev, cl.prev, t.asset, t.amount_minor, t.type, t.pending_id, t.timeout_ms, t.expires_at_ms,
      t.flags, t.reason, t.reference, t.created_at_ms, t.hash
    from ledger_transfers t
    join links dl on dl.seq = t.seq and dl.num = (t.debit_key & ${sql.lit(mask)})
    join links cl on cl.seq = t.seq and cl.num = (t.credit_key & ${sql.lit(mask)})
    order by t.seq`.execute(db);
  const counts = await sql<{ n: number | string }>`select (select count(*) from ledger_transfers) - (select count(*) from ledger_transfers_new) as n`.execute(db);
  if (Number(counts.rows[0]!.n) !== 0) throw new Error('ledger_transfers holds a transfer with the same account on both sides: run `settle ledger verify` on the previous version');

  await sql`drop table ledger_transfers`.execute(db);
  if (isPg) await sql`alter table ledger_transfers_new rename constraint ledger_transfers_new_pkey to ledger_transfers_pkey`.execute(db);
  await sql`alter table ledger_transfers_new rename to ledger_transfers`.execute(db);
  await sql`create unique index ledger_transfers_pending on ledger_transfers (pending_id) where pending_id is not null`.execute(db);
  await sql`create index ledger_transfers_reference on ledger_transfers (reference) where reference is not null`.execute(db);

  await sql`update ledger_accounts set last_seq = m.last_seq
    from (select num, max(seq) as last_seq from (
      select seq, debit_num as num from ledger_transfers union all select seq, credit_num as num from ledger_transfers) p group by num) m
    where ledger_accounts.num = m.num`.execute(db);

  if (isPg) {
    // The function ledger_transfers_immutable() survives the old table.
    await sql`create trigger ledger_transfers_no_update before update or delete on ledger_transfers
      for each row execute function ledger_transfers_immutable()`.execute(db);
    await sql`create trigger ledger_transfers_no_truncate before truncate on ledger_transfers
      for each statement execute function ledger_transfers_immutable()`.execute(db);
  } else {
    await sql`create trigger ledger_transfers_no_update before update on ledger_transfers
      begin select raise(abort, 'ledger_transfers is append-only'); end`.execute(db);
    await sql`create trigger ledger_transfers_no_delete before delete on ledger_transfers
      begin select raise(abort, 'ledger_transfers is append-only'); end`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('2026-11-26T0700_ledger_history_links cannot be undone (the bucketed keys are derivable, but not restored automatically)');
}
