// Destination address rules for withdrawals (pure). An address is refused before anything moves
// when it is malformed, carries a wrong EIP-55 checksum (mixed case means "checksummed"; all
// lower or all upper case carries no checksum and is accepted), is the zero address, or is one of
// the platform's own deposit addresses (coins sent there would come back as a deposit; an
// internal transfer is the right tool, so only internal transfers may name one), or one of the
// platform's invoice addresses (the scanner passes over the hot wallet's own transfers, so the
// coins would leave custody and never pay the invoice: docs/decisions/withdrawals-to-own-addresses.md).
import { getAddress } from 'viem';
import type { Hex } from './chain-types.ts';

export type AddressRefusal = 'malformed' | 'bad_checksum' | 'zero_address' | 'own_deposit_address' | 'invoice_address';

export type AddressCheck = { ok: true; address: Hex } | { ok: false; code: 'invalid_address'; reason: AddressRefusal; detail: string };

export interface AddressContext {
  /** Whether the lower-case address is one of the platform's deposit addresses. */
  isOwnDepositAddress: boolean;
  /** Whether the lower-case address is one of the platform's invoice addresses. */
  isInvoiceAddress?: boolean;
  /** Internal transfers may name an own deposit address. */
  internal?: boolean;
}

const HEX40 = /^0x[0-9a-fA-F]{40}$/;
const ZERO = '0x0000000000000000000000000000000000000000';

const DETAILS: Record<AddressRefusal, string> = {
  malformed: 'The address must be 0x followed by 40 hexadecimal digits.',
  bad_checksum: 'The address has mixed case but its EIP-55 checksum is wrong: check it for a typo.',
  zero_address: 'The zero address burns whatever is sent to it.',
  own_deposit_address: 'This is a Settle deposit address: use an internal transfer instead.',
  invoice_address: 'This is the address of a Settle invoice: coins sent there from Settle would not pay it. Pay the merchant from your balance with an internal transfer instead, or pay the invoice from an outside wallet.',
};

function refuse(reason: AddressRefusal): AddressCheck {
  return { ok: false, code: 'invalid_address', reason, detail: DETAILS[reason] };
}

/** The syntactic checks alone: checkAddressFormat('0xAbC…') -> { ok, address (lower case) } */
export function checkAddressFormat(text: string): AddressCheck {
  if (typeof text !== 'string' || !HEX40.test(text)) return refuse('malformed');
  const body = text.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && getAddress(text) !== text) return refuse('bad_checksum');
  const lower = text.toLowerCase() as Hex;
  if (lower === ZERO) return refuse('zero_address');
  return { ok: true, address: lower };
}

/** checkWithdrawalAddress('0x…', { isOwnDepositAddress: false }) -> { ok: true, address } */
export function checkWithdrawalAddress(text: string, ctx: AddressContext): AddressCheck {
  const format = checkAddressFormat(text);
  if (!format.ok) return format;
  if (ctx.isOwnDepositAddress && !ctx.internal) return refuse('own_deposit_address');
  if (ctx.isInvoiceAddress) return refuse('invoice_address');
  return format;
}
