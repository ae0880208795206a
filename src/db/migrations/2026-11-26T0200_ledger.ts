// Ledger tables: assets, accounts with four balances, append-only transfers with a hash chain,
// and the chain head. Frozen in time: Kysely<any>, no app imports.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  const money = isPg ? sql`numeric(78,0)` : 'text';

  await db.schema
    .createTable('assets')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('decimals', 'integer', (c) => c.notNull())
    .addColumn('chain_id', 'bigint')
    .addColumn('contract_address', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ledger_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('owner_type', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('flags', 'integer', (c) => c.notNull())
    .addColumn('debits_pending_minor', money, (c) => c.notNull())
    .addColumn('debits_posted_minor', money, (c) => c.notNull())
    .addColumn('credits_pending_minor', money, (c) => c.notNull())
    .addColumn('credits_posted_minor', money, (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_accounts_owner').on('ledger_accounts').columns(['owner_type', 'owner_id', 'asset']).execute();

  await db.schema
    .createTable('ledger_transfers')
    // SQLite: seq is the rowid (appends stay at the end of one b-tree) and id a unique key; PG:
    // id is the primary key. Either way both are unique and not null.
    .addColumn('id', 'text', (c) => (isPg ? c.primaryKey() : c.notNull().unique()))
    .addColumn('seq', isPg ? 'bigint' : 'integer', (c) => (isPg ? c.notNull().unique() : c.primaryKey()))
    .addColumn('debit_account_id', 'text', (c) => c.notNull())
    .addColumn('credit_account_id', 'text', (c) => c.notNull())
    // 48-bit keys derived from the account ids (sha256), indexed for history instead of the ids:
    // 8-byte index entries instead of ~60-byte ones keep the pages a batch dirties (and so the
    // bytes written per commit) down. History filters on the id too, so a key collision is harmless.
    .addColumn('debit_key', isPg ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('credit_key', isPg ? 'bigint' : 'integer', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('pending_id', 'text')
    .addColumn('timeout_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint')
    .addColumn('flags', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  // On SQLite seq is the rowid, which every index entry carries already.
  await db.schema.createIndex('ledger_transfers_debit').on('ledger_transfers').columns(isPg ? ['debit_key', 'seq'] : ['debit_key']).execute();
  await db.schema.createIndex('ledger_transfers_credit').on('ledger_transfers').columns(isPg ? ['credit_key', 'seq'] : ['credit_key']).execute();
  // A pending transfer is resolved (posted or voided) exactly once.
  await db.schema.createIndex('ledger_transfers_pending').on('ledger_transfers').column('pending_id').unique().where(sql.ref('pending_id'), 'is not', null).execute();
  await db.schema.createIndex('ledger_transfers_reference').on('ledger_transfers').column('reference').where(sql.ref('reference'), 'is not', null).execute();

  await db.schema
    .createTable('ledger_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.insertInto('ledger_head').values({ id: 1, seq: 0, hash: '0'.repeat(64) }).execute();

  // Transfers are immutable: the database itself refuses to change or remove one.
  if (isPg) {
    await sql`create function ledger_transfers_immutable() returns trigger language plpgsql as $$
      begin raise exception 'ledger_transfers is append-only'; end $$`.execute(db);
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

export async function down(db: Kysely<any>): Promise<void> {
  const isPg = db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
  for (const t of ['ledger_head', 'ledger_transfers', 'ledger_accounts', 'assets']) await db.schema.dropTable(t).execute();
  if (isPg) await sql`drop function if exists ledger_transfers_immutable()`.execute(db);
}
