// A withdrawal the chain says nothing definite about (issue 16): the hot wallet's node says the
// nonce is used, but no receipt of ours is found. A lagging or load-balanced RPC answers exactly
// so while the coins are already out, so the withdrawal is `unknown`, never `failed`: nothing is
// voided, the job keeps looking, and staff get an incident until a receipt settles it.
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { TxView } from '../../chain/chain.ts';
import { newId } from '../../shared/ids.ts';
import { resolveIncident, upsertOpenIncident } from '../custody/reconcile-store.ts';
import type { transitionPayment } from '../payments.ts';
import type { WithdrawalRow } from './withdrawal-store.ts';
import { move, type WithdrawalContext } from './withdrawal-moves.ts';

/** The incident key of a withdrawal in `unknown`: unknownIncidentKey('pay_1') -> 'withdrawal_unknown:pay_1' */
export function unknownIncidentKey(withdrawal_id: string): string {
  return `withdrawal_unknown:${withdrawal_id}`;
}

type PaymentChain = NonNullable<Parameters<typeof transitionPayment>[2]['chain']>;

/** Moves the withdrawal to `unknown` (once) and opens its incident for staff, in the job's transaction. */
export async function markUnknown(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow, view: TxView, chain: PaymentChain): Promise<void> {
  if (w.status === 'unknown') return;
  const now = c.clock.now_ms();
  const reason = `nonce ${view.nonce} used on chain, no receipt of ${view.hash} found`;
  await move(c, trx, w, 'unknown', { tx_hash: view.hash }, reason, { status: 'unknown', chain });
  await upsertOpenIncident(trx, {
    id: newId('inc', now), key: unknownIncidentKey(w.id), chain_id: w.chain_id, asset: w.asset, kind: 'withdrawal_unknown', subject: w.id,
    expected_minor: w.amount_minor, actual_minor: null, opened_at_ms: now,
    details: JSON.stringify({
      withdrawal_id: w.id, user_id: w.user_id, chain_tx_id: view.id, nonce: view.nonce, hash: view.hash, to_address: w.to_address,
      what: 'The node says the nonce is used but no receipt of ours is found: the coins may be out. Nothing is voided; check the nonce on a block explorer.',
    }),
  });
}

/** Leaving `unknown` (a receipt was found): its incident is resolved in the same transaction. */
export async function settleUnknown(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow): Promise<void> {
  if (w.status === 'unknown') await resolveIncident(trx, unknownIncidentKey(w.id), c.clock.now_ms());
}
