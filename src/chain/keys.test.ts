// Goal: deposit addresses are BIP-44 addresses of the deposit mnemonic, one index per user, stable
// per user and chain, never shared, and issuing one never leaves the scan cursor after its issue
// block. Method: compare with viem's own mnemonicToAccount; allocate concurrently on a real
// database (both dialects).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mnemonicToAccount } from 'viem/accounts';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { ANVIL_TEST_MNEMONIC } from './anvil.ts';
import { createDepositKeys, loadOrCreateDevMnemonic } from './keys.ts';
import { depositAddressOwners, earliestIssuedBlock, ensureDepositAddress } from './deposit-addresses.ts';

describe('deposit keys', () => {
  it('derive m/44\'/60\'/0\'/0/i like viem, with signing accounts to match', () => {
    const keys = createDepositKeys(ANVIL_TEST_MNEMONIC);
    for (const i of [0, 1, 2, 9, 1000]) {
      const expected = mnemonicToAccount(ANVIL_TEST_MNEMONIC, { addressIndex: i }).address.toLowerCase();
      expect(keys.address(i)).toBe(expected);
      expect(keys.account(i).address.toLowerCase()).toBe(expected);
    }
    expect(() => keys.address(-1)).toThrow();
  });

  it('generates a development mnemonic once and keeps it private in the data dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-keys-'));
    try {
      const first = loadOrCreateDevMnemonic(dir);
      const again = loadOrCreateDevMnemonic(dir);
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ mnemonic: first.mnemonic, created: false });
      expect(first.mnemonic.split(' ')).toHaveLength(12);
      expect(readFileSync(first.path, 'utf8').trim()).toBe(first.mnemonic);
      expect(statSync(first.path).mode & 0o077).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
    expect((await depositAddressOwners(t.db.kysely, 1)).size).toBe(users.length);
  });
});
