// Ledger benchmark: transfers/s and p50/p99 call latency per workload, durable settings
// (SQLite synchronous=FULL in WAL mode; PostgreSQL as configured, fsync on), next to a naive
// one-transaction-per-transfer implementation of the same model (idempotency check, flag check,
// hash chain, history links, balance updates) for comparison.
//
//   npm run bench:ledger                                  # SQLite workloads
//   SETTLE_BENCH_DATABASE_URL=postgres://… npm run bench:ledger   # + PostgreSQL workloads
//   SETTLE_BENCH_SECONDS=5 (per workload, default 5)
//   SETTLE_BENCH_ONLY=<regex> (run only the workloads whose names match, e.g. 'batched|single')
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createLedger, type Ledger } from '../src/ledger/ledger.ts';
import { systemClock } from '../src/shared/clock.ts';
import { transferHash } from '../src/ledger/ledger-replay-rules.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from '../src/ledger/ledger-types.ts';

const SECONDS = Number(process.env.SETTLE_BENCH_SECONDS ?? 5);
const ONLY = process.env.SETTLE_BENCH_ONLY ? new RegExp(process.env.SETTLE_BENCH_ONLY) : null;
const PG_URL = process.env.SETTLE_BENCH_DATABASE_URL || process.env.SETTLE_TEST_DATABASE_URL || '';
const USERS = 1000;
const ASSET = 'USDT';
/** Realistic ids (the length matters: they are keys in the account table and in every transfer row). */
const USER_IDS = Array.from({ length: USERS }, (_, i) => ledgerAccountId('user', `usr_01jd3x${String(i).padStart(26, '0')}`, ASSET, 'user_available'));
const HOT = ledgerAccountId('platform', 'platform', ASSET, 'hot_wallet');
const EXT = ledgerAccountId('platform', 'world', ASSET, 'external');

interface Figures {
  name: string;
  transfers: number;
  seconds: number;
  latencies_ms: number[];
  failed: number;
  /** CPU of this process (user + system) per transfer: less sensitive than wall time to other load. */
  cpu_us_per_transfer: number;
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function print(f: Figures | null): void {
  if (!f) return;
  const l = [...f.latencies_ms].sort((a, b) => a - b);
  const rate = Math.round(f.transfers / f.seconds);
  console.log(
    `${f.name.padEnd(58)} ${String(rate).padStart(9)} transfers/s   p50 ${pct(l, 50).toFixed(2).padStart(7)} ms   p99 ${pct(l, 99).toFixed(2).padStart(7)} ms   node cpu ${f.cpu_us_per_transfer.toFixed(1).padStart(6)} µs/transfer   (${f.transfers} in ${f.seconds.toFixed(1)} s${f.failed ? `, ${f.failed} not ok` : ''})`,
  );
}

const flagsNone = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };
const flagsUser = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };

function accounts(): AccountSpec[] {
  const out: AccountSpec[] = [{ id: EXT, asset: ASSET, owner_type: 'platform', owner_id: 'world', kind: 'external', flags: flagsNone }];
  out.push({ id: HOT, asset: ASSET, owner_type: 'platform', owner_id: 'platform', kind: 'hot_wallet', flags: flagsNone });
  for (let i = 0; i < USERS; i++) out.push({ id: USER_IDS[i]!, asset: ASSET, owner_type: 'user', owner_id: `usr${i}`, kind: 'user_available', flags: flagsUser });
  return out;
}

let serial = 0;
const runTag = randomBytes(3).toString('hex');
/** A transfer between two random users, or (hot_share of the time) touching the hot account. */
function transfer(hot_share: number): TransferInput {
  const id = `xfer_${runTag}_${String(serial++).padStart(20, '0')}`;
  const ai = Math.floor(Math.random() * USERS);
  const bi = (ai + 1 + Math.floor(Math.random() * (USERS - 1))) % USERS;
  const a = USER_IDS[ai]!;
  const b = USER_IDS[bi]!;
  const hot = Math.random() < hot_share;
  const [dr, cr] = hot ? (Math.random() < 0.5 ? [HOT, a] : [a, HOT]) : [a, b];
  return { id, debit_account_id: dr, credit_account_id: cr, amount_minor: 1n, asset: ASSET, reason: 'bench', reference: null };
}

async function setup(db: Db, ledger: Ledger): Promise<void> {
  await migrateToLatest(db);
  await ledger.ensureAccounts(accounts());
  // Fund every user and the hot account generously so that flags rarely refuse.
  const funding: TransferInput[] = [];
  for (let i = 0; i < USERS; i++) funding.push({ id: `fund_${runTag}_${i}`, debit_account_id: EXT, credit_account_id: USER_IDS[i]!, amount_minor: 10n ** 12n, asset: ASSET, reason: 'fund', reference: null });
  funding.push({ id: `fund_${runTag}_hot`, debit_account_id: EXT, credit_account_id: HOT, amount_minor: 10n ** 15n, asset: ASSET, reason: 'fund', reference: null });
  await ledger.createTransfers(funding);
}

