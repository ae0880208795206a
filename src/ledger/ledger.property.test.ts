// Goal: the ledger on a real database behaves exactly like a simple in-memory reference model,
// whatever the sequence of transfers, pending transfers, posts (full/partial), voids, linked
// batches, retries (same id with the same or other fields), concurrent group-committed batches,
// clock moves and expiry jobs. Method: fast-check generates command sequences; after every step
// the results and every account's four balances must equal the model's; at the end of each run
// `verifyLedger` (hash chain, history links, recomputed balances, debits = credits) must pass and
// each account's paged history must be exactly the model's transfers on it, newest first. Runs on SQLite and
// PostgreSQL. A failure prints fast-check's seed; replay it with SETTLE_FC_SEED=<seed>.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { JobRunner } from '../jobs/jobs.ts';
import { ManualClock } from '../shared/clock.ts';
import { createLedger, registerLedgerJobs, type Ledger } from './ledger.ts';
import type { AccountSpec, TransferInput, TransferResultCode } from './ledger-types.ts';
import { verifyLedger } from './ledger-verify.ts';

const RUNS = Number(process.env.SETTLE_FC_RUNS ?? 30);
const SEED = process.env.SETTLE_FC_SEED ? Number(process.env.SETTLE_FC_SEED) : Math.floor(Math.random() * 2 ** 31);

// ------------------------------------------------------------------ reference model
// Deliberately naive: a chain is applied to a deep copy of the whole model and kept or dropped.

interface MAccount {
  asset: string;
  dmnec: boolean;
  cmned: boolean;
  dp: bigint;
  dpo: bigint;
  cp: bigint;
  cpo: bigint;
}
interface MTransfer {
  kind: 'single' | 'pending' | 'post' | 'void';
  dr: string;
  cr: string;
  asset: string;
  amount: bigint;
  linked: boolean;
  full: boolean;
  pending_id: string | null;
  timeout: number;
  expires: number | null;
  reason: string;
  reference: string | null;
  resolved: 'posted' | 'voided' | null;
}
interface Model {
  accounts: Record<string, MAccount>;
  transfers: Record<string, MTransfer>;
}

const clone = (m: Model): Model => structuredClone(m);

