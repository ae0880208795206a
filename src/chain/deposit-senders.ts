// Senders for receiving addresses: a sweep signs with the HD key of the deposit or invoice address
// it empties. The address and its index name the key; which family (users' or invoices') derived
// it is found by deriving the address again, so no caller has to say.
import { toHex, type PublicClient } from 'viem';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import type { Hex } from './chain-types.ts';
import { Sender } from './hot-wallet.ts';
import type { DepositKeys } from './keys.ts';

/** The Sender of a receiving address at an HD index (one per address, kept for the process's life). */
export type AddressSenders = (address: string, index: number) => Sender;

/**
 * const senderFor = addressSenders({ chain_id, client, db, clock, families: [userKeys, invoiceKeys] });
 * senderFor('0xab…', 7).prepare(intent)
 */
export function addressSenders(opts: { chain_id: number; client: PublicClient; db: Db; clock: Clock; families: ReadonlyArray<DepositKeys> }): AddressSenders {
  const senders = new Map<string, Sender>();
  const keysFor = (address: string, index: number): DepositKeys => {
    const keys = opts.families.find((k) => k.address(index) === address.toLowerCase());
    if (!keys) throw new Error(`sweep: ${address} is not derived at index ${index} by any key family the sweeper holds`);
    return keys;
  };
  return (address, index) => {
    let s = senders.get(address.toLowerCase());
    if (!s) {
      const pk = toHex(keysFor(address, index).account(index).getHdKey().privateKey!) as Hex;
      s = new Sender({ chain_id: opts.chain_id, client: opts.client, private_key: pk, db: opts.db, clock: opts.clock });
      senders.set(address.toLowerCase(), s);
    }
    return s;
  };
}