/** callers run concurrently until the deadline, each sending batches of batch_size. */
async function drive(name: string, callers: number, batch_size: number, hot_share: number, send: (batch: TransferInput[]) => Promise<number>): Promise<Figures | null> {
  if (ONLY && !ONLY.test(name)) return null;
  const latencies: number[] = [];
  let transfers = 0;
  let failed = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < deadline) {
        const batch = Array.from({ length: batch_size }, () => transfer(hot_share));
        const t0 = performance.now();
        failed += await send(batch);
        latencies.push(performance.now() - t0);
        transfers += batch.length;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { name, transfers, seconds: (performance.now() - start) / 1000, latencies_ms: latencies, failed, cpu_us_per_transfer: (cpu.user + cpu.system) / Math.max(1, transfers) };
}

const viaLedger = (ledger: Ledger) => async (batch: TransferInput[]) => (await ledger.createTransfers(batch)).filter((r) => r.result !== 'ok').length;

/**
 * The naive implementation of the same model: one transaction per transfer, through Kysely,
 * row by row (idempotency lookup, lock head, lock accounts, flag check, insert, two updates).
 */
function naive(db: Db) {
  return async (batch: TransferInput[]): Promise<number> => {
    let failed = 0;
    for (const t of batch) {
      if (t.post_pending_id !== undefined || t.void_pending_id !== undefined) throw new Error('naive handles single transfers only');
      const pgLocks = db.dialect === 'postgres';
      const ok = await db.transaction(async (trx) => {
        let hq = trx.selectFrom('ledger_head').select(['seq', 'hash']).where('id', '=', 1);
        if (pgLocks) hq = hq.forUpdate();
        const head = await hq.executeTakeFirstOrThrow();
        if (await trx.selectFrom('ledger_transfers').select('id').where('id', '=', t.id).executeTakeFirst()) return false;
        const ids = [t.debit_account_id, t.credit_account_id].sort();
        let aq = trx.selectFrom('ledger_accounts').selectAll().where('id', 'in', ids).orderBy('id');
        if (pgLocks) aq = aq.forUpdate();
        const rows = await aq.execute();
        const dr = rows.find((r) => r.id === t.debit_account_id)!;
        const cr = rows.find((r) => r.id === t.credit_account_id)!;
        if (dr.flags & 1 && dr.debits_pending_minor + dr.debits_posted_minor + t.amount_minor > dr.credits_posted_minor) return false;
        const seq = Number(head.seq) + 1;
        const row = { id: t.id, seq, debit_account_id: dr.id, credit_account_id: cr.id, asset: t.asset, amount_minor: t.amount_minor, type: 'single' as const, pending_id: null, timeout_ms: 0, expires_at_ms: null, flags: 0, reason: t.reason, reference: t.reference, created_at_ms: Date.now(), prev_hash: head.hash };
        const hash = transferHash(row);
        const { id, asset, amount_minor, type, pending_id, timeout_ms, expires_at_ms, flags, reason, reference, created_at_ms } = row;
        const links = { debit_num: Number(dr.num), credit_num: Number(cr.num), debit_prev: Number(dr.last_seq), credit_prev: Number(cr.last_seq) };
        await trx
          .insertInto('ledger_transfers')
          .values({ id, seq, ...links, asset, amount_minor, type, pending_id, timeout_ms, expires_at_ms, flags, reason, reference, created_at_ms, hash: Buffer.from(hash, 'hex') })
          .execute();
        await trx.updateTable('ledger_accounts').set({ debits_posted_minor: dr.debits_posted_minor + t.amount_minor, last_seq: seq }).where('id', '=', dr.id).execute();
        await trx.updateTable('ledger_accounts').set({ credits_posted_minor: cr.credits_posted_minor + t.amount_minor, last_seq: seq }).where('id', '=', cr.id).execute();
        await trx.updateTable('ledger_head').set({ seq, hash }).where('id', '=', 1).execute();
        return true;
      });
      if (!ok) failed++;
    }
    return failed;
  };
}

/**
 * The floor: a minimal ledger on raw better-sqlite3 (insert + two balance updates per transfer, no
 * idempotency, flags or hash), measured in the same run so that load on the machine shows.
 */
