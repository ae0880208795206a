// Goal: deposit addresses are one index per user, stable per user and chain, never shared, and
// issuing one never leaves the scan cursor after its issue block. Method: allocate concurrently on
// a real database (both dialects) and compare with the keys' own derivation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { ANVIL_TEST_MNEMONIC } from '../../../test/helpers/anvil.ts';
import { createDepositKeys, type Hex } from '../../chain/chain.ts';
import { depositAddressOwners, earliestIssuedBlock, ensureDepositAddress, OWNER_LOOKUP_CHUNK } from './deposit-addresses.ts';

describe.each(DIALECTS)('deposit addresses on %s', (dialect) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await openTestDb(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('are stable per user and chain, shared by nobody, and pull the scan cursor back', async () => {
    const keys = createDepositKeys(ANVIL_TEST_MNEMONIC);
    await t.db.kysely.insertInto('chain_cursors').values({ chain_id: 1, next_block: 500, head: 499, head_seen_at_ms: 0, block_time_ms: null, updated_at_ms: 0 }).execute();
    const users = Array.from({ length: 12 }, (_, i) => `usr_${i}`);
    // Concurrent first requests (and repeats) for the same users.
    const results = await Promise.all([...users, ...users].map((user_id) => ensureDepositAddress(t.db, keys, { chain_id: 1, user_id, issued_at_block: 480 })));
    const byUser = new Map<string, string>();
    for (const r of results) {
      const seen = byUser.get(r.address.user_id);
      if (seen) expect(r.address.address).toBe(seen);
      byUser.set(r.address.user_id, r.address.address);
      expect(r.address.address).toBe(keys.address(r.address.hd_index));
    }
    expect(new Set(byUser.values()).size).toBe(users.length);
    expect(results.filter((r) => r.created)).toHaveLength(users.length);

    const again = await ensureDepositAddress(t.db, keys, { chain_id: 1, user_id: 'usr_3', issued_at_block: 900 });
    expect(again).toMatchObject({ created: false, address: { address: byUser.get('usr_3'), issued_at_block: 480 } });
    // Another chain: the same user gets the same address (same index); others still differ.
    const other = await ensureDepositAddress(t.db, keys, { chain_id: 2, user_id: 'usr_3', issued_at_block: 7 });
    expect(other.address.address).toBe(byUser.get('usr_3'));

    const cursor = await t.db.kysely.selectFrom('chain_cursors').select('next_block').where('chain_id', '=', 1).executeTakeFirstOrThrow();
    expect(Number(cursor.next_block)).toBe(480);
    expect(await earliestIssuedBlock(t.db.kysely, 1)).toBe(480);
    // The scanner's lookup answers for the addresses asked about, ours or not, in chunks.
    const ours = [...byUser.values()] as Hex[];
    const strangers = Array.from({ length: OWNER_LOOKUP_CHUNK + 3 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}` as Hex);
    const owners = await depositAddressOwners(t.db.kysely, 1, [...strangers, ...ours]);
    expect(owners.size).toBe(users.length);
    expect(owners.get(byUser.get('usr_3') as Hex)?.user_id).toBe('usr_3');
    expect((await depositAddressOwners(t.db.kysely, 1, strangers)).size).toBe(0);
    expect((await depositAddressOwners(t.db.kysely, 3, ours)).size).toBe(0);
  });
});
