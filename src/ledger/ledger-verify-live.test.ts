// Goal: `settle ledger verify` and the reconciler's ledger replay tell the truth about a ledger
// that is being written while they read it: a healthy ledger under a steady stream of transfers
// is reported healthy every time. Found by the SIGKILL soak (bench/soak.ts): read page by page
// without a snapshot, a transfer that committed between the last page and the head read was
// reported as a broken hash chain, and the reconciler opened a ledger_unbalanced incident.
// Method: a real ledger on each dialect; a writer loops over transfers (group commits) while
// verifyLedgerSnapshot runs again and again; every report must be ok and see a whole prefix
// of the chain (its transfer count only grows). The old page-by-page read fails here on
// PostgreSQL (seen failing first); on SQLite one process cannot interleave a commit between
// two reads of its own, so there the race needs another process (the soak) — the SQLite half
// proves the snapshot path (a second connection's read transaction) against a live writer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { systemClock } from '../shared/clock.ts';
import { createLedger } from './ledger.ts';
import { verifyLedgerSnapshot } from './ledger-verify.ts';

describe.each(DIALECTS)('ledger verify while transfers are written on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('reports a healthy ledger as healthy, every time, while a writer commits transfers', async () => {
    const ledger = createLedger(t.db, systemClock);
    const flags = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };
    await ledger.ensureAccounts([
      { id: 'live:a', asset: 'USDT', owner_type: 'platform', owner_id: 'a', kind: 'external', flags },
      { id: 'live:b', asset: 'USDT', owner_type: 'platform', owner_id: 'b', kind: 'external', flags },
    ]);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const batch = Array.from({ length: 5 }, () => ({ id: `live:${written++}`, debit_account_id: 'live:a', credit_account_id: 'live:b', amount_minor: 1n, asset: 'USDT', reason: 'live', reference: null }));
        await ledger.createTransfers(batch);
        // SQLite answers without real I/O: let the reader's turns come between the writer's.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const problems: string[] = [];
    let last = 0;
    try {
      while (written < 50) await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 40; i++) {
        const r = await verifyLedgerSnapshot(t.db);
        if (!r.ok) problems.push(r.problem ?? 'not ok');
        if (r.transfers < last) problems.push(`saw ${r.transfers} transfers after ${last}`);
        last = r.transfers;
      }
    } finally {
      writing = false;
      await writer;
      await ledger.drain();
    }
    expect(problems).toEqual([]);
    expect(last).toBeGreaterThan(50);
    expect((await verifyLedgerSnapshot(t.db)).transfers).toBe(written);
  });
});
