// What every part of a deposit scanner shares (deposit-scanner.ts is the worker; detection,
// reorg handling and release at depth are its parts): the scanner's dependencies, one context
// per scanner (its chain, assets, head sightings, the ledger accounts already ensured), the
// ledger accounts a deposit touches, ledger calls in chunks, and incidents raised for staff.
import type { Transaction } from 'kysely';
import { LIMITS, type ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput, type TransferResult } from '../../ledger/ledger.ts';
import type { BlockHeader, ChainReader, Hex, NativeTransfer, TokenTransfer } from '../../chain/chain.ts';
import { emitEvent } from '../../jobs/jobs.ts';
import type { Metrics } from '../../ops/ops.ts';
import { AssertionError } from '../../shared/assert.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { platformAccount } from '../custody/chart.ts';
import { chainAssets, type ChainAsset, type ReceiveMode } from './deposit-rules.ts';
import * as store from './deposit-store.ts';

/** Ledger transfers per createTransfersIn call (the ledger's own bound). */
const LEDGER_CHUNK_MAX = LIMITS.ledger_batch_max;

export type ScanLog = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface DepositScannerDeps {
  db: Db;
  ledger: Ledger;
  reader: ChainReader;
  chain: ChainConfigFile;
  clock?: Clock;
  blocks_per_tick_max: number;
  /** How the account receives coins (accounts module): credit, hold (frozen), refuse (closed). */
  receiveMode: (user_id: string, trx: Transaction<Database>) => Promise<ReceiveMode>;
  log?: ScanLog;
  /**
   * The platform's own addresses on this chain (the hot wallet): coins they send to deposit
   * addresses (the sweeper's gas top-ups) are internal movements, not deposits.
   */
  platformAddresses?: () => Hex[];
  /** Extension point (invoices): which of `addresses` this scanner also credits, address -> owner (an invoice's merchant). */
  extraOwners?: (ex: Db['kysely'], chain_id: number, addresses: readonly Hex[]) => Promise<Map<Hex, Owner>>;
  /** Extension point (invoices): told of deposits found or changed, inside the same transaction. */
  onDepositChange?: (trx: Transaction<Database>, deposit_ids: string[]) => Promise<void>;
  /**
   * The maintenance window blocking this chain now (global or chain:<id>), or null: deposits at
   * depth are then held (`maintenance`), not released, until a tick finds no window.
   */
  maintenanceBlocking?: (chain_id: number) => Promise<BlockingWindow | null>;
  /**
   * Releases a user's deposits held for a freeze if the account now receives normally (the
   * release module's releaseUser). Called at depth for deposits first seen while the account was
   * frozen: an unfreeze that came while they were still confirming has no event left to release them.
   */
  releaseHeld?: (trx: Transaction<Database>, user_id: string) => Promise<number>;
  metrics?: Metrics;
}

/** What a deposit held for maintenance shows: the window's end and its message in both languages. */
export interface BlockingWindow {
  ends_at_ms: number;
  message: string;
  message_zh: string | null;
}

/** Who an address's coins belong to; an invoice's address also names its invoice (payment kind `invoice`). */
export interface Owner {
  user_id: string;
  hd_index: number;
  invoice_id?: string;
}

/** A transfer read from the chain, before its block is checked. */
export type Seen = { kind: 'token'; t: TokenTransfer } | { kind: 'native'; t: NativeTransfer };

/** A transfer to one of our addresses, in a block checked against the headers read. */
export type Found = { kind: 'token'; t: TokenTransfer; header: BlockHeader } | { kind: 'native'; t: NativeTransfer; header: BlockHeader };

/** One scanner's state and dependencies, handed to each of its parts. */
export interface ScanContext {
  deps: DepositScannerDeps;
  db: Db;
  ledger: Ledger;
  reader: ChainReader;
  chain: ChainConfigFile;
  clock: Clock;
  chain_id: number;
  /** The chain's native coin, if configured; tokens by contract address. */
  native: ChainAsset | null;
  tokens: Map<Hex, ChainAsset>;
  tokenList: Hex[];
  /** When heads were first seen (block time is measured from sightings). */
  samples: Array<{ number: number; seen_at_ms: number }>;
  /** User and asset pairs whose deposit accounts this scanner has already ensured. */
  ensured: Set<string>;
  log: ScanLog;
}

