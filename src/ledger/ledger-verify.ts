// `settle ledger verify`: recomputes every account's balances from the transfers, checks the hash
// chain link by link, each account's history list (every transfer links to the account's
// previous one, the account row to its latest), and per asset that total debits equal total
// credits (posted and pending).
// It reads in pages by seq, so memory grows with accounts and open pending transfers only.
import { sql } from 'kysely';
import { openDb, type Db, type DbExecutor } from '../db/database.ts';
import { GENESIS_HASH } from './ledger-rules.ts';
import { flagViolation, replayTransfer, transferHash, zeroBalances, type Balances } from './ledger-replay-rules.ts';
import { selectAllAccounts, selectHead, selectLastSeqs, selectTransfersAfter } from './ledger-store.ts';

export interface VerifyReport {
  ok: boolean;
  transfers: number;
  accounts: number;
  assets: Array<{ asset: string; debits_posted_minor: bigint; credits_posted_minor: bigint; debits_pending_minor: bigint; credits_pending_minor: bigint }>;
  /** The first discrepancy found, or null. */
  problem: string | null;
}

const PAGE_MAX = 5000;

/**
 * verifyLedger over ONE consistent snapshot of a database that may be written meanwhile (a
 * running platform: the reconciler, `settle ledger verify`). Read page by page without one,
 * a transfer committed between the last page and the head read looked like a broken chain
 * ("chain head (seq 338) does not match the last transfer (seq 336)") and the reconciler
 * opened a ledger_unbalanced incident for a healthy ledger (found by the SIGKILL soak).
 * PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a read transaction on a second
 * connection of its own (WAL: writers go on, and the platform's one connection stays free).
 *   const report = await verifyLedgerSnapshot(db)
 */
export async function verifyLedgerSnapshot(db: Db): Promise<VerifyReport> {
  if (db.dialect === 'postgres') {
    return db.kysely.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => verifyLedger(trx));
  }
  const path = db.sqlite?.name ?? '';
  // An in-memory database has no second connection to it; nothing else writes to it meanwhile.
  if (!path || path === ':memory:' || db.sqlite?.memory) return verifyLedger(db.kysely);
  const reader = openDb({ kind: 'sqlite', path });
  try {
    return await reader.kysely.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      try {
        return await verifyLedger(conn);
      } finally {
        await sql`commit`.execute(conn);
      }
    });
  } finally {
    await reader.close();
  }
}

/** const report = await verifyLedger(db.kysely); if (!report.ok) console.error(report.problem) */
export async function verifyLedger(ex: DbExecutor): Promise<VerifyReport> {
  const accounts = await selectAllAccounts(ex);
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const computed = new Map<string, Balances>(accounts.map((a) => [a.id, zeroBalances()]));
  const pendingAmounts = new Map<string, bigint>();
  /** account id -> seq of its latest transfer so far (the history list as the chain orders it). */
  const lastSeqs = new Map<string, number>();
  const report: VerifyReport = { ok: false, transfers: 0, accounts: accounts.length, assets: [], problem: null };
  const fail = (problem: string): VerifyReport => ({ ...report, problem });

  let prev = { seq: 0, hash: GENESIS_HASH };
  for (;;) {
    const page = await selectTransfersAfter(ex, prev.seq, PAGE_MAX);
    for (const t of page) {
      if (t.seq !== prev.seq + 1) return fail(`transfer ${t.id}: seq ${t.seq} follows ${prev.seq} (a transfer is missing)`);
      if (t.prev_hash !== prev.hash) return fail(`transfer ${t.id} (seq ${t.seq}): prev_hash does not match the previous transfer's hash`);
      if (transferHash(t) !== t.hash) return fail(`transfer ${t.id} (seq ${t.seq}): hash does not match its fields (altered)`);
      const dr = byId.get(t.debit_account_id);
      const cr = byId.get(t.credit_account_id);
      if (!dr || !cr) return fail(`transfer ${t.id}: its ${dr ? 'credit' : 'debit'} account ${(dr ? t.credit_account_id : t.debit_account_id) || '(no account has its key)'} does not exist`);
      if (dr.asset !== t.asset || cr.asset !== t.asset) return fail(`transfer ${t.id}: asset ${t.asset} differs from its accounts'`);
      if (t.amount_minor <= 0n) return fail(`transfer ${t.id}: amount ${t.amount_minor} is not positive`);
      for (const [side, account, link] of [['debit', dr.id, t.debit_prev], ['credit', cr.id, t.credit_prev]] as const) {
        const expected = lastSeqs.get(account) ?? 0;
        if (link !== expected) return fail(`transfer ${t.id} (seq ${t.seq}): its ${side} history link is seq ${link}, but account ${account}'s previous transfer is seq ${expected}`);
        lastSeqs.set(account, t.seq);
      }
      let pendingAmount: bigint | null = null;
      if (t.pending_id !== null) {
        pendingAmount = pendingAmounts.get(t.pending_id) ?? null;
        pendingAmounts.delete(t.pending_id);
      }
      const problem = replayTransfer(computed.get(dr.id)!, computed.get(cr.id)!, t, pendingAmount);
      if (problem) return fail(problem);
      if (t.type === 'pending') pendingAmounts.set(t.id, t.amount_minor);
      prev = { seq: t.seq, hash: t.hash };
      report.transfers++;
    }
    if (page.length < PAGE_MAX) break;
  }

  const head = await selectHead(ex);
  if (head.seq !== prev.seq || head.hash !== prev.hash) return fail(`chain head (seq ${head.seq}) does not match the last transfer (seq ${prev.seq})`);

  const listHeads = await selectLastSeqs(ex);
  const totals = new Map<string, VerifyReport['assets'][number]>();
  for (const a of accounts) {
    const c = computed.get(a.id)!;
    const last = lastSeqs.get(a.id) ?? 0;
    if (listHeads.get(a.id) !== last) return fail(`account ${a.id}: its history starts at seq ${listHeads.get(a.id) ?? '(none)'} but its latest transfer is seq ${last}`);
    for (const k of ['debits_pending_minor', 'debits_posted_minor', 'credits_pending_minor', 'credits_posted_minor'] as const) {
      if (a[k] !== c[k]) return fail(`account ${a.id}: ${k} is ${a[k]} but the transfers give ${c[k]}`);
    }
    const broken = flagViolation({ ...a, ...a.flags });
    if (broken) return fail(`account ${a.id}: balances break its flag (${broken})`);
    const t = totals.get(a.asset) ?? { asset: a.asset, debits_posted_minor: 0n, credits_posted_minor: 0n, debits_pending_minor: 0n, credits_pending_minor: 0n };
    t.debits_posted_minor += c.debits_posted_minor;
    t.credits_posted_minor += c.credits_posted_minor;
    t.debits_pending_minor += c.debits_pending_minor;
    t.credits_pending_minor += c.credits_pending_minor;
    totals.set(a.asset, t);
  }
  for (const t of totals.values()) {
    if (t.debits_posted_minor !== t.credits_posted_minor || t.debits_pending_minor !== t.credits_pending_minor) {
      return fail(`asset ${t.asset}: debits ${t.debits_posted_minor}/${t.debits_pending_minor} ≠ credits ${t.credits_posted_minor}/${t.credits_pending_minor} (posted/pending)`);
    }
  }
  report.assets = [...totals.values()].sort((a, b) => a.asset.localeCompare(b.asset));
  return { ...report, ok: true };
}
