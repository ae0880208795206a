// Goal: the withdrawal address rules refuse exactly what they should, with a reason. Method:
// pure unit tests over known EIP-55 vectors (from the EIP itself) and their corruptions.
import { describe, expect, it } from 'vitest';
import { checkAddressFormat, checkWithdrawalAddress } from './address-rules.ts';

const VALID = ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb'];

describe('address rules', () => {
  it('accepts checksummed, all-lower and all-upper addresses, returning lower case', () => {
    for (const a of VALID) {
      expect(checkAddressFormat(a)).toEqual({ ok: true, address: a.toLowerCase() });
      expect(checkAddressFormat(a.toLowerCase()).ok).toBe(true);
      expect(checkAddressFormat(`0x${a.slice(2).toUpperCase()}`).ok).toBe(true);
    }
  });

  it('refuses a mixed-case address whose checksum is wrong', () => {
    const broken = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'; // last letter case flipped
    expect(checkAddressFormat(broken)).toMatchObject({ ok: false, code: 'invalid_address', reason: 'bad_checksum' });
  });

  it('refuses malformed text and the zero address', () => {
    for (const bad of ['', '0x', '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd', '0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed']) {
      expect(checkAddressFormat(bad)).toMatchObject({ ok: false, reason: 'malformed' });
    }
    expect(checkAddressFormat('0x0000000000000000000000000000000000000000')).toMatchObject({ ok: false, reason: 'zero_address' });
  });

  it('refuses the platform’s own deposit addresses unless the transfer is internal', () => {
    const a = VALID[0]!;
    expect(checkWithdrawalAddress(a, { isOwnDepositAddress: true })).toMatchObject({ ok: false, code: 'invalid_address', reason: 'own_deposit_address' });
    expect(checkWithdrawalAddress(a, { isOwnDepositAddress: true, internal: true }).ok).toBe(true);
    expect(checkWithdrawalAddress(a, { isOwnDepositAddress: false }).ok).toBe(true);
  });
});
