// The sweeper: consolidates coins sitting on users' deposit addresses into the hot wallet when
// it is worth the gas, and records each sweep in the ledger as an internal movement.
//
// planSweeps() reads balances of users' deposit addresses and invoices' addresses (both are
// derived keys: m/44'/60'/0'/0/i and m/44'/60'/1'/0/i), at most addresses_per_plan_max per call,
// walking a rotation saved in `sweep_cursors`: users' addresses in address order, then invoices',
// then users' again. Every address is therefore looked at once every ceil(addresses / limit)
// plans, however many users and invoices there are, and a restart continues where the last plan
// stopped. It records one sweep per (address, asset) at a time; its id derives from (chain,
// address, asset, the address's nonce, the number of earlier failed sweeps there), so two
// sweepers, or one run twice, plan the same sweep once. A durable job (`chain.sweep.advance`) then drives it:
//   ERC-20: the hot wallet tops the address up with gas (a hot-wallet transaction, nonce from the
//           database) -> the deposit key signs token.transfer(hot wallet, amount) -> confirmed.
//   native: the deposit key sends balance − fees to the hot wallet (fees fixed in advance).
// The deposit address's transactions go through the same Sender as the hot wallet's (database
// nonces, signed bytes recorded before broadcast), so a crash never signs a second transfer.
// At the end, in one database transaction with the sweep's status: the asset moves
// deposit_wallets -> hot_wallet, the top-up hot_wallet -> deposit_wallets (native), and every gas
// fee paid is booked to the `gas` expense account. A sweep whose gas top-up fails still books
// the top-up's fee (the hot wallet paid it).
//
// Only settled coins are swept. A deposit is credited at its confirmation depth and voided if a
// reorg removes it before; coins swept before that depth could vanish from under a sweep already
// booked (the ledger's hot wallet above the chain, or a void with nothing left at the address).
// So a plan reads every balance at the last block the deposit scanner has scanned (its cursor),
// not at the head: coins of deposits the scanner has not seen yet are not counted. And it passes
// over any address with a deposit still short of its depth (`addressesWithUnsettledDeposits`):
// all of the address's coins stay until each of its deposits is final (credited, or held — a held
// deposit is booked in the ledger and final on chain). Gating the whole address is simpler than
// sweeping only the part backed by final deposits (which needs per-address sums of deposits,
// sweeps, top-ups and fees) and still correct: a busy address waits a few blocks at most. See
// docs/decisions/0009-hot-wallet-nonces-and-sweeps.md.
import type { PublicClient } from 'viem';
import type { Db } from '../../db/database.ts';
import type { JobContext, JobRunner } from '../../jobs/jobs.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Clock } from '../../shared/clock.ts';
import { parseAmount } from '../../shared/money.ts';
import { addressSenders, type AddressSenders, type DepositKeys, type Hex, type Sender } from '../../chain/chain.ts';
import { intervalWorker, unfenced, type IntervalWorker, type TickAround } from '../../jobs/jobs.ts';
import { advanceSweep } from './sweep-advance.ts';
import { planSweeps } from './sweep-plan.ts';
import { SWEEP_JOB } from './sweep-rules.ts';
import { getSweep, type SweepRow } from './sweep-store.ts';


export type { SweepRow } from './sweep-store.ts';

export interface SweepAsset {
  code: string;
  /** null: the chain's native coin. */
  contract: Hex | null;
  /** Sweep only balances at or above this (smallest units). */
  sweep_min_minor: bigint;
}

export interface SweeperDeps {
  db: Db;
  clock: Clock;
  ledger: Ledger;
  chain_id: number;
  client: PublicClient;
  hot: Sender;
  keys: DepositKeys;
  /** Keys of invoice addresses (createDepositKeys(mnemonic, INVOICE_PATH_PREFIX)); absent: invoice addresses are not swept. */
  invoice_keys?: DepositKeys | null;
  /** The native coin; balances below sweep_min_minor (e.g. gas left over from a top-up) stay put. */
  native: { code: string; sweep_min_minor: bigint } | null;
  tokens: SweepAsset[];
  /** How soon the job looks again; default 1 s. */
  poll_ms?: number;
  /** Addresses read per plan (each costs a few RPC calls); default 500. */
  addresses_per_plan_max?: number;
}

/** What planning and advancing share for one chain: the deps, the native coin's code, and the receiving addresses' senders. */
export interface SweepContext {
  deps: SweeperDeps;
  db: Db;
  clock: Clock;
  ledger: Ledger;
  client: PublicClient;
  hot: Sender;
  chain_id: number;
  native: string | null;
  senderFor: AddressSenders;
}