export function scanContext(deps: DepositScannerDeps): ScanContext {
  const assets = chainAssets(deps.chain);
  const tokens = new Map(assets.filter((a) => a.token !== null).map((a) => [a.token!, a]));
  return {
    deps,
    db: deps.db,
    ledger: deps.ledger,
    reader: deps.reader,
    chain: deps.chain,
    clock: deps.clock ?? systemClock,
    chain_id: deps.chain.chain_id,
    native: assets.find((a) => a.token === null) ?? null,
    tokens,
    tokenList: [...tokens.keys()],
    samples: [],
    ensured: new Set<string>(),
    log: deps.log ?? (() => undefined),
  };
}

const USER_FLAGS = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };

export function userAccount(user_id: string, asset: string, kind: 'user_available' | 'user_held'): string {
  return ledgerAccountId('user', user_id, asset, kind);
}

/** Every ledger account a deposit may touch. */
export function depositAccountSpecs(user_id: string, asset: string): AccountSpec[] {
  return [
    { id: userAccount(user_id, asset, 'user_available'), asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: USER_FLAGS },
    { id: userAccount(user_id, asset, 'user_held'), asset, owner_type: 'user', owner_id: user_id, kind: 'user_held', flags: USER_FLAGS },
    platformAccount(asset, 'deposit_wallets'),
    platformAccount(asset, 'corrections'),
  ];
}

export function expectApplied(results: TransferResult[], what: string): void {
  for (const r of results) {
    if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`${what}: ledger refused ${r.id}: ${r.result}`);
  }
}

/** Ensures the deposit accounts of these users and assets, once per scanner, in chunks the ledger takes. */
export async function ensureAccounts(s: ScanContext, trx: Transaction<Database>, pairs: Array<{ user_id: string; asset: string }>): Promise<void> {
  const { ledger, ensured } = s;
  const specs: AccountSpec[] = [];
  for (const p of pairs) {
    const key = `${p.user_id}\u0000${p.asset}`;
    if (ensured.has(key)) continue;
    ensured.add(key);
    specs.push(...depositAccountSpecs(p.user_id, p.asset));
  }
  const unique = [...new Map(specs.map((x) => [x.id, x])).values()];
  for (let i = 0; i < unique.length; i += LEDGER_CHUNK_MAX) await ledger.ensureAccounts(unique.slice(i, i + LEDGER_CHUNK_MAX), trx);
}

/** Applies ledger transfers in chunks; a refusal is a broken invariant (`exists` is a replay). */
export async function applyTransfers(s: ScanContext, trx: Transaction<Database>, batch: TransferInput[], what: string): Promise<void> {
  const { ledger } = s;
  for (let i = 0; i < batch.length; i += LEDGER_CHUNK_MAX) expectApplied(await ledger.createTransfersIn(trx, batch.slice(i, i + LEDGER_CHUNK_MAX)), what);
}

/** Records an incident for staff (once per subject) with its outbox event, in trx. */
export async function raiseIncident(s: ScanContext, trx: Transaction<Database>, kind: string, subject_type: string, subject_id: string, details: Record<string, unknown>): Promise<void> {
  const { clock, chain_id, log } = s;
  const id = newId('inc', clock.now_ms());
  const created = await store.insertIncident(trx, { id, chain_id, kind, subject_type, subject_id, details: JSON.stringify(details), created_at_ms: clock.now_ms() });
  if (created) await emitEvent(trx, { type: `chain.incident.${kind}`, aggregate_type: 'chain_incident', aggregate_id: id, payload: { chain_id, kind, subject_type, subject_id, ...details } }, clock);
  log('error', `chain incident: ${kind}`, { chain_id, subject_id, ...details });
}
