// Goal: POST /diagnose gives the owner a verdict from Settle's records, "other_account" (and
// nothing more) for someone else's transaction, and refuses bad input and strangers. Method:
// app.inject() over the real accounts/ledger harness on each dialect.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { startHarness, type Harness } from '../payment-testkit.ts';
import { createPayment } from '../payments.ts';
import { diagnosisRoutes } from './diagnosis.ts';

const HASH = `0x${'ab'.repeat(32)}`;

describe.each(DIALECTS)('diagnosis on %s', (dialect) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(dialect, (parts) => [{ name: 'diagnosis', plugin: diagnosisRoutes(parts.view) }]);
  });
  afterEach(async () => h.close());

  it('answers from the records, hiding other users', async () => {
    const a = await h.user('alice@example.test');
    const b = await h.user('bob@example.test');
    await h.t.db.transaction((trx) => createPayment(trx, { id: 'pay_d1', user_id: a.id, kind: 'deposit', direction: 'in', asset: 'USDT', amount_minor: 3_000_000n, status: 'held', hold: 'below_minimum', chain: { chain_id: 31337, tx_hash: HASH, log_index: 0, block_number: 3, from: null, to: null, token: null } }, h.clock));
    const diag = (body: unknown, headers: Record<string, string>) => h.app.inject({ method: 'POST', url: '/api/v1/diagnose', headers, payload: body as object });
    const mine = (await diag({ tx_hash: HASH }, a.headers)).json();
    expect(mine).toMatchObject({ verdict: 'held', payment: { id: 'pay_d1', hold: { reason: 'below_minimum' } }, chain: null });
    expect((await diag({ payment_id: 'pay_d1' }, a.headers)).json().verdict).toBe('held');
    expect((await diag({ tx_hash: HASH }, b.headers)).json()).toMatchObject({ verdict: 'other_account', payment: null });
    expect((await diag({ tx_hash: `0x${'cd'.repeat(32)}` }, b.headers)).json().verdict).toBe('not_seen');
    expect((await diag({ payment_id: 'pay_d1' }, b.headers)).statusCode).toBe(404);
    expect((await diag({ tx_hash: '0x12' }, a.headers)).statusCode).toBe(400);
    expect((await diag({ tx_hash: HASH }, {})).statusCode).toBe(401);
  });
});
