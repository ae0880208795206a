// Goal: one invoice per merchant and Idempotency-Key, also when the process died after the
// invoice committed and before the idempotency layer stored its answer (the key is then free
// again once its lock expires, and the client's retry runs the handler a second time). Found by
// the SIGKILL soak (bench/soak.ts): the retry made a second invoice, with a second address.
// Method: the whole platform with a dev chain configured (startInvoicePlatform) on each dialect;
// the crash window is recreated exactly — the invoice made with the key by the invoices module,
// as the route does, and no stored answer — then the client's retry over HTTP with that key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type TestPlatform } from '../../../test/helpers/accounts-testkit.ts';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { startInvoicePlatform } from '../../../test/helpers/invoice-platform.ts';

describe.each(DIALECTS)('POST /invoices exactly once per Idempotency-Key across a crash on %s', (dialect) => {
  let t: TestPlatform;
  const merchants: Array<{ id: string; key: string }> = [];

  beforeAll(async () => {
    t = await startInvoicePlatform(dialect);
    for (const email of ['shop1@example.com', 'shop2@example.com']) {
      const m = await t.platform.accounts.createUserWithRoles(email, 'correct horse battery staple', ['merchant']);
      const s = await t.platform.accounts.issueSessionForTests(m.id);
      await t.platform.accounts.grantStepUpForTests(s.session_id);
      const key = (await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'shop' } })).json() as { key: string };
      merchants.push({ id: m.id, key: key.key });
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  const post = (key: string, idem: string) => t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(key), 'idempotency-key': idem }, payload: { asset: 'ETH', amount: '0.01' } });
  const count = async () => (await t.platform.db.kysely.selectFrom('invoices').select('id').execute()).length;

  it('the retry finds the invoice the crashed request made: the same id and address, no second invoice', async () => {
    const [a] = merchants;
    const made = await t.platform.invoices!.create({ user_id: a!.id, asset: 'ETH', amount_minor: 10n ** 16n, idempotency_key: 'order-7' });
    expect(made.result).toBe('created');
    const before = await count();
    const retry = await post(a!.key, 'order-7');
    expect(retry.statusCode, retry.body).toBe(201);
    const body = retry.json() as { id: string; address: string };
    expect({ id: body.id, address: body.address }).toEqual({ id: made.result === 'created' ? made.invoice.id : '', address: made.result === 'created' ? made.invoice.address : '' });
    expect(await count()).toBe(before);
  });

  it('another key makes another invoice, and the same key of another merchant is theirs alone', async () => {
    const [a, b] = merchants;
    const first = (await post(a!.key, 'order-8')).json() as { id: string; address: string };
    const again = (await post(a!.key, 'order-8')).json() as { id: string };
    expect(again.id).toBe(first.id);
    const other = await post(b!.key, 'order-8');
    expect(other.statusCode).toBe(201);
    expect((other.json() as { id: string }).id).not.toBe(first.id);
    const next = (await post(a!.key, 'order-9')).json() as { id: string; address: string };
    expect(next.id).not.toBe(first.id);
    expect(next.address).not.toBe(first.address);
  });
});
