// Goal: the daily KYC transfer limit counts every transfer of the day, however many there are
// (issue 16, finding 2): 2,000 dust transfers must not hide the large ones from the sum.
// Method: real accounts, ledger and transfers on each dialect; a KYC level 0 sender (500 USD at
// once, 1,000 USD a day) sends 2,000 dust transfers, then large ones, through the transfers face.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { ProblemError } from '../../shared/errors.ts';
import { startHarness, type Harness } from '../../../test/helpers/payment-testkit.ts';

describe.each(DIALECTS)('daily transfer limit on %s', (dialect) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(dialect);
  });
  afterEach(async () => h.close());

  it('counts every transfer of the day: 2,000 dust transfers do not hide the large ones', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '2000');
    for (let i = 0; i < 2000; i++) {
      await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '0.000001' }, `dust-${i}`);
      h.clock.advance(1);
    }
    await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '500' }, 'big-1');
    h.clock.advance(1);
    await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '479' }, 'big-2');
    h.clock.advance(1);
    // 979.002 USD sent today: 400 more is over the 1,000 USD day.
    const refused = await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '400' }, 'big-3').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect(refused).toMatchObject({ code: 'limit_exceeded', extra: { limit: 'daily', used_usd: '979.01' } });
    // The dust is summed before it is priced (exactly), not rounded up a cent per transfer:
    // 20.99 USD is still within the day.
    await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '20.99' }, 'small');
  }, 120_000);
});
