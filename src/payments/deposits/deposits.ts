// The deposits face: deposit addresses for users, the assets the chains carry (registered in the
// ledger at startup), and one scanner worker per configured chain.
import type { Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Metrics } from '../../ops/ops.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ChainReader, Hex } from '../../chain/chain.ts';
import { createEvmReader } from '../../chain/chain.ts';
import { createDepositKeys, type DepositKeys } from '../../chain/chain.ts';
import { ensureDepositAddress } from '../custody/deposit-addresses.ts';
import { assetSpecs, chainAssets, type ReceiveMode } from './deposit-rules.ts';
import { createDepositScanner, type DepositScanner, type DepositScannerDeps } from './deposit-scanner.ts';
import { selectCursor } from './deposit-store.ts';
import { createDepositRelease, type DepositRelease } from './deposit-release.ts';

export interface DepositsDeps {
  db: Db;
  config: Config;
  ledger: Ledger;
  clock: Clock;
  /** The accounts module's view of how a user receives coins. */
  receiveMode: (user_id: string, trx: Transaction<Database>) => Promise<ReceiveMode>;
  metrics?: Metrics;
  /** Invoices' extension points, passed to every scanner (see DepositScannerDeps). */
  extraOwners?: DepositScannerDeps['extraOwners'];
  onDepositChange?: DepositScannerDeps['onDepositChange'];
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** The platform's own addresses per chain (hot wallet): their payments to deposit addresses are not deposits. */
  platformAddresses?: (chain_id: number) => Hex[];
  /** The maintenance window blocking a chain now, or null (deposits at depth wait for its end). */
  maintenanceBlocking?: DepositScannerDeps['maintenanceBlocking'];
}

export type AddressResult = { result: 'ok'; chain_id: number; address: Hex; created: boolean } | { result: 'unknown_asset' } | { result: 'unavailable' };

export interface Deposits {
  keys: DepositKeys | null;
  readers: Map<number, ChainReader>;
  scanners: DepositScanner[];
  /** Releases deposits held for a frozen account on `account.unfrozen` (push release.worker() to platform.workers). */
  release: DepositRelease;
  addressFor(user_id: string, asset: string): Promise<AddressResult>;
}

/** Registers the configured assets in the ledger (idempotent; refuses a changed asset). */
export async function registerChainAssets(ledger: Ledger, config: Config): Promise<void> {
  const specs = assetSpecs(config.chains);
  if (specs.length) await ledger.ensureAssets(specs);
}

/** const deposits = createDeposits({ db, config, ledger, clock, receiveMode }); platform.workers.push(...deposits.scanners) */
export function createDeposits(deps: DepositsDeps): Deposits {
  const { db, config, clock } = deps;
  const keys = config.deposit_mnemonic ? createDepositKeys(config.deposit_mnemonic) : null;
  if (!keys && config.chains.length) deps.log?.('warn', 'SETTLE_DEPOSIT_MNEMONIC is not set: no deposit addresses can be issued');
  const readers = new Map(config.chains.map((c) => [c.chain_id, createEvmReader({ chain_id: c.chain_id, rpc_url: c.rpc_url })]));
  const assetChain = new Map(config.chains.flatMap((c) => chainAssets(c).map((a) => [a.code, c.chain_id] as const)));
  const release = createDepositRelease({ db, ledger: deps.ledger, clock, receiveMode: deps.receiveMode, ...(deps.onDepositChange ? { onDepositChange: deps.onDepositChange } : {}) });
  const scanners = config.chains.map((chain) =>
    createDepositScanner({
      db,
      ledger: deps.ledger,
      reader: readers.get(chain.chain_id)!,
      chain,
      clock,
      blocks_per_tick_max: config.limits.blocks_per_tick_max,
      receiveMode: deps.receiveMode,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.log ? { log: deps.log } : {}),
      ...(deps.extraOwners ? { extraOwners: deps.extraOwners } : {}),
      ...(deps.onDepositChange ? { onDepositChange: deps.onDepositChange } : {}),
      ...(deps.platformAddresses ? { platformAddresses: () => deps.platformAddresses!(chain.chain_id) } : {}),
      ...(deps.maintenanceBlocking ? { maintenanceBlocking: deps.maintenanceBlocking } : {}),
      releaseHeld: release.releaseUser,
    }),
  );
  return {
    keys,
    readers,
    scanners,
    release,
    async addressFor(user_id, asset) {
      const chain_id = assetChain.get(asset);
      if (chain_id === undefined) return { result: 'unknown_asset' };
      if (!keys) return { result: 'unavailable' };
      // The issue block: the head the scanner last saw (never above the real head), else the node's.
      let issued_at_block = (await selectCursor(db.kysely, chain_id))?.head ?? null;
      if (issued_at_block === null) {
        try {
          issued_at_block = await readers.get(chain_id)!.head();
        } catch {
          return { result: 'unavailable' };
        }
      }
      const r = await ensureDepositAddress(db, keys, { chain_id, user_id, issued_at_block }, clock);
      return { result: 'ok', chain_id, address: r.address.address, created: r.created };
    },
  };
}
