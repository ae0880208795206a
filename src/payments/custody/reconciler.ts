// The reconciler: proves per chain and asset that every deposit seen on chain is accounted for in
// the ledger (credited + held + pending), that the ledger itself balances (the ledger's own
// verifyLedger, through its face), and — as a check from outside our database — that every
// deposit address holds on chain exactly what our records say — and custody: the hot wallet's
// ledger balance equals its balance on chain (in-flight transactions counted from their receipts),
// the ledger's deposit_wallets equals what our receiving addresses hold, and custody assets cover
// what the platform owes (docs/decisions/0006-custody-accounting.md). Each difference becomes an
// incident: a log line, the `settle_reconcile_discrepancies` gauge and a row in
// reconcile_incidents (one open row per key; rows not found again are resolved).
//
// It runs as a platform worker (every interval_ms, one run at a time) and on demand
// (`settle reconcile`). Work per run is bounded by addresses_max per chain and by pages.
import type { PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { verifyLedgerSnapshot, type Ledger } from '../../ledger/ledger.ts';
import type { Metrics } from '../../ops/ops.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { unfenced, type TickAround } from '../../jobs/jobs.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { custodyProblems, discrepancyKey, emptySummary, identityProblem, type AssetSummary, type Discrepancy } from './reconcile-rules.ts';
import * as store from './reconcile-store.ts';
import { checkHotWallet, checkSolvency } from './reconcile-custody.ts';
import { checkAddresses, checkDeposits } from './reconcile-deposits.ts';

export const ERC20_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'a', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const;

export interface ReconcileDeps {
  db: Db;
  ledger: Ledger;
  chains: readonly ChainConfigFile[];
  clock: Clock;
  metrics?: Metrics;
  /** The hot wallet address of a chain (null: none; its check is skipped). */
  hotWallet?: (chain_id: number) => string | null;
  /** A public client per chain (tests and the CLI pass none: one is made from the chain's rpc_url). */
  client?: (chain: ChainConfigFile) => PublicClient;
  /** Deposit addresses checked on chain per chain and run. */
  addresses_max?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /**
   * The full ledger replay (verifyLedger reads every transfer) runs at most this often; the
   * cheaper checks run every time. 0 (the default, and the CLI) = every run.
   */
  ledger_verify_every_ms?: number;
  /** Called as work advances (the CLI draws its progress bar from it). */
  progress?: (p: { chain_id: number; phase: 'deposits' | 'addresses'; done: number; total: number | null }) => void;
}

export interface ReconcileReport {
  ok: boolean;
  /** skipped: not due this run (ledger_verify_every_ms). */
  ledger: { ok: boolean; problem: string | null; transfers: number; skipped: boolean };
  summaries: AssetSummary[];
  discrepancies: Discrepancy[];
  /** Chains whose node could not be read (their on-chain check was skipped, not passed). */
  unreachable: Array<{ chain_id: number; error: string }>;
  opened: number;
  resolved: number;
}

export interface Reconciler {
  run(): Promise<ReconcileReport>;
}

/** What the checks of one run share: the deps, a client per chain, and the per-run bound on addresses. */
export interface ReconcileContext {
  deps: ReconcileDeps;
  db: Db;
  ledger: Ledger;
  clock: Clock;
  log: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  clientFor: (chain: ChainConfigFile) => PublicClient;
  addresses_max: number;
}

/** Writes incidents: opens new keys, refreshes open ones, resolves what was checked and is gone. */
async function record(c: ReconcileContext, discrepancies: Discrepancy[], checkedPrefixes: string[]): Promise<{ opened: number; resolved: number }> {
  const { db, clock, log } = c;
  const now = clock.now_ms();
  const keys = new Set<string>();
  let opened = 0;
  for (const d of discrepancies) {
    const key = discrepancyKey(d);
    if (keys.has(key)) continue;
    keys.add(key);
    const fresh = await store.upsertOpenIncident(db.kysely, {
      id: newId('rin', now),
      key,
      chain_id: d.chain_id,
      asset: d.asset,
      kind: d.kind,
      subject: d.subject,
      expected_minor: d.expected_minor,
      actual_minor: d.actual_minor,
      details: JSON.stringify({ message: d.message }),
      opened_at_ms: now,
    });
    if (fresh) {
      opened++;
      log('error', `reconcile: ${d.message}`, { kind: d.kind, chain_id: d.chain_id, asset: d.asset, subject: d.subject, key });
    }
  }
  const resolved = await store.resolveOthers(db.kysely, checkedPrefixes, keys, now);
  return { opened, resolved };
}

function publish(deps: ReconcileDeps, report: ReconcileReport): void {
  if (!deps.metrics) return;
  const g = deps.metrics.gauge('settle_reconcile_discrepancies', 'Differences found by the last reconciliation run', ['chain_id', 'asset', 'kind']);
  g.reset();
  for (const s of report.summaries) g.set({ chain_id: String(s.chain_id), asset: s.asset, kind: 'any' }, s.discrepancies);
  const counts = new Map<string, number>();
  for (const d of report.discrepancies) {
    const k = `${d.chain_id ?? '-'}|${d.asset ?? '-'}|${d.kind}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const [k, n] of counts) {
    const [chain_id, asset, kind] = k.split('|') as [string, string, string];
    g.set({ chain_id, asset, kind }, n);
  }
}

/**
 * One chain's checks, in order: deposits against the ledger, receiving addresses and the hot
 * wallet against the chain (skipped, not passed, when the node cannot be read), then solvency.
 * Appends the chain's summaries, differences, and the incident keys it checked (to resolve).
 */
async function reconcileChain(
  c: ReconcileContext,
  chain: ChainConfigFile,
  refunds: Map<string, bigint>,
  out: { summaries: AssetSummary[]; discrepancies: Discrepancy[]; checked: string[]; unreachable: ReconcileReport['unreachable'] },
): Promise<void> {
  const { checked, summaries, unreachable } = out;
  const perAsset = new Map<string, AssetSummary>(chainAssets(chain).map((a) => [a.code, emptySummary(chain.chain_id, a.code)]));
  const found: Discrepancy[] = [];
  const deposits = await checkDeposits(c, chain.chain_id, perAsset, found);
  checked.push(`deposit_ledger_mismatch:${chain.chain_id}:`);
  for (const s of perAsset.values()) {
    const p = identityProblem(s);
    if (p) found.push(p);
  }
  try {
    const dw = await checkAddresses(c, chain, deposits, perAsset, found);
    checked.push(`address_balance:${chain.chain_id}:`);
    for (const s of perAsset.values()) {
      Object.assign(s.custody.deposit_wallets, { status: dw, on_chain_minor: s.on_chain_minor, addresses: s.addresses_checked + s.addresses_in_flight });
      if (dw === 'checked') checked.push(`deposit_wallets_mismatch:${chain.chain_id}:${s.asset}:`);
    }
    checked.push(...(await checkHotWallet(c, chain, perAsset)));
  } catch (error) {
    for (const s of perAsset.values()) {
      s.custody.deposit_wallets.status = 'unreachable';
      if (s.custody.hot_wallet.status !== 'no_hot_wallet' || c.deps.hotWallet?.(chain.chain_id)) s.custody.hot_wallet.status = 'unreachable';
    }
    unreachable.push({ chain_id: chain.chain_id, error: (error as Error).message.split('\n')[0]! });
    c.log('warn', `reconcile: chain ${chain.chain_id} could not be read; its on-chain check is skipped`, { error: String(error) });
  }
  await checkSolvency(c, chain, perAsset);
  checked.push(`custody_shortfall:${chain.chain_id}:`);
  for (const s of perAsset.values()) found.push(...custodyProblems(chain.chain_id, s.asset, s.custody));
  for (const s of perAsset.values()) {
    s.refunded_minor = refunds.get(`${s.chain_id}:${s.asset}`) ?? 0n;
    s.discrepancies = found.filter((d) => d.asset === s.asset).length;
    summaries.push(s);
  }
  out.discrepancies.push(...found);
}

/** const r = createReconciler({ db, ledger, chains: config.chains, clock }); const report = await r.run() */
export function createReconciler(deps: ReconcileDeps): Reconciler {
  const { db, ledger, clock } = deps;
  const log = deps.log ?? (() => undefined);
  const clients = new Map<number, PublicClient>();
  const clientFor = (c: ChainConfigFile) => {
    let client = clients.get(c.chain_id);
    if (!client) clients.set(c.chain_id, (client = deps.client ? deps.client(c) : createEvmClient({ chain_id: c.chain_id, rpc_url: c.rpc_url })));
    return client;
  };
  const c: ReconcileContext = { deps, db, ledger, clock, log, clientFor, addresses_max: deps.addresses_max ?? 10_000 };
  let lastVerify_ms: number | null = null;

  return {
    async run() {
      const discrepancies: Discrepancy[] = [];
      const checked: string[] = [];
      const due = lastVerify_ms === null || clock.now_ms() - lastVerify_ms >= (deps.ledger_verify_every_ms ?? 0);
      const v = due ? await verifyLedgerSnapshot(db) : { ok: true, problem: null, transfers: 0 };
      if (due) {
        lastVerify_ms = clock.now_ms();
        checked.push('ledger_unbalanced:');
      }
      if (!v.ok) discrepancies.push({ kind: 'ledger_unbalanced', chain_id: null, asset: null, subject: 'ledger', expected_minor: null, actual_minor: null, message: `ledger verify failed: ${v.problem}` });
      const refunds = await store.selectRefundTotals(db.kysely);
      const summaries: AssetSummary[] = [];
      const unreachable: ReconcileReport['unreachable'] = [];
      for (const chain of deps.chains) await reconcileChain(c, chain, refunds, { summaries, discrepancies, checked, unreachable });
      const { opened, resolved } = await record(c, discrepancies, checked);
      const report: ReconcileReport = {
        ok: discrepancies.length === 0 && unreachable.length === 0,
        ledger: { ok: v.ok, problem: v.problem, transfers: v.transfers, skipped: !due },
        summaries,
        discrepancies,
        unreachable,
        opened,
        resolved,
      };
      publish(deps, report);
      return report;
    },
  };
}

/** A platform Worker: one run every interval_ms (never two at once); errors are logged. */
export function reconcileWorker(reconciler: Reconciler, interval_ms: number, onError: (e: unknown) => void, around: TickAround = unfenced) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;
  const loop = () => {
    running = around(() => reconciler.run())
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, interval_ms);
      });
  };
  return {
    name: 'reconciler',
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(loop, Math.min(interval_ms, 5_000));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
    },
  };
}
