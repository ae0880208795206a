// Goal: `settle ledger verify` exits 0 with a summary on a sound ledger and non-zero naming the
// first discrepancy on a tampered one. Method: the real CLI (bin/settle.mjs) in a child process
// against a real database on each dialect; tampering is raw SQL after dropping the trigger.
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { systemClock } from '../shared/clock.ts';
import { createLedger } from './ledger.ts';

const none = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };

function settle(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/settle.mjs', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.each(DIALECTS)('settle ledger verify on %s', (dialect) => {
  let t: TestDb | undefined;
  afterEach(async () => {
    await t?.cleanup();
  });

  it('passes on a sound ledger and names the first tampered transfer', async () => {
    t = await openTestDb(dialect);
    const ledger = createLedger(t.db, systemClock);
    await ledger.ensureAccounts([
      { id: 'w', asset: 'USDT', owner_type: 'platform', owner_id: 'w', kind: 'external', flags: none },
      { id: 'u', asset: 'USDT', owner_type: 'user', owner_id: 'u', kind: 'user_available', flags: none },
    ]);
    await ledger.createTransfers([
      { id: 'a', debit_account_id: 'w', credit_account_id: 'u', amount_minor: 5n, asset: 'USDT', reason: 'x', reference: null },
      { id: 'b', debit_account_id: 'w', credit_account_id: 'u', amount_minor: 7n, asset: 'USDT', reason: 'x', reference: null, pending: true },
    ]);
    const ok = settle(t.env, 'ledger', 'verify');
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok {3}ledger .*: 2 transfers, 2 accounts, hash chain intact/);
    expect(ok.out).toMatch(/ok {3}USDT: debits = credits = 5 posted, 7 pending/);

    await sql.raw(dialect === 'postgres' ? 'drop trigger ledger_transfers_no_update on ledger_transfers' : 'drop trigger ledger_transfers_no_update').execute(t.db.kysely);
    // Credit 'a' to the other account (rows name accounts by num).
    await sql`update ledger_transfers set credit_num = debit_num where id = 'a'`.execute(t.db.kysely);
    const bad = settle(t.env, 'ledger', 'verify');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/FAIL ledger .*: transfer a \(seq 1\): hash does not match its fields/);
  }, 120_000);
});