function modelOne(m: Model, t: TransferInput & { expiry?: boolean }, now: number): TransferResultCode {
  if (!t.id) return 'id_must_not_be_empty';
  const isPost = t.post_pending_id !== undefined;
  const isVoid = t.void_pending_id !== undefined;
  const kind: MTransfer['kind'] = isPost ? 'post' : isVoid ? 'void' : t.pending ? 'pending' : 'single';
  const e = m.transfers[t.id];
  if (e) {
    if (e.kind !== kind || e.linked !== !!t.linked || (isPost && e.full !== (t.amount_minor === undefined))) return 'exists_with_different_flags';
    if (isPost || isVoid) {
      if (e.pending_id !== (t.post_pending_id ?? t.void_pending_id)) return 'exists_with_different_pending_id';
      if (isPost && t.amount_minor !== undefined && t.amount_minor !== e.amount) return 'exists_with_different_amount';
    } else {
      const c = t as Extract<TransferInput, { debit_account_id: string }>;
      if (e.dr !== c.debit_account_id) return 'exists_with_different_debit_account_id';
      if (e.cr !== c.credit_account_id) return 'exists_with_different_credit_account_id';
      if (e.asset !== c.asset) return 'exists_with_different_asset';
      if (e.amount !== c.amount_minor) return 'exists_with_different_amount';
      if (e.timeout !== (c.timeout_ms ?? 0)) return 'exists_with_different_timeout';
    }
    if (e.reason !== t.reason) return 'exists_with_different_reason';
    if (e.reference !== t.reference) return 'exists_with_different_reference';
    return 'exists';
  }
  if (isPost || isVoid) {
    const pid = (t.post_pending_id ?? t.void_pending_id)!;
    const p = m.transfers[pid];
    if (!p) return 'pending_transfer_not_found';
    if (p.kind !== 'pending') return 'pending_transfer_not_pending';
    if (p.resolved === 'posted') return 'pending_transfer_already_posted';
    if (p.resolved === 'voided') return 'pending_transfer_already_voided';
    if (!t.expiry && p.expires !== null && now >= p.expires) return 'pending_transfer_expired';
    let amount = p.amount;
    if (isPost && t.amount_minor !== undefined) {
      if (t.amount_minor === 0n) return 'amount_must_not_be_zero';
      if (t.amount_minor < 0n) return 'amount_must_be_positive';
      if (t.amount_minor > p.amount) return 'exceeds_pending_transfer_amount';
      amount = t.amount_minor;
    }
    const dr = m.accounts[p.dr]!;
    const cr = m.accounts[p.cr]!;
    dr.dp -= p.amount;
    cr.cp -= p.amount;
    if (isPost) {
      dr.dpo += amount;
      cr.cpo += amount;
    }
    p.resolved = isPost ? 'posted' : 'voided';
    m.transfers[t.id] = { ...p, kind, amount, linked: !!t.linked, full: isPost && t.amount_minor === undefined, pending_id: pid, timeout: 0, expires: null, reason: t.reason, reference: t.reference, resolved: null };
    return 'ok';
  }
  const c = t as Extract<TransferInput, { debit_account_id: string }>;
  if (c.debit_account_id === c.credit_account_id) return 'accounts_must_be_different';
  if (c.amount_minor === 0n) return 'amount_must_not_be_zero';
  if (c.amount_minor < 0n) return 'amount_must_be_positive';
  const timeout = c.timeout_ms ?? 0;
  if (timeout > 0 && !c.pending) return 'timeout_reserved_for_pending_transfer';
  const dr = m.accounts[c.debit_account_id];
  if (!dr) return 'debit_account_not_found';
  const cr = m.accounts[c.credit_account_id];
  if (!cr) return 'credit_account_not_found';
  if (dr.asset !== cr.asset) return 'accounts_must_have_the_same_asset';
  if (c.asset !== dr.asset) return 'transfer_asset_must_match_accounts';
  if (dr.dmnec && dr.dp + dr.dpo + c.amount_minor > dr.cpo) return 'exceeds_credits';
  if (cr.cmned && cr.cp + cr.cpo + c.amount_minor > cr.dpo) return 'exceeds_debits';
  if (c.pending) {
    dr.dp += c.amount_minor;
    cr.cp += c.amount_minor;
  } else {
    dr.dpo += c.amount_minor;
    cr.cpo += c.amount_minor;
  }
  m.transfers[t.id] = {
    kind,
    dr: c.debit_account_id,
    cr: c.credit_account_id,
    asset: c.asset,
    amount: c.amount_minor,
    linked: !!c.linked,
    full: false,
    pending_id: null,
    timeout,
    expires: timeout > 0 ? now + timeout : null,
    reason: c.reason,
    reference: c.reference,
    resolved: null,
  };
  return 'ok';
}

/** Applies a caller's batch to the model; returns the new model and the result codes. */
function modelBatch(m0: Model, batch: TransferInput[], now: number): { m: Model; codes: TransferResultCode[] } {
  let m = m0;
  const codes: TransferResultCode[] = [];
  let i = 0;
  while (i < batch.length) {
    let end = i;
    while (end < batch.length - 1 && batch[end]!.linked) end++;
    if (end === batch.length - 1 && batch[end]!.linked) {
      for (let k = i; k <= end; k++) codes.push(k === end ? 'linked_event_chain_open' : 'linked_event_failed');
    } else {
      const trial = clone(m);
      const chain: TransferResultCode[] = [];
      let failed = -1;
      for (let k = i; k <= end; k++) {
        const code = modelOne(trial, batch[k]!, now);
        chain.push(code);
        if (code !== 'ok' && code !== 'exists') {
          failed = k - i;
          break;
        }
      }
      if (failed < 0) m = trial;
      for (let k = 0; k <= end - i; k++) codes.push(failed < 0 || end === i ? chain[k]! : k === failed ? chain[k]! : 'linked_event_failed');
    }
    i = end + 1;
  }
  return { m, codes };
}

