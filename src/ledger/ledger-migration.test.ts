// Goal: migration 2026-11-26T0700_ledger_history_links turns a ledger written in the previous
// layout (bucketed history keys) into linked history lists without losing or changing anything.
// Method: build a real previous-layout ledger (66,000 transfers, so that the keys cross a bucket
// boundary) with correct hashes and balances at the migration before it, migrate, and check that
// `verify` passes (it checks every link and list head), that history pages give each account's
// transfers newest first, and that the ledger appends on top.
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { migrateTo, migrateToLatest } from '../db/migrate.ts';
import { systemClock } from '../shared/clock.ts';
import { createLedger } from './ledger.ts';
import { GENESIS_HASH } from './ledger-rules.ts';
import { transferHash } from './ledger-replay-rules.ts';
import { verifyLedger } from './ledger-verify.ts';
import type { Transfer } from './ledger-types.ts';

const BEFORE = '2026-11-26T0650_webhook_secret_rotation';
const N = 66_000;
const ACCOUNTS = ['world', 'a', 'b', 'c', 'd'].map((k, i) => ({ num: i + 1, id: `la:test:${k}:USDT`, kind: i === 0 ? 'external' : 'user_available' }));

describe.each(DIALECTS)('ledger history links migration (%s)', (dialect) => {
  let t: TestDb;
  afterEach(async () => t?.cleanup());

  it('links every existing transfer and keeps the chain verifiable', async () => {
    t = await openTestDb(dialect, { migrate: false });
    const db = t.db.kysely;
    await migrateTo(t.db, BEFORE);

    // A deterministic previous-layout ledger: world funds everyone, then round-robin transfers.
    const balances = new Map(ACCOUNTS.map((a) => [a.num, { dr: 0n, cr: 0n }]));
    const lists = new Map<number, string[]>(ACCOUNTS.map((a) => [a.num, []]));
    const rows: Array<Record<string, unknown>> = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= N; seq++) {
      const dr = seq <= 4 ? 1 : 2 + ((seq * 7) % 4);
      const cr = seq <= 4 ? seq + 1 : 2 + ((seq * 7 + 1 + (seq % 3)) % 4);
      const amount = seq <= 4 ? 10n ** 9n : 1n;
      const fields: Omit<Transfer, 'hash'> = {
        id: `m${seq}`, seq, debit_account_id: ACCOUNTS[dr - 1]!.id, credit_account_id: ACCOUNTS[cr - 1]!.id, asset: 'USDT', amount_minor: amount,
        type: 'single', pending_id: null, timeout_ms: 0, expires_at_ms: null, flags: 0, reason: 'seed', reference: null, created_at_ms: 1_700_000_000_000, prev_hash: prev,
      };
      const hash = transferHash(fields);
      prev = hash;
      balances.get(dr)!.dr += amount;
      balances.get(cr)!.cr += amount;
      lists.get(dr)!.unshift(fields.id);
      lists.get(cr)!.unshift(fields.id);
      const bucket = Math.floor(seq / 65_536) * 2 ** 32;
      rows.push({ seq, id: fields.id, debit_key: bucket + dr, credit_key: bucket + cr, asset: 'USDT', amount_minor: String(amount), type: 'single', pending_id: null,
        timeout_ms: 0, expires_at_ms: null, flags: 0, reason: 'seed', reference: null, created_at_ms: fields.created_at_ms, hash: Buffer.from(hash, 'hex') });
    }
    expect(new Set(rows.map((r) => Math.floor(Number(r.debit_key) / 2 ** 32))).size).toBe(2);
    await db.transaction().execute(async (trx) => {
      for (const a of ACCOUNTS) {
        const b = balances.get(a.num)!;
        await sql`insert into ledger_accounts (num, id, asset, owner_type, owner_id, kind, flags, debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor, created_at_ms)
          values (${a.num}, ${a.id}, 'USDT', 'platform', ${a.id}, ${a.kind}, 0, '0', ${String(b.dr)}, '0', ${String(b.cr)}, 1)`.execute(trx);
      }
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('ledger_transfers' as never).values(rows.slice(i, i + 500) as never).execute();
      await sql`update ledger_head set seq = ${N}, hash = ${prev} where id = 1`.execute(trx);
    });

    expect(await migrateToLatest(t.db)).toContain('2026-11-26T0700_ledger_history_links');
    const report = await verifyLedger(db);
    expect(report.problem).toBeNull();
    expect(report.transfers).toBe(N);

    const ledger = createLedger(t.db, systemClock);
    for (const a of ACCOUNTS) {
      const page = await ledger.history(a.id, { limit: 7, cursor: null });
      expect(page.data.map((x) => x.id)).toEqual(lists.get(a.num)!.slice(0, 7));
      expect(page.next_cursor === null).toBe(lists.get(a.num)!.length <= 7);
      if (!page.next_cursor) continue;
      const next = await ledger.history(a.id, { limit: 3, cursor: page.next_cursor });
      expect(next.data.map((x) => x.id)).toEqual(lists.get(a.num)!.slice(7, 10));
    }
    expect((await ledger.history(ACCOUNTS[0]!.id, { limit: 10, cursor: null })).data.map((x) => x.id)).toEqual(['m4', 'm3', 'm2', 'm1']);

    // The ledger appends on top of the migrated lists.
    expect(await ledger.createTransfers([{ id: 'after', debit_account_id: ACCOUNTS[1]!.id, credit_account_id: ACCOUNTS[0]!.id, amount_minor: 5n, asset: 'USDT', reason: 'x', reference: null }])).toEqual([{ id: 'after', result: 'ok' }]);
    expect((await ledger.history(ACCOUNTS[0]!.id, { limit: 2, cursor: null })).data.map((x) => x.id)).toEqual(['after', 'm4']);
    expect((await verifyLedger(db)).ok).toBe(true);
  }, 120_000);
});
