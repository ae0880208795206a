// Goal: staff find a user by what a customer tells them — the start of their email, their user
// id, or the deposit address they paid — with GET /admin/users?q= (API.md part 1 "Staff"),
// paged newest first; only staff roles may search, and a search changes nothing.
// Method: a whole platform with one (never contacted) chain, on each dialect; users register
// through the API, a deposit address is issued through custody's own function (the chain is not
// running), staff turn TOTP on through the real flow; app.inject().
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { signUp, staffMember, withSecurityPlatform } from '../helpers/security-kit.ts';
import { ensureDepositAddress } from '../../src/payments/custody/deposit-addresses.ts';
import { createDepositKeys } from '../../src/chain/chain.ts';
import { ANVIL_TEST_MNEMONIC } from '../helpers/anvil.ts';

interface Page { data: Array<{ id: string; email: string; status: string }>; next_cursor: string | null }

describe.each(DIALECTS)('staff user search on %s', (dialect) => {
  it('by email prefix, id, id prefix and deposit address; paged newest first; staff only', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const ann = await signUp(t, 'ann.lee@example.test');
      t.clock.advance(1000); // ids sort by creation time: newest first is anna, then ann
      const anna = await signUp(t, 'anna_x@example.test');
      t.clock.advance(1000);
      const bob = await signUp(t, 'bob@example.test');
      const agent = await staffMember(t, 'agent@settle.test', 'agent');
      const search = async (query: string, headers = agent.headers) => {
        const r = await t.app.inject({ method: 'GET', url: `/api/v1/admin/users${query}`, headers });
        expect(r.statusCode, r.body).toBe(200);
        return json<Page>(r);
      };
      const emails = (p: Page) => p.data.map((u) => u.email);

      // An email prefix, case-insensitive; '_' and '.' are plain characters, not wildcards.
      expect(emails(await search('?q=ANN'))).toEqual(['anna_x@example.test', 'ann.lee@example.test']);
      expect(emails(await search('?q=ann.'))).toEqual(['ann.lee@example.test']);
      expect(emails(await search('?q=anna_'))).toEqual(['anna_x@example.test']);
      expect(emails(await search('?q=ann%25'))).toEqual([]);
      expect(emails(await search('?q=example'))).toEqual([]);
      // An exact id, and an id prefix.
      expect(emails(await search(`?q=${bob.id}`))).toEqual(['bob@example.test']);
      expect((await search(`?q=${bob.id.slice(0, 4)}`)).data.length).toBeGreaterThanOrEqual(4);

      // A deposit address, exact, in any case: the owner.
      const chain_id = t.platform.config.chains[0]!.chain_id;
      const issued = await ensureDepositAddress(t.platform.db, createDepositKeys(ANVIL_TEST_MNEMONIC), { chain_id, user_id: anna.id, issued_at_block: 0 }, t.clock);
      const address = issued.address.address;
      expect(emails(await search(`?q=${address}`))).toEqual(['anna_x@example.test']);
      expect(emails(await search(`?q=${address.toUpperCase().replace('0X', '0x')}`))).toEqual(['anna_x@example.test']);
      expect(emails(await search(`?q=${address.slice(0, 20)}`))).toEqual([]);
      expect(emails(await search('?q=0x0000000000000000000000000000000000000001'))).toEqual([]);

      // Paged: newest first, the cursor continues where the page ended, no one twice.
      const first = await search('?limit=2');
      expect(first.data).toHaveLength(2);
      expect(first.next_cursor).toBe(first.data[1]!.id);
      const seen = [...first.data.map((u) => u.id)];
      let cursor = first.next_cursor;
      while (cursor) {
        const next = await search(`?limit=2&cursor=${cursor}`);
        seen.push(...next.data.map((u) => u.id));
        cursor = next.next_cursor;
      }
      expect(seen).toEqual([...seen].sort().reverse());
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining([ann.id, anna.id, bob.id, agent.id]));

      // Not for users; bad input is a 400 that changes nothing.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?q=ann', headers: bob.headers })).statusCode).toBe(403);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?q=ann' })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?limit=1000', headers: agent.headers })).statusCode).toBe(400);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?cursor=nope', headers: agent.headers })).statusCode).toBe(400);
      const unset = await staffMember(t, 'no2fa@settle.test', 'admin', { totp: false });
      const refused = await t.app.inject({ method: 'GET', url: '/api/v1/admin/users?q=ann', headers: unset.headers });
      expect([refused.statusCode, json(refused).code]).toEqual([403, 'staff_2fa_required']);
    });
  });
});