export interface Sweeper {
  /** Looks at the next addresses_per_plan_max receiving addresses of the rotation and plans the sweeps worth doing. */
  planSweeps(): Promise<SweepRow[]>;
  advance(id: string, ctx: Pick<JobContext, 'commit'>): Promise<void>;
  get(id: string): Promise<SweepRow | undefined>;
}

/** const sweeper = createSweeper({ db, clock, ledger, chain_id, client, hot, keys, native, tokens }) */
export function createSweeper(deps: SweeperDeps): Sweeper {
  const { db, clock, ledger, client, hot, chain_id } = deps;
  // A sweep row names its address and HD index; the sender finds which key family derived it.
  const families = deps.invoice_keys ? [deps.keys, deps.invoice_keys] : [deps.keys];
  const c: SweepContext = { deps, db, clock, ledger, client, hot, chain_id, native: deps.native?.code ?? null, senderFor: addressSenders({ chain_id, client, db, clock, families }) };
  return { planSweeps: () => planSweeps(c), advance: (id, ctx) => advanceSweep(c, id, ctx), get: (id) => getSweep(db.kysely, id) };
}

/** Registers the sweep job for one or several chains (the payload names the chain). */
export function registerSweepJobs(jobs: JobRunner, sweepers: Sweeper | ReadonlyMap<number, Sweeper>): void {
  jobs.register(SWEEP_JOB, async (payload, ctx) => {
    const { id, chain_id } = payload as { id: string; chain_id?: number };
    const sweeper = 'advance' in sweepers ? sweepers : chain_id !== undefined ? sweepers.get(chain_id) : undefined;
    if (!sweeper) throw new Error(`no sweeper for chain ${chain_id}`);
    await sweeper.advance(id, ctx);
  });
}

/**
 * A background loop that plans sweeps every interval_ms (each plan is bounded by
 * addresses_per_plan_max; the jobs it enqueues do the work).
 * platform.workers.push(sweepWorker([...sweepers.values()], 60_000))
 */
export function sweepWorker(sweepers: readonly Sweeper[], interval_ms: number, onError: (e: unknown) => void = () => undefined, around: TickAround = unfenced): IntervalWorker {
  return intervalWorker('sweeper', interval_ms, () =>
    around(async () => {
      for (const s of sweepers) await s.planSweeps().catch(onError);
    }),
  );
}

/**
 * One sweeper per chain that has a hot wallet, from the chains' configuration: an asset is swept
 * from its min_deposit up (1 whole unit when none is set).
 * const sweepers = createSweepers({ chains: config.chains, hotWallets, keys, db, clock, ledger, client: createEvmClient })
 */
export function createSweepers(opts: {
  chains: ReadonlyArray<{ chain_id: number; rpc_url: string; poll_interval_ms?: number | undefined; native?: { symbol: string; decimals: number; min_deposit?: string | undefined } | undefined; tokens?: ReadonlyArray<{ symbol: string; address: string; decimals: number; min_deposit?: string | undefined }> | undefined }>;
  hotWallets: ReadonlyMap<number, Sender>;
  keys: DepositKeys;
  /** Invoice-address keys; with them the sweepers also empty invoices' addresses. */
  invoice_keys?: DepositKeys | null;
  db: Db;
  clock: Clock;
  ledger: Ledger;
  client: (chain: { chain_id: number; rpc_url: string }) => PublicClient;
  /** Addresses read per plan and chain; default 500. */
  addresses_per_plan_max?: number;
}): Map<number, Sweeper> {
  const minOf = (decimals: number, min?: string) => {
    const parsed = min ? parseAmount(min, decimals) : null;
    return parsed?.ok ? parsed.amount_minor : 10n ** BigInt(decimals);
  };
  const out = new Map<number, Sweeper>();
  for (const c of opts.chains) {
    const hot = opts.hotWallets.get(c.chain_id);
    if (!hot) continue;
    out.set(
      c.chain_id,
      createSweeper({
        db: opts.db, clock: opts.clock, ledger: opts.ledger, chain_id: c.chain_id, client: opts.client(c), hot, keys: opts.keys, invoice_keys: opts.invoice_keys ?? null,
        native: c.native ? { code: c.native.symbol, sweep_min_minor: minOf(c.native.decimals, c.native.min_deposit) } : null,
        tokens: (c.tokens ?? []).map((t) => ({ code: t.symbol, contract: t.address.toLowerCase() as Hex, sweep_min_minor: minOf(t.decimals, t.min_deposit) })),
        ...(c.poll_interval_ms ? { poll_ms: c.poll_interval_ms } : {}),
        ...(opts.addresses_per_plan_max ? { addresses_per_plan_max: opts.addresses_per_plan_max } : {}),
      }),
    );
  }
  return out;
}
