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
import { TransactionReceiptNotFoundError, type PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { verifyLedger, type Ledger } from '../../ledger/ledger.ts';
import { platformAccount } from './chart.ts';
import type { Metrics } from '../../ops/metrics.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import type { Hex } from '../../chain/chain.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { chainAssets, depositTransferIds } from '../deposits/deposit-rules.ts';
import {
  addDeposit,
  checkDeposit,
  compareAddress,
  custodyProblems,
  debitBalance,
  hotWalletEffect,
  solvencyPart,
  discrepancyKey,
  emptySummary,
  expectedBalances,
  identityProblem,
  type AssetSummary,
  type DepositFact,
  type Discrepancy,
  type OwnTxFact,
  type TransferFact,
} from './reconcile-rules.ts';
import * as store from './reconcile-store.ts';

const DEPOSIT_PAGE_MAX = 500;
const ADDRESS_PAGE_MAX = 500;
/** Balance reads in flight at once. */
const RPC_PARALLEL_MAX = 8;
const ERC20_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'a', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const;
const OPEN_TX_STATUSES = new Set(['signed', 'broadcast', 'mined']);
const OPEN_SWEEP_STATUSES = new Set(['planned', 'gas', 'sweeping', 'gas_pending', 'signed', 'broadcast']);
/** Unbooked hot-wallet transactions looked up on chain per run; more and the check reports in flight. */
const HOT_IN_FLIGHT_MAX = 200;
/** Reads of (transactions, ledger, transactions) retried when a booking lands between them. */
const HOT_SNAPSHOT_TRIES = 3;
const LEDGER_PAGE_MAX = 1000;

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
  const addresses_max = deps.addresses_max ?? 10_000;
  let lastVerify_ms: number | null = null;

  /** Deposits of one chain against their ledger transfers; fills the summaries. */
  async function checkDeposits(chain_id: number, summaries: Map<string, AssetSummary>, out: Discrepancy[]): Promise<DepositFact[]> {
    const all: DepositFact[] = [];
    let after = '';
    for (;;) {
      const page = await store.selectDepositsPage(db.kysely, chain_id, after, DEPOSIT_PAGE_MAX);
      if (page.length === 0) break;
      const ids = page.map((d) => depositTransferIds(chain_id, d.tx_hash, d.log_index, d.generation));
      const transfers = new Map<string, TransferFact>((await ledger.getTransfers(ids.flatMap((i) => [i.pending, i.post]))).map((t) => [t.id, t]));
      page.forEach((d, i) => {
        const t = { pending: transfers.get(ids[i]!.pending) ?? null, post: transfers.get(ids[i]!.post) ?? null };
        const problem = checkDeposit(d, t);
        if (problem) out.push({ kind: 'deposit_ledger_mismatch', chain_id, asset: d.asset, subject: d.id, expected_minor: d.amount_minor, actual_minor: (t.post ?? t.pending)?.amount_minor ?? null, message: problem });
        const s = summaries.get(d.asset) ?? emptySummary(chain_id, d.asset);
        summaries.set(d.asset, s);
        addDeposit(s, d, t);
      });
      all.push(...page);
      after = page[page.length - 1]!.id;
      deps.progress?.({ chain_id, phase: 'deposits', done: all.length, total: null });
      if (page.length < DEPOSIT_PAGE_MAX) break;
    }
    return all;
  }

  /**
   * Re-reads every deposit address's balances on chain and compares them with our records.
   * Returns whether every receiving address was read (none in flight, none left over), which is
   * what comparing their sum with the ledger's deposit_wallets needs.
   */
  async function checkAddresses(chain: ChainConfigFile, deposits: DepositFact[], summaries: Map<string, AssetSummary>, out: Discrepancy[]): Promise<'checked' | 'in_flight' | 'partial'> {
    const chain_id = chain.chain_id;
    const assets = chainAssets(chain);
    const native = assets.find((a) => a.token === null)?.code ?? null;
    const txs = await store.selectOwnTxs(db.kysely, chain_id);
    // Our own transactions seen by the scanner as payments to our addresses (gas top-ups) are
    // counted once, as our transactions.
    const ownHashes = new Set(txs.map((t) => t.mined_hash?.toLowerCase()).filter((h): h is string => !!h));
    const depositsByAddr = new Map<string, DepositFact[]>();
    for (const d of deposits) {
      if (ownHashes.has(d.tx_hash.toLowerCase())) continue;
      const a = d.to_address.toLowerCase();
      depositsByAddr.set(a, [...(depositsByAddr.get(a) ?? []), d]);
    }
    const inFlight = new Set<string>();
    const ownByAddr = new Map<string, OwnTxFact[]>();
    for (const t of txs) {
      const ends = [t.from_address.toLowerCase(), t.to_address.toLowerCase()];
      if (OPEN_TX_STATUSES.has(t.status)) for (const a of ends) inFlight.add(a);
      if (t.status !== 'confirmed') continue;
      const fact = { from_address: ends[0]!, to_address: ends[1]!, value_minor: t.value_minor, gas_fee_minor: t.gas_fee_minor ?? 0n };
      for (const a of new Set(ends)) ownByAddr.set(a, [...(ownByAddr.get(a) ?? []), fact]);
    }
    const sweepsByAddr = new Map<string, Array<{ asset: string; amount_minor: bigint }>>();
    for (const s of await store.selectSweeps(db.kysely, chain_id)) {
      const a = s.deposit_address.toLowerCase();
      if (OPEN_SWEEP_STATUSES.has(s.status)) inFlight.add(a);
      if (s.status === 'confirmed') sweepsByAddr.set(a, [...(sweepsByAddr.get(a) ?? []), { asset: s.asset, amount_minor: s.amount_minor }]);
    }

    const client = clientFor(chain);
    const head = await client.getBlockNumber({ cacheTime: 0 });
    let done = 0;
    let after = '';
    let complete = false;
    let anyInFlight = false;
    while (done < addresses_max) {
      const page = await store.selectAddressesPage(db.kysely, chain_id, after, Math.min(ADDRESS_PAGE_MAX, addresses_max - done));
      if (page.length === 0) break;
      for (let i = 0; i < page.length; i += RPC_PARALLEL_MAX) {
        await Promise.all(
          page.slice(i, i + RPC_PARALLEL_MAX).map(async (address) => {
            const expected = expectedBalances(address, native, depositsByAddr.get(address) ?? [], sweepsByAddr.get(address) ?? [], ownByAddr.get(address) ?? []);
            for (const a of assets) {
              const s = summaries.get(a.code) ?? emptySummary(chain_id, a.code);
              summaries.set(a.code, s);
              if (inFlight.has(address)) {
                anyInFlight = true;
                s.addresses_in_flight++;
                continue;
              }
              const actual = a.token === null
                ? await client.getBalance({ address: address as Hex, blockNumber: head })
                : await client.readContract({ address: a.token, abi: ERC20_ABI, functionName: 'balanceOf', args: [address as Hex], blockNumber: head });
              const want = expected.get(a.code) ?? 0n;
              s.addresses_checked++;
              s.on_chain_minor += actual;
              s.expected_on_chain_minor += want;
              const d = compareAddress(chain_id, a.code, address, want, actual);
              if (d) out.push(d);
            }
          }),
        );
      }
      done += page.length;
      after = page[page.length - 1]!;
      deps.progress?.({ chain_id, phase: 'addresses', done, total: null });
      if (page.length < ADDRESS_PAGE_MAX) {
        complete = true;
        break;
      }
    }
    if (done < addresses_max) complete = true;
    return anyInFlight ? 'in_flight' : complete ? 'checked' : 'partial';
  }

  /**
   * The hot wallet: its balance on chain at block h equals its ledger balance (posted) plus what
   * our mined-but-unbooked transactions did (read from their receipts). The ledger is read between
   * two reads of which transactions are booked; if a booking landed in between, it is read again.
   */
  async function checkHotWallet(chain: ChainConfigFile, summaries: Map<string, AssetSummary>): Promise<string[]> {
    const chain_id = chain.chain_id;
    const hot = deps.hotWallet?.(chain_id)?.toLowerCase() ?? null;
    if (!hot) return [];
    const assets = chainAssets(chain);
    const native = assets.find((a) => a.token === null)?.code ?? null;
    const tokens = assets.flatMap((a) => (a.token ? [{ code: a.code, contract: a.token }] : []));
    const setAll = (status: 'in_flight') => {
      for (const a of assets) Object.assign(summaries.get(a.code)!.custody.hot_wallet, { status, address: hot });
    };
    const client = clientFor(chain);
    const head = await client.getBlockNumber({ cacheTime: 0 });
    const onChain = new Map<string, bigint>();
    for (const a of assets) {
      onChain.set(a.code, a.token === null
        ? await client.getBalance({ address: hot as Hex, blockNumber: head })
        : await client.readContract({ address: a.token, abi: ERC20_ABI, functionName: 'balanceOf', args: [hot as Hex], blockNumber: head }));
    }
    const ids = assets.map((a) => platformAccount(a.code, 'hot_wallet').id);
    let txs: store.HotTxRow[] | null = null;
    let accounts: Awaited<ReturnType<Ledger['getAccounts']>> = [];
    for (let i = 0; i < HOT_SNAPSHOT_TRIES && !txs; i++) {
      const before = await store.selectHotWalletTxs(db.kysely, chain_id, hot);
      accounts = await ledger.getAccounts(ids);
      const after = await store.selectHotWalletTxs(db.kysely, chain_id, hot);
      const bookedBefore = new Set(before.filter((t) => t.booked).map((t) => t.id));
      if (after.every((t) => !t.booked || bookedBefore.has(t.id))) txs = before;
    }
    // Still moving, too much in flight, or booked from a block above the one read: next run.
    const open = txs?.filter((t) => !t.booked) ?? [];
    if (!txs || open.length > HOT_IN_FLIGHT_MAX || txs.some((t) => t.booked && t.block_number !== null && t.block_number > Number(head))) {
      setAll('in_flight');
      return [];
    }
    const effects = new Map<string, bigint>();
    let counted = 0;
    const attempts = await store.selectAttempts(db.kysely, open.map((t) => t.id));
    for (const t of open) {
      for (const at of attempts.filter((x) => x.tx_id === t.id)) {
        const receipt = await receiptOf(client, at.hash as Hex);
        if (!receipt || receipt.blockNumber > head) continue;
        const mined = { kind: at.kind as 'payload' | 'cancel', success: receipt.status === 'success', gas_fee_minor: receipt.gasUsed * receipt.effectiveGasPrice };
        for (const [asset, v] of hotWalletEffect(t, mined, hot, native, tokens)) effects.set(asset, (effects.get(asset) ?? 0n) + v);
        counted++;
        break;
      }
    }
    const checked: string[] = [];
    for (const a of assets) {
      const acct = accounts.find((x) => x.id === platformAccount(a.code, 'hot_wallet').id);
      const s = summaries.get(a.code)!;
      s.custody.hot_wallet = {
        status: 'checked', address: hot,
        ledger_minor: acct ? acct.debits_posted_minor - acct.credits_posted_minor : 0n,
        in_flight_minor: effects.get(a.code) ?? 0n, in_flight_txs: counted, on_chain_minor: onChain.get(a.code)!,
      };
      checked.push(`hot_wallet_mismatch:${chain_id}:${a.code}:`);
    }
    return checked;
  }

  /** Custody assets against what is owed, and the ledger's deposit_wallets, per asset of a chain (database only). */
  async function checkSolvency(chain: ChainConfigFile, summaries: Map<string, AssetSummary>): Promise<void> {
    for (const a of chainAssets(chain)) {
      const c = summaries.get(a.code)!.custody;
      let after = '';
      for (;;) {
        const page = await store.selectLedgerAccountsPage(db.kysely, a.code, after, LEDGER_PAGE_MAX);
        for (const acct of page) {
          const part = solvencyPart(acct);
          c.assets_minor += part.assets_minor;
          c.liabilities_minor += part.liabilities_minor;
          if (acct.owner_type === 'platform' && acct.kind === 'deposit_wallets') c.deposit_wallets.ledger_minor += debitBalance(acct);
        }
        if (page.length < LEDGER_PAGE_MAX) break;
        after = page[page.length - 1]!.id;
      }
    }
  }

  /** Writes incidents: opens new keys, refreshes open ones, resolves what was checked and is gone. */
  async function record(discrepancies: Discrepancy[], checkedPrefixes: string[]): Promise<{ opened: number; resolved: number }> {
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

  function publish(report: ReconcileReport): void {
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

  return {
    async run() {
      const discrepancies: Discrepancy[] = [];
      const checked: string[] = [];
      const due = lastVerify_ms === null || clock.now_ms() - lastVerify_ms >= (deps.ledger_verify_every_ms ?? 0);
      const v = due ? await verifyLedger(db.kysely) : { ok: true, problem: null, transfers: 0 };
      if (due) {
        lastVerify_ms = clock.now_ms();
        checked.push('ledger_unbalanced:');
      }
      if (!v.ok) discrepancies.push({ kind: 'ledger_unbalanced', chain_id: null, asset: null, subject: 'ledger', expected_minor: null, actual_minor: null, message: `ledger verify failed: ${v.problem}` });
      const refunds = await store.selectRefundTotals(db.kysely);
      const summaries: AssetSummary[] = [];
      const unreachable: ReconcileReport['unreachable'] = [];
      for (const chain of deps.chains) {
        const perAsset = new Map<string, AssetSummary>(chainAssets(chain).map((a) => [a.code, emptySummary(chain.chain_id, a.code)]));
        const found: Discrepancy[] = [];
        const deposits = await checkDeposits(chain.chain_id, perAsset, found);
        checked.push(`deposit_ledger_mismatch:${chain.chain_id}:`);
        for (const s of perAsset.values()) {
          const p = identityProblem(s);
          if (p) found.push(p);
        }
        try {
          const dw = await checkAddresses(chain, deposits, perAsset, found);
          checked.push(`address_balance:${chain.chain_id}:`);
          for (const s of perAsset.values()) {
            Object.assign(s.custody.deposit_wallets, { status: dw, on_chain_minor: s.on_chain_minor, addresses: s.addresses_checked + s.addresses_in_flight });
            if (dw === 'checked') checked.push(`deposit_wallets_mismatch:${chain.chain_id}:${s.asset}:`);
          }
          checked.push(...(await checkHotWallet(chain, perAsset)));
        } catch (error) {
          for (const s of perAsset.values()) {
            s.custody.deposit_wallets.status = 'unreachable';
            if (s.custody.hot_wallet.status !== 'no_hot_wallet' || deps.hotWallet?.(chain.chain_id)) s.custody.hot_wallet.status = 'unreachable';
          }
          unreachable.push({ chain_id: chain.chain_id, error: (error as Error).message.split('\n')[0]! });
          log('warn', `reconcile: chain ${chain.chain_id} could not be read; its on-chain check is skipped`, { error: String(error) });
        }
        await checkSolvency(chain, perAsset);
        checked.push(`custody_shortfall:${chain.chain_id}:`);
        for (const s of perAsset.values()) found.push(...custodyProblems(chain.chain_id, s.asset, s.custody));
        for (const s of perAsset.values()) {
          s.refunded_minor = refunds.get(`${s.chain_id}:${s.asset}`) ?? 0n;
          s.discrepancies = found.filter((d) => d.asset === s.asset).length;
          summaries.push(s);
        }
        discrepancies.push(...found);
      }
      const { opened, resolved } = await record(discrepancies, checked);
      const report: ReconcileReport = {
        ok: discrepancies.length === 0 && unreachable.length === 0,
        ledger: { ok: v.ok, problem: v.problem, transfers: v.transfers, skipped: !due },
        summaries,
        discrepancies,
        unreachable,
        opened,
        resolved,
      };
      publish(report);
      return report;
    },
  };
}

/** The receipt of a transaction hash, or null while it is not mined. */
async function receiptOf(client: PublicClient, hash: Hex) {
  try {
    return await client.getTransactionReceipt({ hash });
  } catch (error) {
    if (error instanceof TransactionReceiptNotFoundError || (error as Error)?.name === 'TransactionReceiptNotFoundError') return null;
    throw error;
  }
}

/** A platform Worker: one run every interval_ms (never two at once); errors are logged. */
export function reconcileWorker(reconciler: Reconciler, interval_ms: number, onError: (e: unknown) => void) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;
  const loop = () => {
    running = reconciler
      .run()
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
