// The ledger's face: the only file (with ledger-types.ts) other modules import.
// Implemented by the ledger issue (#3). Signatures here are the contract other modules code to.
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { AccountSpec, LedgerAccount, OwnerBalance, Transfer, TransferInput, TransferResult } from './ledger-types.ts';

export interface Ledger {
  /** Creates the accounts that do not exist yet (idempotent). */
  ensureAccounts(specs: AccountSpec[], trx?: Transaction<Database>): Promise<void>;
  /**
   * Applies a batch inside the caller's transaction, so that a state change, its ledger
   * transfers and its outbox rows commit together. One result per input, in order.
   */
  createTransfersIn(trx: Transaction<Database>, batch: TransferInput[]): Promise<TransferResult[]>;
  /** Applies a batch through group commit (many callers' batches share one transaction). */
  createTransfers(batch: TransferInput[]): Promise<TransferResult[]>;
  getAccounts(ids: string[], trx?: Transaction<Database>): Promise<LedgerAccount[]>;
  getTransfers(ids: string[], trx?: Transaction<Database>): Promise<Transfer[]>;
  /** available / pending_in / pending_out / held for one owner, per asset. */
  balancesOf(owner_type: 'user' | 'platform', owner_id: string, assets: string[], trx?: Transaction<Database>): Promise<OwnerBalance[]>;
  /** An account's transfers, newest first, cursor-paginated. */
  history(account_id: string, opts: { limit: number; cursor?: string | null }): Promise<{ data: Transfer[]; next_cursor: string | null }>;
}
