// Goal: the KYC daily limits hold under concurrent requests (issue 16, finding 3): parallel
// withdrawals and parallel transfers of one user never add up past the day's limit, because the
// limit is read inside the transaction that moves the money, serialised per user.
// Method: real accounts, ledger, withdrawals and transfers on each dialect (PostgreSQL is where
// reads outside a lock race); ten requests at once (Promise.all), each within the limit alone,
// of which at most three fit in the day.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { ProblemError } from '../shared/errors.ts';
import { startHarness, type Harness } from '../../test/helpers/payment-testkit.ts';
import { createWithdrawals, standingGate } from './withdrawals/withdrawals.ts';

const PARALLEL = 10;
const TO = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';

describe.each(DIALECTS)('KYC limits under concurrency on %s', (dialect) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(dialect);
  });
  afterEach(async () => h.close());

  it('parallel withdrawals never pass the daily limit together', async () => {
    const a = await h.user('alice@example.test');
    await h.fund(a.id, 'USDT', '5000');
    const withdrawals = createWithdrawals({
      db: h.t.db, clock: h.clock, config: h.config, ledger: h.ledger, sender: () => null,
      gate: standingGate((user_id, ex) => h.accounts.standing(user_id, ex), h.config),
      new_account_ms: null,
    });
    // KYC level 0: 1,000 USD a day; 300 USDT each, so three fit and the fourth does not.
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        withdrawals.request({ user_id: a.id, user_status: 'active', idempotency_key: `w-${i}`, asset: 'USDT', to_address: TO, amount_minor: 300_000_000n }).then(
          () => 'ok',
          (e: unknown) => (e instanceof ProblemError ? e.code : String(e)),
        ),
      ),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'limit_exceeded')).toBe(true);
  });

  it('parallel transfers never pass the daily limit together', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '5000');
    const results = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        h.app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...a.headers, 'idempotency-key': `t-${i}` }, payload: { to_email: 'bob@example.test', asset: 'USDT', amount: '300' } }),
      ),
    );
    const codes = results.map((r) => (r.statusCode === 201 ? 'ok' : (r.json() as { code: string }).code));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(3);
    expect(codes.filter((c) => c !== 'ok').every((c) => c === 'limit_exceeded')).toBe(true);
  });
});