// ------------------------------------------------------------------ commands

const IDS = Array.from({ length: 10 }, (_, i) => `t${i}`);
const ACCOUNTS = ['world', 'a', 'b', 'cap', 'eth'];

type Op =
  | { kind: 'create'; id: string; dr: string; cr: string; amount: bigint; pending: boolean; timeout: number; linked: boolean; reason: string; asset: string }
  | { kind: 'post'; id: string; target: string; amount: bigint | null; linked: boolean }
  | { kind: 'void'; id: string; target: string; linked: boolean };
type Cmd = { kind: 'batches'; via: 'group' | 'in'; batches: Op[][] } | { kind: 'advance'; ms: number } | { kind: 'expire' };

const idArb = fc.constantFrom(...IDS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('create' as const), id: idArb, dr: fc.constantFrom(...ACCOUNTS), cr: fc.constantFrom(...ACCOUNTS), amount: fc.bigInt(0n, 60n), pending: fc.boolean(), timeout: fc.constantFrom(0, 0, 1000, 3000), linked: fc.boolean(), reason: fc.constantFrom('r1', 'r2'), asset: fc.constantFrom('USDT', 'USDT', 'USDT', 'ETH') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('post' as const), id: idArb, target: idArb, amount: fc.option(fc.bigInt(0n, 60n)), linked: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), id: idArb, target: idArb, linked: fc.boolean() }) },
);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('batches' as const), via: fc.constantFrom('group' as const, 'in' as const), batches: fc.array(fc.array(opArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.constantFrom(500, 1000, 3000), fc.integer({ min: 0, max: 2500 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
);

/** Turns an op into a ledger input with ids and accounts scoped to one run. */
function toInput(op: Op, p: string): TransferInput {
  switch (op.kind) {
    case 'create':
      return { id: p + op.id, debit_account_id: p + op.dr, credit_account_id: p + op.cr, amount_minor: op.amount, asset: op.asset, ...(op.pending ? { pending: true } : {}), ...(op.timeout ? { timeout_ms: op.timeout } : {}), ...(op.linked ? { linked: true } : {}), reason: op.reason, reference: null };
    case 'post':
      return { id: p + op.id, post_pending_id: p + op.target, ...(op.amount === null ? {} : { amount_minor: op.amount }), ...(op.linked ? { linked: true } : {}), reason: 'post', reference: null };
    case 'void':
      return { id: p + op.id, void_pending_id: p + op.target, ...(op.linked ? { linked: true } : {}), reason: 'void', reference: null };
  }
}

/** Caller transactions run one after the other: their order must be the model's order. */
async function sequentially<T>(fns: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  for (const fn of fns) out.push(await fn());
  return out;
}

const flags = (dmnec: boolean, cmned: boolean) => ({ debits_must_not_exceed_credits: dmnec, credits_must_not_exceed_debits: cmned });

describe.each(DIALECTS)('ledger against a reference model on %s', (dialect) => {
  let t: TestDb;
  let ledger: Ledger;
  let jobs: JobRunner;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let run = 0;

  beforeAll(async () => {
    t = await openTestDb(dialect);
    ledger = createLedger(t.db, clock);
    jobs = new JobRunner(t.db, { clock, jobs_per_tick_max: 64 });
    registerLedgerJobs(jobs, ledger);
  });
  afterAll(async () => {
    await ledger?.drain();
    await t?.cleanup();
  });

  /** Runs due expiry jobs until none is left. */
  async function runExpiries(): Promise<void> {
    while ((await jobs.tick()) > 0);
  }

  it(`matches the model after every step (seed ${SEED})`, async () => {
    const property = fc.asyncProperty(fc.array(cmdArb, { maxLength: 40 }), async (cmds) => {
      const p = `r${run++}:`;
      const specs: AccountSpec[] = [
        { id: p + 'world', asset: 'USDT', owner_type: 'platform', owner_id: p, kind: 'external', flags: flags(false, false) },
        { id: p + 'a', asset: 'USDT', owner_type: 'user', owner_id: p + 'a', kind: 'user_available', flags: flags(true, false) },
        { id: p + 'b', asset: 'USDT', owner_type: 'user', owner_id: p + 'b', kind: 'user_available', flags: flags(true, false) },
        { id: p + 'cap', asset: 'USDT', owner_type: 'platform', owner_id: p, kind: 'suspense', flags: flags(false, true) },
        { id: p + 'eth', asset: 'ETH', owner_type: 'platform', owner_id: p, kind: 'hot_wallet', flags: flags(false, false) },
      ];
      await ledger.ensureAccounts(specs);
      let m: Model = { accounts: {}, transfers: {} };
      for (const s of specs) m.accounts[s.id] = { asset: s.asset, dmnec: s.flags.debits_must_not_exceed_credits, cmned: s.flags.credits_must_not_exceed_debits, dp: 0n, dpo: 0n, cp: 0n, cpo: 0n };
      /** Runs the due expiry jobs, and the same expiries in the model. */
      const expireAll = async () => {
        await runExpiries();
        for (const [id, tr] of Object.entries(m.transfers)) {
          if (!id.startsWith(p) || tr.kind !== 'pending' || tr.resolved || tr.expires === null || clock.now_ms() < tr.expires) continue;
          const r = modelBatch(m, [{ id: `expire:${id}`, void_pending_id: id, reason: 'ledger.pending_expired', reference: null, expiry: true } as TransferInput], clock.now_ms());
          expect(r.codes).toEqual(['ok']);
          m = r.m;
        }
      };

      for (const cmd of cmds) {
        if (cmd.kind === 'advance') {
          clock.advance(cmd.ms);
        } else if (cmd.kind === 'expire') {
          await expireAll();
        } else {
          const inputs = cmd.batches.map((b) => b.map((op) => toInput(op, p)));
          const got =
            cmd.via === 'group'
              ? await Promise.all(inputs.map((b) => ledger.createTransfers(b)))
              : await sequentially(inputs.map((b) => () => t.db.transaction((trx) => ledger.createTransfersIn(trx, b))));
          for (let i = 0; i < inputs.length; i++) {
            const r = modelBatch(m, inputs[i]!, clock.now_ms());
            m = r.m;
            expect(got[i]!.map((x) => x.result)).toEqual(r.codes);
            expect(got[i]!.map((x) => x.id)).toEqual(inputs[i]!.map((x) => x.id));
          }
        }
        const accounts = await ledger.getAccounts(specs.map((s) => s.id));
        for (const a of accounts) {
          const e = m.accounts[a.id]!;
          expect([a.id, a.debits_pending_minor, a.debits_posted_minor, a.credits_pending_minor, a.credits_posted_minor]).toEqual([a.id, e.dp, e.dpo, e.cp, e.cpo]);
        }
      }
      // Leave no due job for the next run, then check the whole ledger.
      clock.advance(10_000);
      await expireAll();
      const report = await verifyLedger(t.db.kysely);
      expect(report.problem).toBeNull();
      // Each account's history, paged, is exactly the model's transfers on that account, newest first.
      for (const spec of specs) {
        const ids = Object.entries(m.transfers).filter(([id, tr]) => (id.startsWith(p) || id.startsWith(`expire:${p}`)) && (tr.dr === spec.id || tr.cr === spec.id)).map(([id]) => id);
        const expected = (await ledger.getTransfers(ids)).sort((x, y) => y.seq - x.seq).map((x) => x.id);
        expect(expected.length).toBe(ids.length);
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<Ledger['history']>> = await ledger.history(spec.id, { limit: 3, cursor });
          paged.push(...page.data.map((x) => x.id));
          cursor = page.next_cursor;
        } while (cursor);
        expect(paged).toEqual(expected);
      }
    });
    await fc.assert(property, { numRuns: RUNS, seed: SEED, endOnFailure: true });
  }, 300_000);
});
