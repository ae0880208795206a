// Goal: a withdrawal to one of the platform's own invoice addresses is refused before anything
// moves, with a problem that says what to do instead (issue 16, finding 5): the deposit scanner
// passes over the hot wallet's own transfers, so such coins would leave custody and never pay
// the invoice (docs/decisions/withdrawals-to-own-addresses.md).
// Method: the real platform (createPlatform) with a chain config and a deposit mnemonic on each
// dialect; a merchant's real API key creates an invoice; a signed-in user with a step-up asks to
// withdraw to its address through POST /withdrawals (app.inject()).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { startInvoicePlatform } from '../../../test/helpers/invoice-platform.ts';
import { bearer, type TestPlatform } from '../../../test/helpers/accounts-testkit.ts';

const PW = 'correct horse battery staple 9';

describe.each(DIALECTS)('withdrawal to an invoice address on %s', (dialect) => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await startInvoicePlatform(dialect);
  });
  afterEach(async () => {
    await t.close();
  });

  async function signedInWithStepUp(email: string): Promise<string> {
    const u = await t.platform.accounts.createUserWithRoles(email, PW, []);
    const s = await t.platform.accounts.issueSessionForTests(u.id);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(s.token), payload: { password: PW } })).statusCode).toBe(204);
    return s.token;
  }

  it('refuses with invalid_address / invoice_address and says to pay from the balance instead', async () => {
    const merchant = await signedInWithStepUp('shop@example.test');
    const key = (await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(merchant), payload: { name: 'shop', scopes: ['invoices:write'] } })).json().key as string;
    const inv = (await t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(key), 'idempotency-key': 'i1' }, payload: { asset: 'ETH', amount: '0.5' } })).json();
    const payer = await signedInWithStepUp('payer@example.test');
    for (const address of [inv.address as string, (inv.address as string).toUpperCase().replace('0X', '0x')]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { ...bearer(payer), 'idempotency-key': `w-${address}` }, payload: { asset: 'ETH', to_address: address, amount: '0.5' } });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'invalid_address', reason: 'invoice_address' });
      expect(res.json().detail).toMatch(/internal transfer/);
    }
    expect(await t.platform.db.kysely.selectFrom('withdrawals').select('id').execute()).toEqual([]);
  });
});
