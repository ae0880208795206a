// Goal: a precompiled query behaves like the same query built anew, on both dialects: arguments
// land in their places (constants of the query stay), bigint arguments go in as their decimal
// text and `_minor` columns come back as bigint (beyond 64 bits), it runs inside a transaction
// (and rolls back with it), and a wrong number of arguments is refused.
// Method: a real migrated database of each dialect (see test/helpers/db.ts), the payments table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { precompile } from './precompiled.ts';

describe.each(DIALECTS)('precompiled queries on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
  });
  afterAll(async () => t.cleanup());

  const row = (id: string, amount_minor: bigint) => ({
    id, user_id: 'usr_p', kind: 'transfer', direction: 'out', asset: 'ETH', amount_minor, fee_minor: 0n, status: 'completed', hold_reason: null, hold_since_ms: null,
    code: 'transfer_sent', code_params: '{}', confirmations_current: null, confirmations_required: null, chain_id: null, tx_hash: null, log_index: null, block_number: null,
    chain_from: null, chain_to: null, chain_token: null, counterparty: null, reference: null, memo: null, status_since_ms: 1, created_at_ms: 1, updated_at_ms: 1,
  });

  it('fills in arguments, keeps constants, converts bigints both ways, and runs in a transaction', async () => {
    const db = t.db;
    const insert = precompile<[id: string, amount_minor: bigint], unknown>(db, (k, p) => k.insertInto('payments').values({ ...row('x', 0n), id: p(0), amount_minor: p(1) }));
    const byUser = precompile<[user_id: string, min_ms: number], { id: string; amount_minor: bigint; status: string }>(db, (k, p) =>
      k.selectFrom('payments').select(['id', 'amount_minor', 'status']).where('user_id', '=', p(0)).where('kind', '=', 'transfer').where('created_at_ms', '>', p(1)).orderBy('id'),
    );
    const fail = precompile<[id: string], unknown>(db, (k, p) => k.updateTable('payments').set({ status: 'failed' }).where('id', '=', p(0)));
    const big = 10n ** 30n + 7n;
    await insert.execute(db.kysely, ['pay_1', big]);
    await db.transaction(async (trx) => {
      await insert.execute(trx, ['pay_2', 5n]);
      expect((await byUser.execute(trx, ['usr_p', 0])).rows.map((r) => r.id)).toEqual(['pay_1', 'pay_2']);
    });
    await expect(
      db.transaction(async (trx) => {
        await insert.execute(trx, ['pay_3', 1n]);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(Number((await fail.execute(db.kysely, ['pay_2'])).numAffectedRows)).toBe(1);
    expect((await byUser.execute(db.kysely, ['usr_p', 0])).rows).toEqual([
      { id: 'pay_1', amount_minor: big, status: 'completed' },
      { id: 'pay_2', amount_minor: 5n, status: 'failed' },
    ]);
    expect((await byUser.execute(db.kysely, ['usr_p', 1])).rows).toEqual([]);
    expect(byUser.sql()).toMatch(/"user_id" = (\?|\$1)/);
  });

  it('refuses a wrong number of arguments and a query that lost a placeholder', async () => {
    const byId = precompile<[id: string], unknown>(t.db, (k, p) => k.selectFrom('payments').select('id').where('id', '=', p(0)));
    expect(() => byId.execute(t.db.kysely, [] as unknown as [string])).toThrow(/takes 1 arguments/);
    const gap = precompile<[a: string, b: string], unknown>(t.db, (k, p) => k.selectFrom('payments').select('id').where('id', '=', p(1)));
    expect(() => gap.sql()).toThrow(/placeholder 0 is missing/);
  });
});
