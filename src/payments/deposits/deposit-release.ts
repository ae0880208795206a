// Deposits held for a frozen account are released by themselves when the account is unfrozen:
// a consumer of the outbox (its own cursor, the same consumeOutbox mechanism transfers use)
// reacts to `account.unfrozen` and, inside the event's transaction, releases the user's held
// deposits in chunks of RELEASE_CHUNK_MAX: per chunk one conditional UPDATE claims the deposits
// still held for the freeze (marked credited), one ledger call moves their amounts from the held
// balance to the available one (transfer ids derived from each deposit, so a replay is `exists`),
// their payments move in bulk (deposit-payments.ts: timeline + outbox) and invoices are told once.
// Only deposits still held for the freeze are selected and claimed, so a second pass finds nothing.
// A user with 500 held deposits costs one transaction and about 7 statements plus one ledger call
// per 100 deposits, where it used to cost about 10 statements and a ledger call per deposit.
import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { consumeEventsOf } from '../../jobs/jobs.ts';
import { assert, AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { depositTransferIds, type ReceiveMode } from './deposit-rules.ts';
import { transitionPaymentsBulk } from './deposit-payments.ts';
import { depositAccountSpecs } from './deposit-scan-context.ts';
import { claimFrozenHeld, selectFrozenHeld, type DepositRow } from './deposit-store.ts';
import { intervalWorker } from '../../jobs/jobs.ts';

export const DEPOSIT_RELEASE_CONSUMER = 'payments.deposit_release';
const RELEASE_BATCH_MAX = 100;
const HELD_PER_USER_MAX = 500;
/** Deposits a ledger call, a claiming UPDATE and a bulk payment transition take at once. */
const RELEASE_CHUNK_MAX = 100;

export interface DepositReleaseDeps {
  db: Db;
  ledger: Ledger;
  clock: Clock;
  receiveMode: (user_id: string, trx: Transaction<Database>) => Promise<ReceiveMode>;
  onDepositChange?: (trx: Transaction<Database>, deposit_ids: string[]) => Promise<void>;
  /** Held deposits read per page (default HELD_PER_USER_MAX); pages follow until none is left. */
  held_page_max?: number;
}

/** The ledger transfer that moves an unfrozen deposit from held to available. */
export function unfreezeTransferId(d: Pick<DepositRow, 'chain_id' | 'tx_hash' | 'log_index' | 'generation'>): string {
  return `${depositTransferIds(d.chain_id, d.tx_hash, d.log_index, d.generation).post}:unfreeze`;
}

/**
 * Releases one chunk of a user's held deposits (at most RELEASE_CHUNK_MAX), in the order given
 * (chain order: the payments' outbox events follow it): the deposits still held for the freeze
 * are claimed by one conditional UPDATE, their amounts move from held to available in one
 * ledger call, their payments move in bulk (timeline + outbox) and invoices are told once.
 */
async function releaseChunk(deps: DepositReleaseDeps, trx: Transaction<Database>, user_id: string, chunk: DepositRow[]): Promise<number> {
  const { ledger, clock } = deps;
  const claimed = await claimFrozenHeld(
    trx,
    chunk.map((d) => d.id),
    clock.now_ms(),
  );
  const ready = chunk.flatMap((d) => claimed.get(d.id) ?? []);
  if (ready.length === 0) return 0;
  assert(ready.every((d) => d.user_id === user_id), 'releaseChunk: one user a chunk');
  for (const asset of new Set(ready.map((d) => d.asset))) await ledger.ensureAccounts(depositAccountSpecs(user_id, asset), trx);
  const results = await ledger.createTransfersIn(
    trx,
    ready.map((d) => ({
      id: unfreezeTransferId(d),
      debit_account_id: ledgerAccountId('user', user_id, d.asset, 'user_held'),
      credit_account_id: ledgerAccountId('user', user_id, d.asset, 'user_available'),
      amount_minor: d.amount_minor,
      asset: d.asset,
      reason: 'deposit.release_unfrozen',
      reference: d.id,
    })),
  );
  for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`release of deposit ${r.id}: ledger refused: ${r.result}`);
  // A held deposit's payment is held, which may go to credited; a payment that may not (missing,
  // or final) is a broken invariant, and transitionPaymentsBulk throws rather than skip it.
  await transitionPaymentsBulk(
    trx,
    ready.map((d) => ({ id: d.payment_id, change: { status: 'credited', hold: null } })),
    clock,
  );
  await deps.onDepositChange?.(
    trx,
    ready.map((d) => d.id),
  ); // extension point (invoices)
  return ready.length;
}

/** const release = createDepositRelease({ db, ledger, clock, receiveMode }); await release.tick() */
export function createDepositRelease(deps: DepositReleaseDeps) {
  const { db, clock } = deps;
  const page_max = deps.held_page_max ?? HELD_PER_USER_MAX;

  const service = {
    /** Releases a user's deposits held for a freeze, if the account now receives normally; returns how many. */
    async releaseUser(trx: Transaction<Database>, user_id: string): Promise<number> {
      if ((await deps.receiveMode(user_id, trx)) !== 'credit') return 0;
      // Pages of HELD_PER_USER_MAX until none is left: a user with more held deposits than one
      // page gets them all with this one unfreeze (a page that releases nothing ends the loop).
      let n = 0;
      for (;;) {
        const held = await selectFrozenHeld(trx, user_id, page_max);
        let released = 0;
        for (let i = 0; i < held.length; i += RELEASE_CHUNK_MAX) released += await releaseChunk(deps, trx, user_id, held.slice(i, i + RELEASE_CHUNK_MAX));
        n += released;
        if (held.length < page_max || released === 0) return n;
      }
    },

    /** One pass over the outbox; returns events read. */
    async tick(): Promise<number> {
      return consumeEventsOf(db, DEPOSIT_RELEASE_CONSUMER, 'account.unfrozen', RELEASE_BATCH_MAX, clock.now_ms(), (trx, p: { user_id: string }) => service.releaseUser(trx, p.user_id));
    },

    /** A Worker for platform.workers: polls the outbox for unfreezes. */
    worker(poll_ms = 1000) {
      return intervalWorker('deposits.release', poll_ms, () => service.tick());
    },
  };
  return service;
}

export type DepositRelease = ReturnType<typeof createDepositRelease>;
