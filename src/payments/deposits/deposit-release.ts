// Deposits held for a frozen account are released by themselves when the account is unfrozen:
// a consumer of the outbox (its own cursor, the same consumeOutbox mechanism transfers use)
// reacts to `account.unfrozen` and, per deposit, in one transaction moves the amount from the
// user's held balance to the available one (transfer id derived from the deposit, so a replay
// is `exists`), marks the deposit credited, moves its payment (timeline + outbox) and tells
// invoices. A deposit is selected only while it is still held, so a second pass finds nothing.
import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId } from '../../ledger/ledger-types.ts';
import { consumeOutbox, type OutboxRow } from '../../notify/webhook-outbox.ts';
import { AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { transitionPayment } from '../payments.ts';
import { depositTransferIds, type ReceiveMode } from './deposit-rules.ts';
import { depositAccountSpecs } from './deposit-scanner.ts';
import { selectDeposit, selectFrozenHeld, updateDeposit, type DepositRow } from './deposit-store.ts';
import { intervalWorker } from '../../jobs/interval-worker.ts';

export const DEPOSIT_RELEASE_CONSUMER = 'payments.deposit_release';
const RELEASE_BATCH_MAX = 100;
const HELD_PER_USER_MAX = 500;

export interface DepositReleaseDeps {
  db: Db;
  ledger: Ledger;
  clock: Clock;
  receiveMode: (user_id: string, trx: Transaction<Database>) => Promise<ReceiveMode>;
  onDepositChange?: (trx: Transaction<Database>, deposit_ids: string[]) => Promise<void>;
}

/** The ledger transfer that moves an unfrozen deposit from held to available. */
export function unfreezeTransferId(d: Pick<DepositRow, 'chain_id' | 'tx_hash' | 'log_index' | 'generation'>): string {
  return `${depositTransferIds(d.chain_id, d.tx_hash, d.log_index, d.generation).post}:unfreeze`;
}

/** const release = createDepositRelease({ db, ledger, clock, receiveMode }); await release.tick() */
export function createDepositRelease(deps: DepositReleaseDeps) {
  const { db, ledger, clock } = deps;

  async function releaseOne(trx: Transaction<Database>, d: DepositRow): Promise<boolean> {
    const fresh = await selectDeposit(trx, d.id);
    if (!fresh || fresh.status !== 'held' || fresh.hold_reason !== 'account_frozen' || fresh.credit_kind !== 'user_held' || fresh.released_at_ms === null || fresh.orphaned !== 0) return false;
    await ledger.ensureAccounts(depositAccountSpecs(d.user_id, d.asset), trx);
    const results = await ledger.createTransfersIn(trx, [
      {
        id: unfreezeTransferId(fresh),
        debit_account_id: ledgerAccountId('user', d.user_id, d.asset, 'user_held'),
        credit_account_id: ledgerAccountId('user', d.user_id, d.asset, 'user_available'),
        amount_minor: fresh.amount_minor,
        asset: d.asset,
        reason: 'deposit.release_unfrozen',
        reference: d.id,
      },
    ]);
    for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`release of deposit ${d.id}: ledger refused: ${r.result}`);
    // credit_kind keeps naming the account the deposit's own transfer credited (reconciliation
    // checks it); a reversal of a credited deposit takes the coins from the available balance.
    await updateDeposit(trx, d.id, { status: 'credited', hold_reason: null, updated_at_ms: clock.now_ms() });
    await transitionPayment(trx, d.payment_id, { status: 'credited', hold: null }, clock);
    await deps.onDepositChange?.(trx, [d.id]); // extension point (invoices)
    return true;
  }

  const service = {
    /** Releases a user's deposits held for a freeze, if the account now receives normally; returns how many. */
    async releaseUser(trx: Transaction<Database>, user_id: string): Promise<number> {
      if ((await deps.receiveMode(user_id, trx)) !== 'credit') return 0;
      let n = 0;
      for (const d of await selectFrozenHeld(trx, user_id, HELD_PER_USER_MAX)) if (await releaseOne(trx, d)) n++;
      return n;
    },

    /** One pass over the outbox; returns events read. */
    async tick(): Promise<number> {
      return consumeOutbox(db, DEPOSIT_RELEASE_CONSUMER, RELEASE_BATCH_MAX, clock.now_ms(), async (trx, event: OutboxRow) => {
        if (event.type !== 'account.unfrozen') return;
        const { user_id } = JSON.parse(event.payload) as { user_id: string };
        await service.releaseUser(trx, user_id);
      });
    },

    /** A Worker for platform.workers: polls the outbox for unfreezes. */
    worker(poll_ms = 1000) {
      return intervalWorker('deposits.release', poll_ms, () => service.tick());
    },
  };
  return service;
}

export type DepositRelease = ReturnType<typeof createDepositRelease>;
