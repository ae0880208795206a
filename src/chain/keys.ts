// Deposit-address keys: BIP-44 (m/44'/60'/0'/0/i) from the deposit mnemonic, one index per user
// (kept in deposit_hd_indexes, never shared), the same address for that user on every EVM chain.
// The mnemonic comes from SETTLE_DEPOSIT_MNEMONIC; in development it is generated once and kept
// in the data dir (0600), so a restart finds the same addresses.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toHex } from 'viem';
import { english, generateMnemonic, hdKeyToAccount, mnemonicToAccount, privateKeyToAddress, type HDAccount, type HDKey } from 'viem/accounts';
import { assert } from '../shared/assert.ts';
import type { Hex } from './chain-types.ts';

/** The highest BIP-32 non-hardened index. */
export const HD_INDEX_MAX = 0x7fffffff;
export const DEPOSIT_PATH_PREFIX = "m/44'/60'/0'/0";
/** Invoice addresses (one per invoice) use their own BIP-44 account, so they never collide with users'. */
export const INVOICE_PATH_PREFIX = "m/44'/60'/1'/0";

export interface DepositKeys {
  /** depositKeys.address(7) -> '0x…' (lower-case), cheap: derived from the cached parent key. */
  address(index: number): Hex;
  /** The signing account of a deposit address (the sweeper moves coins out with it). */
  account(index: number): HDAccount;
}

/** const keys = createDepositKeys(mnemonic); keys.address(0) */
export function createDepositKeys(mnemonic: string, path_prefix: string = DEPOSIT_PATH_PREFIX): DepositKeys {
  // The seed (PBKDF2, slow) and the hardened part of the path are computed once; each address
  // is then one non-hardened child derivation.
  const parent: HDKey = mnemonicToAccount(mnemonic, { path: path_prefix as `m/44'/60'/${string}` }).getHdKey();
  const cache = new Map<number, Hex>();
  const check = (index: number) => assert(Number.isInteger(index) && index >= 0 && index <= HD_INDEX_MAX, `bad HD index ${index}`);
  return {
    address(index) {
      check(index);
      let a = cache.get(index);
      if (!a) {
        const child = parent.deriveChild(index);
        a = privateKeyToAddress(toHex(child.privateKey!)).toLowerCase() as Hex;
        if (cache.size < 100_000) cache.set(index, a);
      }
      return a;
    },
    account(index) {
      check(index);
      return hdKeyToAccount(parent, { path: `m/${index}` as `m/44'/60'/${string}` });
    },
  };
}

/**
 * The deposit mnemonic: the configured one, or (development only) one generated on first use and
 * kept at <data dir>/deposit-mnemonic.txt.
 */
export function loadOrCreateDevMnemonic(data_dir: string): { mnemonic: string; created: boolean; path: string } {
  const path = join(data_dir, 'deposit-mnemonic.txt');
  if (existsSync(path)) return { mnemonic: readFileSync(path, 'utf8').trim(), created: false, path };
  mkdirSync(dirname(path), { recursive: true });
  const mnemonic = generateMnemonic(english);
  writeFileSync(path, `${mnemonic}\n`, { mode: 0o600, flag: 'wx' });
  return { mnemonic, created: true, path };
}
