// Goal: deposit addresses are BIP-44 addresses of the deposit mnemonic, and the development
// mnemonic is generated once and kept private. Method: compare with viem's own mnemonicToAccount.
// (Issuing addresses to users is custody's: payments/custody/deposit-addresses.test.ts.)
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_TEST_MNEMONIC } from '../../test/helpers/anvil.ts';
import { createDepositKeys, loadOrCreateDevMnemonic } from './keys.ts';

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