function minimalSqlite(db: Db, per_tx: number) {
  const raw = db.sqlite!;
  let run: ((batch: TransferInput[]) => void) | null = null;
  const prepare = () => {
    raw.exec('create table if not exists bench_min (id integer primary key, dr text, cr text, amount_minor text)');
    raw.exec('create table if not exists bench_min_acc (id text primary key, balance_minor text)');
    const acc = raw.prepare("insert or ignore into bench_min_acc values (?, '0')");
    raw.transaction(() => USER_IDS.forEach((id) => acc.run(id)))();
    const ins = raw.prepare('insert into bench_min (dr, cr, amount_minor) values (?, ?, ?)');
    const upd = raw.prepare('update bench_min_acc set balance_minor = balance_minor + ? where id = ?');
    return raw.transaction((batch: TransferInput[]) => {
      for (const t of batch) {
        const c = t as Extract<TransferInput, { debit_account_id: string }>;
        ins.run(c.debit_account_id, c.credit_account_id, '1');
        upd.run(-1, c.debit_account_id);
        upd.run(1, c.credit_account_id);
      }
    });
  };
  return async (batch: TransferInput[]): Promise<number> => {
    run ??= prepare();
    for (let i = 0; i < batch.length; i += per_tx) run(batch.slice(i, i + per_tx));
    return 0;
  };
}

async function sqliteBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-bench-'));
  const db = openDb({ kind: 'sqlite', path: join(dir, 'ledger.db'), synchronous: 'FULL' });
  try {
    const ledger = createLedger(db, systemClock);
    await setup(db, ledger);
    console.log(`SQLite ${db.sqlite!.pragma('journal_mode', { simple: true })} synchronous=${db.sqlite!.pragma('synchronous', { simple: true })} (2 = FULL), ${SECONDS} s per workload`);
    print(await drive('sqlite batched: 8 callers × 1,000-transfer batches', 8, 1000, 0.5, viaLedger(ledger)));
    print(await drive('sqlite single caller, awaits each transfer', 1, 1, 0.5, viaLedger(ledger)));
    print(await drive('sqlite 16 callers, 1 transfer each call (group commit)', 16, 1, 0.5, viaLedger(ledger)));
    print(await drive('sqlite naive: one transaction per transfer (Kysely)', 1, 1, 0.5, naive(db)));
    print(await drive('sqlite floor: minimal ledger, raw, 1,000 per transaction', 1, 1000, 0, minimalSqlite(db, 1000)));
    print(await drive('sqlite floor: minimal ledger, raw, 1 per transaction', 1, 1, 0, minimalSqlite(db, 1)));
    await ledger.drain();
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The PostgreSQL floor: a minimal set-based ledger (unnest insert + aggregated balance update). */
function minimalPg(db: Db) {
  let ready: Promise<void> | null = null;
  const prepare = async () => {
    await sql`create table bench_min (id bigserial primary key, dr text, cr text, amount_minor numeric(78,0))`.execute(db.kysely);
    await sql`create table bench_min_acc (id text primary key, balance_minor numeric(78,0))`.execute(db.kysely);
    await sql`insert into bench_min_acc select unnest(${[...USER_IDS, HOT]}::text[]), 0`.execute(db.kysely);
  };
  return async (batch: TransferInput[]): Promise<number> => {
    await (ready ??= prepare());
    const dr = batch.map((t) => (t as Extract<TransferInput, { debit_account_id: string }>).debit_account_id);
    const cr = batch.map((t) => (t as Extract<TransferInput, { debit_account_id: string }>).credit_account_id);
    await db.transaction(async (trx) => {
      await sql`insert into bench_min (dr, cr, amount_minor) select d, c, 1 from unnest(${dr}::text[], ${cr}::text[]) as v(d, c)`.execute(trx);
      await sql`update bench_min_acc a set balance_minor = a.balance_minor + v.delta
        from (select id, sum(delta) as delta from (select unnest(${dr}::text[]) as id, -1 as delta union all select unnest(${cr}::text[]), 1) x group by id order by id) v
        where a.id = v.id`.execute(trx);
    });
    return 0;
  };
}

async function pgBench(): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const db = openDb({ kind: 'postgres', url: PG_URL, schema, pool_size_max: 16 });
  try {
    const ledger = createLedger(db, systemClock);
    await setup(db, ledger);
    const fsync = (await sql<{ fsync: string; synchronous_commit: string }>`select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`.execute(db.kysely)).rows[0]!;
    console.log(`PostgreSQL fsync=${fsync.fsync} synchronous_commit=${fsync.synchronous_commit}, half of all transfers touch one hot account, ${SECONDS} s per workload`);
    print(await drive('pg 16 callers × 500-transfer batches, hot account', 16, 500, 0.5, viaLedger(ledger)));
    print(await drive('pg 16 callers × 50-transfer batches, hot account', 16, 50, 0.5, viaLedger(ledger)));
    print(await drive('pg 16 callers, 1 transfer each call (group commit), hot', 16, 1, 0.5, viaLedger(ledger)));
    print(await drive('pg naive: 16 callers, one transaction per transfer, hot', 16, 1, 0.5, naive(db)));
    print(await drive('pg floor: minimal set-based ledger, 8,000 per transaction', 1, 8000, 0.5, minimalPg(db)));
    await ledger.drain();
  } finally {
    await db.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

await sqliteBench();
if (PG_URL) await pgBench();
else console.log('PostgreSQL workloads skipped: set SETTLE_BENCH_DATABASE_URL (or SETTLE_TEST_DATABASE_URL)');
