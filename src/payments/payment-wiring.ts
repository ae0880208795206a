// The payments module's part of the composition root (called from platform.ts): the payment
// views, maintenance windows (guard first, so that it reaches every money-moving route),
// announcements and status, internal transfers and their release worker.
import type { Db, DbExecutor } from '../db/database.ts';
import type { Config } from '../config.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import type { RouteModule } from '../app.ts';
import type { Clock } from '../shared/clock.ts';
import { createMaintenance, type Maintenance } from '../ops/maintenance.ts';
import { maintenanceRoutes } from '../ops/maintenance-routes.ts';
import { statusRoutes, type ChainStatus } from '../ops/status-routes.ts';
import type { ChainTiming } from './payment-dto.ts';
import { dtoContext, paymentRoutes, type PaymentViewDeps } from './payment-routes.ts';
import { toPaymentDto } from './payment-dto.ts';
import { getPayment, type Payment } from './payments.ts';
import { createWebhooks, type Webhooks } from '../notify/webhooks.ts';
import { webhookRoutes } from '../notify/webhook-routes.ts';
import { detectStuck } from './payment-stuck.ts';
import type { DiagnosisChainDeps } from './diagnosis/diagnosis.ts';
import { diagnosisRoutes } from './diagnosis/diagnosis-routes.ts';
import { transferRoutes } from './transfers/transfer-routes.ts';
import { createTransfers, type TransferAccounts, type Transfers } from './transfers/transfers.ts';
import { intervalWorker } from '../jobs/interval-worker.ts';

/** Measured block timing per chain, as the deposit scanner records it (chain_cursors). */
export async function chainTimingFromScanner(ex: DbExecutor): Promise<Map<number, ChainTiming>> {
  try {
    const rows = await ex.selectFrom('chain_cursors').select(['chain_id', 'block_time_ms', 'head_seen_at_ms']).execute();
    return new Map(rows.map((r) => [Number(r.chain_id), { block_time_ms: r.block_time_ms === null ? null : Number(r.block_time_ms), head_seen_at_ms: r.head_seen_at_ms === null ? null : Number(r.head_seen_at_ms) }]));
  } catch {
    return new Map(); // no scanner tables (yet): ETAs stay null until measured
  }
}

export async function chainStatusFromScanner(ex: DbExecutor): Promise<ChainStatus[]> {
  const rows = await ex.selectFrom('chain_cursors').select(['chain_id', 'next_block', 'head', 'block_time_ms']).execute();
  return rows.map((r) => ({
    chain_id: Number(r.chain_id),
    head: r.head === null ? null : Number(r.head),
    lag_blocks: r.head === null ? null : Math.max(0, Number(r.head) - (Number(r.next_block) - 1)),
    block_time_s: r.block_time_ms === null ? null : Number(r.block_time_ms) / 1000,
  }));
}

export interface PaymentsWiring {
  maintenance: Maintenance;
  transfers: Transfers;
  webhooks: Webhooks;
  view: PaymentViewDeps;
}

/** wirePayments({ db, clock, config, ledger, accounts, jobs, routes, workers }) — guard goes first in routes. */
/** The payment view's lookups: active maintenance windows and counterparties' emails. */
export function viewLookups(maintenance: Pick<Maintenance, 'active'>): Pick<PaymentViewDeps, 'activeWindows' | 'emailsOf'> {
  return {
    activeWindows: async (ex) => (await maintenance.active(ex)).map((w) => ({ scope: w.scope, ends_at_ms: w.ends_at_ms, message: w.message, message_zh: w.message_zh })),
    emailsOf: async (ex, ids) => new Map((await ex.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute()).map((u) => [u.id, u.email])),
  };
}

export function wirePayments(p: {
  db: Db;
  clock: Clock;
  config: Config;
  ledger: Ledger;
  accounts: TransferAccounts;
  jobs: JobRunner;
  routes: RouteModule[];
  workers: Array<{ name: string; start(): void; stop(): Promise<void> }>;
  /** The chain side of POST /diagnose (diagnosisChainFrom(deposits, …)); absent: records only. */
  diagnosisChain?: DiagnosisChainDeps;
}): PaymentsWiring {
  const { db, clock, config, ledger } = p;
  const maintenance = createMaintenance({ db, clock, config });
  maintenance.registerJobs(p.jobs);
  const view: PaymentViewDeps = {
    db,
    clock,
    config,
    chainTiming: chainTimingFromScanner,
    ...viewLookups(maintenance),
  };
  const transfers = createTransfers({ db, clock, config, ledger, accounts: p.accounts });
  p.routes.unshift(maintenance.guard());
  p.routes.push(
    { name: 'payments', plugin: paymentRoutes({ ...view, ledger: () => ledger }) },
    { name: 'transfers', plugin: transferRoutes({ ...view, transfers }) },
    { name: 'diagnosis', plugin: diagnosisRoutes(view, p.diagnosisChain) },
    { name: 'maintenance', plugin: maintenanceRoutes({ maintenance, clock }) },
    { name: 'status', plugin: statusRoutes({ config, clock, maintenance, chainStatus: () => chainStatusFromScanner(db.kysely) }) },
  );
  p.workers.push(transfers.releaseWorker());
  const webhooks = createWebhooks({ db, clock, config });
  webhooks.registerRenderer('payment', paymentEventRenderer(view));
  p.routes.push({ name: 'webhooks', plugin: webhookRoutes({ webhooks }) });
  p.workers.push(webhooks.worker());
  p.workers.push(intervalWorker('payments.stuck', STUCK_EVERY_MS, () => detectStuck(view)));
  return { maintenance, transfers, webhooks, view };
}

/**
 * How a `payment` outbox event looks in webhooks and the event feed: the API `payment` (in
 * English) as it was at that event, with the timeline up to it.
 */
export function paymentEventRenderer(view: PaymentViewDeps) {
  return async (event: { payload: string }): Promise<{ user_id: string; data: unknown } | null> => {
    const s = JSON.parse(event.payload) as Record<string, unknown> & { id: string; user_id: string; amount_minor: string; fee_minor: string; updated_at_ms: number; created_at_ms: number };
    const payment = {
      ...(s as unknown as Payment),
      amount_minor: BigInt(s.amount_minor),
      fee_minor: BigInt(s.fee_minor),
      memo: (s.memo as string | null | undefined) ?? null,
      status_since_ms: s.updated_at_ms,
    };
    const found = await getPayment(view.db.kysely, s.id);
    const timeline = (found?.timeline ?? []).filter((e) => e.at_ms <= s.updated_at_ms);
    const ctx = await dtoContext(view, null, null, [payment]);
    return { user_id: s.user_id, data: toPaymentDto(payment, timeline, ctx) };
  };
}

const STUCK_EVERY_MS = 60_000;


