// Goal: many concurrent writers moving money among three hot accounts never see a deadlock or
// any other exception, never break an account's flag, and conserve totals. Method: 16 callers
// on PostgreSQL (and SQLite), each looping over random transfers, pending transfers, posts and
// voids; half go through four independent Ledger instances' group commit (separate queues, so
// their transactions really run concurrently, like four processes), half through
// createTransfersIn inside the caller's own transaction. Then verifyLedger recomputes every
// balance, checks the flags and debits = credits, and the sum of user balances is compared with
// what was funded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { systemClock } from '../shared/clock.ts';
import { createLedger, type Ledger } from './ledger.ts';
import type { AccountSpec, TransferInput, TransferResultCode } from './ledger-types.ts';
import { verifyLedger } from './ledger-verify.ts';

const CALLERS = 16;
const ROUNDS = 25;
const HOT = ['hot:a', 'hot:b', 'hot:c'];

describe.each(DIALECTS)('ledger under concurrency on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('lets 16 callers hammer 3 hot accounts without deadlocks, broken flags or lost money', async () => {
    const ledgers: Ledger[] = Array.from({ length: 4 }, () => createLedger(t.db, systemClock));
    const specs: AccountSpec[] = [
      { id: 'hot:world', asset: 'USDT', owner_type: 'platform', owner_id: 'world', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      ...HOT.map((id) => ({ id, asset: 'USDT', owner_type: 'user' as const, owner_id: id, kind: 'user_available' as const, flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } })),
    ];
    await ledgers[0]!.ensureAccounts(specs);
    const funding = HOT.map((id, i): TransferInput => ({ id: `fund:${i}`, debit_account_id: 'hot:world', credit_account_id: id, amount_minor: 500n, asset: 'USDT', reason: 'fund', reference: null }));
    expect((await ledgers[0]!.createTransfers(funding)).map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);

    const counts = new Map<TransferResultCode, number>();
    const errors: unknown[] = [];
    const pick = () => HOT[Math.floor(Math.random() * HOT.length)]!;
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, c) => {
        const ledger = ledgers[c % ledgers.length]!;
        for (let round = 0; round < ROUNDS; round++) {
          const batch: TransferInput[] = [];
          for (let k = 0; k < 4; k++) {
            const dr = pick();
            const cr = HOT.find((h) => h !== dr && Math.random() < 0.5) ?? HOT.find((h) => h !== dr)!;
            const id = `c${c}:r${round}:k${k}`;
            const amount = BigInt(1 + Math.floor(Math.random() * 120));
            if (k === 0) {
              batch.push({ id, debit_account_id: dr, credit_account_id: cr, amount_minor: amount, asset: 'USDT', pending: true, reason: 'conc', reference: null });
            } else if (k === 1 && round > 0) {
              const prev = `c${c}:r${round - 1}:k0`;
              batch.push(Math.random() < 0.5 ? { id, post_pending_id: prev, amount_minor: 1n, reason: 'conc', reference: null } : { id, void_pending_id: prev, reason: 'conc', reference: null });
            } else {
              batch.push({ id, debit_account_id: dr, credit_account_id: cr, amount_minor: amount, asset: 'USDT', linked: k === 2, reason: 'conc', reference: null });
            }
          }
          try {
            const results = c % 2 === 0 ? await ledger.createTransfers(batch) : await t.db.transaction((trx) => ledger.createTransfersIn(trx, batch));
            for (const r of results) counts.set(r.result, (counts.get(r.result) ?? 0) + 1);
          } catch (error) {
            errors.push(error);
          }
        }
      }),
    );
    await Promise.all(ledgers.map((l) => l.drain()));

    expect(errors).toEqual([]);
    // The workload must have both succeeded and been refused by the flags, or it proves little.
    expect(counts.get('ok')).toBeGreaterThan(CALLERS * ROUNDS);
    expect(counts.get('exceeds_credits') ?? 0).toBeGreaterThan(0);
    const report = await verifyLedger(t.db.kysely);
    expect(report.problem).toBeNull();
    const accounts = await ledgers[0]!.getAccounts(HOT);
    const held = accounts.reduce((sum, a) => sum + a.credits_posted_minor - a.debits_posted_minor, 0n);
    expect(held).toBe(1500n);
    for (const a of accounts) expect(a.debits_posted_minor + a.debits_pending_minor).toBeLessThanOrEqual(a.credits_posted_minor);
  }, 120_000);
});
