// The invoices module's part of the composition root (called from platform.ts): the service
// (invoice keys from the deposit mnemonic, on their own BIP-44 account), its expiry job, the
// merchant API under /api/v1 and the public checkout page at /checkout/{id}.
// The deposit scanner's side (see invoices.ts): pass `invoices.addressOwners` and
// `invoices.onDepositChange` to createDepositScanner.
import type { RouteModule } from '../../http/typed-app.ts';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { createEvmReader } from '../../chain/chain.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../chain/chain.ts';
import type { JobRunner } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Principal } from '../../shared/principal.ts';
import type { PaymentViewDeps } from '../payment-routes.ts';
import type { Withdrawals } from '../withdrawals/withdrawals.ts';
import type { EventRenderer } from '../../notify/notify.ts';
import { isoTime } from '../../shared/clock.ts';
import { checkoutStatus } from './invoice-dto.ts';
import { checkoutPage } from './invoice-checkout.ts';
import { invoiceRoutes } from './invoice-routes.ts';
import { createInvoices, type Invoices } from './invoices.ts';

/** wireInvoices({ db, clock, config, jobs, routes, view, withdrawals, requireStepUp }) -> Invoices */
export function wireInvoices(p: {
  db: Db;
  clock: Clock;
  config: Config;
  jobs: JobRunner;
  routes: RouteModule[];
  view: PaymentViewDeps;
  withdrawals?: Withdrawals;
  requireStepUp?: (principal: Principal) => Promise<void>;
  /** The webhook dispatcher: invoice events are delivered to the merchant's endpoints and feed. */
  webhooks?: { registerRenderer(aggregate_type: string, render: EventRenderer): void };
}): Invoices {
  const { config } = p;
  const readers = new Map(config.chains.map((c) => [c.chain_id, createEvmReader({ chain_id: c.chain_id, rpc_url: c.rpc_url })]));
  const invoices = createInvoices({
    db: p.db,
    clock: p.clock,
    config,
    keys: config.deposit_mnemonic ? createDepositKeys(config.deposit_mnemonic, INVOICE_PATH_PREFIX) : null,
    headOf: async (chain_id) => {
      const r = readers.get(chain_id);
      if (!r) throw new Error(`no reader for chain ${chain_id}`);
      return r.head();
    },
    ...(p.withdrawals ? { withdrawals: p.withdrawals } : {}),
  });
  invoices.registerJobs(p.jobs);
  p.webhooks?.registerRenderer('invoice', invoiceEventRenderer(invoices));
  p.routes.push(
    { name: 'invoices', plugin: invoiceRoutes({ ...p.view, invoices, ...(p.requireStepUp ? { requireStepUp: p.requireStepUp } : {}) }) },
    { name: 'checkout', prefix: '', plugin: checkoutPage({ invoices }) },
  );
  return invoices;
}

/**
 * How an `invoice.*` outbox event looks in webhooks and the event feed: the invoice as it was at
 * that event (status, exception, amounts from the event's snapshot), for its merchant.
 */
export function invoiceEventRenderer(invoices: Invoices): EventRenderer {
  return async (event) => {
    const s = JSON.parse(event.payload) as { id: string; user_id: string; status: string; exception: string | null; amount_paid_minor: string; updated_at_ms: number } & Record<string, unknown>;
    const row = await invoices.get(s.id);
    if (!row) return null;
    const then = { ...row, status: s.status, exception: s.exception, amount_paid_minor: BigInt(s.amount_paid_minor), updated_at_ms: s.updated_at_ms };
    const extra: Record<string, unknown> = {};
    for (const k of ['refund_id', 'payment_id', 'amount_minor', 'to_address']) if (k in s) extra[k] = s[k];
    return {
      user_id: s.user_id,
      data: { ...checkoutStatus(invoices, then), checkout_url: invoices.checkoutUrl(row.id), order_id: row.order_id, metadata: row.metadata ? (JSON.parse(row.metadata) as unknown) : null, updated_at: isoTime(s.updated_at_ms), ...extra },
    };
  };
}
