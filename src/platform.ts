// The composition root: builds every module's services over one database and hands the app
// its routes, the authenticate hook and the background workers. main.ts (production), the CLI
// and the API tests all build the platform here, so they run the same wiring.
import type { FastifyRequest } from 'fastify';
import type pino from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { JobRunner } from './jobs/jobs.ts';
import { announcementRoutes, createAnnouncements, createMaintenance, createMetrics, maintenanceRoutes, sampleHistory, statusRoutes, statusSampler, type Maintenance, type Metrics } from './ops/ops.ts';
import { chainFigures } from './payments/payment-status-facts.ts';
import { recentPublicIncidents } from './payments/custody/public-incidents.ts';
import { WATCH_EVERY_MS, watchStalledWithdrawals } from './payments/withdrawals/withdrawal-watch.ts';
import { createRisk, type Risk } from './risk/risk.ts';
import { riskRoutes } from './risk/risk-routes.ts';
import { buildApp, type App, type RouteModule } from './app.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import type { Principal } from './shared/principal.ts';
import { wireHousekeeping } from './housekeeping.ts';
import { createLeases, intervalWorker, type Leases } from './jobs/jobs.ts';
import { createLedger, registerLedgerJobs, type Ledger } from './ledger/ledger.ts';
import { join } from 'node:path';
import { createAccounts, type Accounts, type LoginRiskHook } from './accounts/accounts.ts';
import { accountsRoutes } from './accounts/accounts-routes.ts';
import { MAIL_JOB, createMailer, createNotifications, createWebhooks, mailJobHandler, notificationRoutes, startDevMailbox, webhookRoutes, type DevMailbox, type Notifications, type Webhooks } from './notify/notify.ts';
import { NOTICE_EVENT_TYPES, maintenanceNotices, paymentNotices } from './payments/payment-notices.ts';
import { liveNotificationReader } from './live/live-notifications.ts';
import { pickLocale } from './shared/i18n.ts';
import { createEvmClient } from './chain/chain.ts';
import { createHotWallets, devHotWalletKey, hotWalletWorker, type Sender } from './chain/chain.ts';
import { addressOwnerIds, findAddressOwner } from './payments/custody/deposit-addresses.ts';
import { createDeposits, registerChainAssets, type Deposits } from './payments/deposits/deposits.ts';
import { depositRoutes } from './payments/deposits/deposit-routes.ts';
import type { Hex } from './chain/chain.ts';
import { accountRiskFacts, createWithdrawals, registerWithdrawalJobs, standingGate, type Withdrawals } from './payments/withdrawals/withdrawals.ts';
import { withdrawalReviewRoutes, withdrawalRoutes } from './payments/withdrawals/withdrawal-routes.ts';
import { createSweepers, registerSweepJobs, sweepWorker } from './payments/custody/sweep.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from './chain/chain.ts';
import { diagnosisChainFrom } from './payments/diagnosis/diagnosis.ts';
import { diagnosisRoutes } from './payments/diagnosis/diagnosis-routes.ts';
import { paymentRoutes, type PaymentViewDeps } from './payments/payment-routes.ts';
import { paymentEventRenderer } from './payments/payment-events.ts';
import { detectStuck } from './payments/payment-stuck.ts';
import { chainStatusFromScanner, chainTimingFromScanner } from './payments/deposits/scan-progress-store.ts';
import { transferRoutes } from './payments/transfers/transfer-routes.ts';
import { createTransfers, type Transfers } from './payments/transfers/transfers.ts';
import { wireInvoices } from './payments/invoices/invoice-wiring.ts';
import type { Invoices } from './payments/invoices/invoices.ts';
import { createReconciler, reconcileWorker } from './payments/custody/reconciler.ts';
import { incidentRoutes } from './payments/custody/reconcile-routes.ts';
import { fundingRoutes } from './payments/custody/funding-routes.ts';
import { assetRoutes } from './payments/deposits/asset-routes.ts';
import { streamRoutes } from './live/stream-routes.ts';
import { livePaymentReader } from './live/live-payments.ts';
import { webRoutes } from './web/web-routes.ts';
import type { Support } from './support/support.ts';
import { wireSupport as wireSupportDesk } from './support/support-wiring.ts';
import { liveCaseReader } from './support/support-events.ts';
import { wireSupportChannels, type SupportChannels } from './support/channel-wiring.ts';
import { agentStreamRoutes } from './live/agent-stream-routes.ts';
import { createTrades, type Trades } from './trades/trades.ts';
import { tradeRoutes } from './trades/trade-routes.ts';
import { tradeEventRenderer } from './trades/trade-events.ts';
import { liveTradeReader } from './live/live-trades.ts';
import { WEB_DIST } from './web/web-build.ts';

/** A background loop that runs at its own pace (scanner, sweeper, reconciler). */
export interface Worker {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

export interface Platform {
  config: Config;
  db: Db;
  clock: Clock;
  metrics: Metrics;
  jobs: JobRunner;
  /** Singleton loops' leases: each such worker runs only in the process holding its lease (decision 0017). */
  leases: Leases;
  ledger: Ledger;
  accounts: Accounts;
  /** The risk engine: versioned rules, decisions, lists (src/risk/risk.ts). */
  risk: Risk;
  /** The in-process SMTP server that keeps mail when no SMTP URL is configured (development, tests). */
  mailbox: DevMailbox | null;
  /** Hot wallet per chain id (chains without a key have none). */
  hotWallets?: Map<number, Sender>;
  withdrawals?: Withdrawals;
  /** Deposit addresses and the per-chain deposit scanners (src/payments/deposits/deposits.ts). */
  deposits?: Deposits;
  /** Payment views, maintenance windows, transfers, webhooks (wirePayments below). */
  payments?: PaymentsWiring;
  /** Merchant invoices and the public checkout page (src/payments/invoices/invoice-wiring.ts). */
  invoices?: Invoices;
  /** The support desk (src/support/support.ts): cases, messages, evidence, agent work. */
  support?: Support;
  /** The outbox consumers that open stuck-payment cases and make cases follow their payment. */
  supportFollowers?: { stuckTick(): Promise<number>; movesTick(): Promise<number>; breachTick(): Promise<number> };
  /** In-app notifications, their mail and preferences (src/notify/notifications.ts). */
  notifications?: Notifications;
  /** The desk's channels: inbound SMTP (its port for tests), Telegram, replies by mail and chat. */
  supportChannels?: SupportChannels;
  /** P2P ads, orders and escrow (src/trades/trades.ts). */
  trades?: Trades;
  workers: Worker[];
  routes: RouteModule[];
  readiness: Array<() => Promise<string | null>>;
  authenticate: ((req: FastifyRequest) => Promise<Principal | null>) | undefined;
  /** Things to close on shutdown after workers stop (mail server, dev chain …), in order. */
  closers: Array<() => Promise<void>>;
}

/** What wirePayments builds, for the modules wired after it (invoices, the live stream) and for tests. */
export interface PaymentsWiring {
  maintenance: Maintenance;
  transfers: Transfers;
  webhooks: Webhooks;
  view: PaymentViewDeps;
}

export interface PlatformOptions {
  clock?: Clock;
  log?: pino.Logger;
  /** Job polling interval; tests use short ones. */
  job_poll_ms?: number;
  metrics?: Metrics;
  /** How long a singleton loop's lease holds without renewal (default 15 s); tests use short ones. */
  lease_ms?: number;
}

const STUCK_EVERY_MS = 60_000;
/** The public status page shows incidents of the last week, and every one still open. */
const INCIDENTS_SHOWN_MS = 7 * 24 * 3600_000;
const INCIDENTS_SHOWN_MAX = 20;

/**
 * const platform = await createPlatform(config, db); const app = await buildPlatformApp(platform)
 * Each module is wired by its own function below, in this order: the order of routes is the order
 * of the OpenAPI document and of the authorization walk, and workers stop in reverse.
 */
export async function createPlatform(config: Config, db: Db, opts: PlatformOptions = {}): Promise<Platform> {
  const platform = await createCore(config, db, opts);
  await wireHousekeeping({ ...platform, log: (counts) => opts.log?.info({ pruned: counts }, 'housekeeping: old history deleted') });
  wireLedgerAndAccounts(platform);
  platform.routes.push({ name: 'risk', plugin: riskRoutes({ risk: platform.risk, clock: platform.clock }) });
  const hotWallets = wireWithdrawals(platform, opts.log);
  wireSweeps(platform, hotWallets, opts.log);
  await wireDeposits(platform, hotWallets, opts.log);
  platform.payments = wirePayments(platform);
  // Invoices: a fresh address per invoice, expiry jobs, merchant API, public checkout page; refunds are withdrawals.
  const { clock, jobs, accounts } = platform;
  platform.invoices = wireInvoices({ db, clock, config, jobs, routes: platform.routes, view: platform.payments.view, webhooks: platform.payments.webhooks, withdrawals: platform.withdrawals!, requireStepUp: (p) => accounts.requireStepUp(p) });
  wireReconcile(platform, hotWallets, opts.log);
  platform.support = wireSupport(platform);
  platform.notifications = wireNotifications(platform);
  platform.supportChannels = await wireChannels(platform, opts.log);
  wireTrades(platform);
  wireWeb(platform);
  return platform;
}

/** The services every module uses: clock, metrics, jobs, the ledger, accounts and the dev mailbox. */
async function createCore(config: Config, db: Db, opts: PlatformOptions): Promise<Platform> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const metrics = opts.metrics ?? createMetrics(false);
  const jobs = new JobRunner(db, {
    clock,
    poll_ms: opts.job_poll_ms ?? 250,
    jobs_per_tick_max: config.limits.jobs_per_tick_max,
    backoff_ms_max: config.limits.job_backoff_ms_max,
    log: (level, msg, data) => log?.[level](data ?? {}, msg),
  });
  const ledger = createLedger(db, clock, { batch_max: config.limits.ledger_batch_max, queue_max: config.limits.ledger_queue_max });
  // The default rules' new-account rule is off (shadow): API.md, a withdrawal within the KYC limits completes by itself.
  const risk = createRisk({ db, clock, new_account_s: null });
  const accounts = createAccounts({ db, config, clock, loginRisk: loginRiskHook(risk) });
  const mailbox = config.smtp_url ? null : await startDevMailbox(join(config.data_dir, 'mail'), clock);
  const leases = createPlatformLeases(db, jobs.worker_id, clock, metrics, log, opts.lease_ms ?? config.lease_ms);
  return { config, db, clock, metrics, jobs, leases, ledger, accounts, risk, mailbox, workers: [], routes: [], readiness: [], authenticate: undefined, closers: [] };
}

/** Leases held by this process's job-runner id, logged and exported as settle_lease_held{name}. */
function createPlatformLeases(db: Db, holder: string, clock: Clock, metrics: Metrics, log: pino.Logger | undefined, lease_ms: number | undefined): Leases {
  const held = metrics.gauge('settle_lease_held', 'Whether this process holds the lease of a singleton loop (1) or not (0)', ['name']);
  const changes = metrics.counter('settle_lease_changes_total', 'Lease acquisitions and losses of singleton loops by this process', ['name', 'change']);
  return createLeases(db, {
    holder,
    clock,
    ...(lease_ms ? { lease_ms } : {}),
    onChange: (name, isHeld, detail) => {
      held.set({ name }, isHeld ? 1 : 0);
      changes.inc({ name, change: isHeld ? 'acquired' : 'lost' });
      log?.info({ lease: name, ...detail }, isHeld ? 'lease acquired' : 'lease given up');
    },
    onError: (name, error) => log?.warn({ lease: name, err: String(error) }, 'lease renewal failed'),
  });
}

function wireLedgerAndAccounts(platform: Platform): void {
  const { config, clock, jobs, ledger, accounts, mailbox } = platform;
  // Ledger: expiry of pending transfers; queued group commits finish before the db closes.
  // Assets are registered by the chain module (ledger.ensureAssets) from its configuration.
  registerLedgerJobs(jobs, ledger);
  platform.closers.push(() => ledger.drain());

  // Accounts: sessions and API keys authenticate every request; mail leaves through mail.send jobs.
  platform.authenticate = accounts.authenticate;
  // Staff search finds a user by deposit address too: payments owns the addresses, so it answers.
  const addressOwners = (address: string) => addressOwnerIds(platform.db.kysely, address);
  platform.routes.push({ name: 'accounts', plugin: accountsRoutes(accounts, { upload_bytes_max: config.limits.upload_bytes_max, account_body_bytes_max: config.limits.account_body_bytes_max, clock, addressOwners }) });
  const mailer = createMailer(config.smtp_url ?? mailbox!.url);
  jobs.register(MAIL_JOB, mailJobHandler(mailer));
  platform.closers.push(async () => {
    mailer.close();
    await mailbox?.close();
  });
}

/** The login event: accounts gathers the facts, risk decides, the decision is stored with the sign-in (subject: the user). */
function loginRiskHook(risk: Risk): LoginRiskHook {
  return async ({ user_id, facts }) => {
    const d = await risk.evaluate('login', facts);
    return { action: d.action, record: async (ex) => void (await risk.record(ex, d, { subject_id: user_id, user_id })) };
  };
}

/** A risk `freeze` decision: the account's own freeze, reason abnormal_activity, by the system. */
function riskFreeze(accounts: Accounts): (user_id: string) => Promise<void> {
  return async (user_id) => void (await accounts.freeze(user_id, 'abnormal_activity', { type: 'system', id: null }, null, { note: 'risk rule' }));
}

/**
 * Hot wallets (chain write side) and withdrawals: a job per withdrawal drives it on chain; a
 * worker refreshes every open hot-wallet transaction (rebroadcast after crashes, fee bumps).
 */
function wireWithdrawals(platform: Platform, log: pino.Logger | undefined): Map<number, Sender> {
  const { config, db, clock, jobs, ledger, accounts } = platform;
  const hotWallets = createHotWallets({ chains: config.chains, private_key: config.hot_wallet_private_key as Hex | null, dev_private_key: devHotWalletKey(), db, clock, client: (c) => createEvmClient(c) });
  const withdrawals = createWithdrawals({
    db, clock, config, ledger,
    sender: (chain_id) => hotWallets.get(chain_id) ?? null,
    isOwnDepositAddress: async (ex, chain_id, address) => (await findAddressOwner(ex, chain_id, address)) !== null,
    // Invoices are wired after withdrawals (refunds are withdrawals): looked up when asked.
    isInvoiceAddress: async (ex, chain_id, address) => (await platform.invoices?.isInvoiceAddress(ex, chain_id, address)) ?? false,
    gate: standingGate((user_id, ex) => accounts.standing(user_id, ex), config),
    standing: (user_id, ex) => accounts.standing(user_id, ex),
    accountFacts: accountRiskFacts(),
    // API.md: default risk rules let a withdrawal within the user's KYC limits complete by itself,
    // so the new-account rule is off (shadow) in the stored default set (createCore's createRisk).
    new_account_ms: null,
    risk: platform.risk,
    freezeAccount: riskFreeze(accounts),
  });
  platform.hotWallets = hotWallets;
  platform.withdrawals = withdrawals;
  registerWithdrawalJobs(jobs, withdrawals);
  // A withdrawal whose job gave up is driven again and raised to staff (withdrawal-watch.ts).
  platform.workers.push(platform.leases.singleton('withdrawal-watch', (around) => intervalWorker('withdrawal-watch', WATCH_EVERY_MS, () => around(() => watchStalledWithdrawals({ db, clock })), (e) => log?.warn({ err: String(e) }, 'withdrawal watch failed'))));
  platform.routes.push({
    name: 'withdrawals',
    plugin: withdrawalRoutes({ db, clock, config, withdrawals, requireStepUp: (p) => accounts.requireStepUp(p), stepUpWithTotp: async (p, totp_code, meta) => void (await accounts.stepUp(p, { totp_code }, meta)) }),
  });
  platform.routes.push({ name: 'withdrawal-reviews', plugin: withdrawalReviewRoutes({ db, clock, config, withdrawals }) });
  if (hotWallets.size) platform.workers.push(platform.leases.singleton('hot-wallet', (around) => hotWalletWorker([...hotWallets.values()], 5_000, (e) => log?.warn({ err: String(e) }, 'hot wallet refresh failed'), around)));
  return hotWallets;
}

/** Sweeper: consolidates deposit-address balances into the hot wallets (needs the deposit keys). */
function wireSweeps(platform: Platform, hotWallets: Map<number, Sender>, log: pino.Logger | undefined): void {
  const { config, db, clock, jobs, ledger } = platform;
  if (hotWallets.size && config.deposit_mnemonic) {
    const sweepers = createSweepers({ chains: config.chains, hotWallets, keys: createDepositKeys(config.deposit_mnemonic), invoice_keys: createDepositKeys(config.deposit_mnemonic, INVOICE_PATH_PREFIX), db, clock, ledger, client: (c) => createEvmClient(c) });
    registerSweepJobs(jobs, sweepers);
    platform.workers.push(platform.leases.singleton('sweeper', (around) => sweepWorker([...sweepers.values()], 60_000, (e) => log?.warn({ err: String(e) }, 'sweep planning failed'), around)));
  }
}

/**
 * Deposits: configured assets registered in the ledger, an address per user and chain, and one
 * scanner worker per chain. A user the accounts module cannot place is held, never refused.
 */
async function wireDeposits(platform: Platform, hotWallets: Map<number, Sender>, log: pino.Logger | undefined): Promise<void> {
  const { config, db, clock, ledger, accounts, metrics } = platform;
  await registerChainAssets(ledger, config);
  const deposits = createDeposits({
    db, config, ledger, clock, metrics,
    receiveMode: async (user_id, trx) => (await accounts.standing(user_id, trx).catch(() => null))?.receive ?? 'hold',
    // Invoice addresses: credited to their merchant and attributed to the invoice (invoices are built below).
    extraOwners: async (ex, chain_id, addresses) => (await platform.invoices?.addressOwners(ex, chain_id, addresses)) ?? new Map(),
    onDepositChange: async (trx, ids) => platform.invoices?.onDepositChange(trx, ids),
    log: (level, msg, data) => log?.[level](data ?? {}, msg),
    platformAddresses: (chain_id) => { const w = hotWallets.get(chain_id); return w ? [w.address] : []; },
    // Maintenance (built below with payments): a window on the chain holds releases until it ends.
    maintenanceBlocking: async (chain_id) => (await platform.payments?.maintenance.blocking('chain', chain_id)) ?? null,
  });
  platform.deposits = deposits;
  platform.routes.push({ name: 'deposits', plugin: depositRoutes(deposits) });
  // One scanner per chain, each a singleton; the release on unfreeze is an outbox consumer (its cursor row is locked per event).
  platform.workers.push(...deposits.scanners.map((s) => platform.leases.singleton(s.name, (around) => s.worker(around))), deposits.release.worker());
}

/** The payment view's lookups: active maintenance windows and counterparties' emails. */
export function viewLookups(maintenance: Pick<Maintenance, 'active'>): Pick<PaymentViewDeps, 'activeWindows' | 'emailsOf'> {
  return {
    activeWindows: async (ex) => (await maintenance.active(ex)).map((w) => ({ scope: w.scope, ends_at_ms: w.ends_at_ms, message: w.message, message_zh: w.message_zh })),
    emailsOf: async (ex, ids) => new Map((await ex.selectFrom('users').select(['id', 'email']).where('id', 'in', ids).execute()).map((u) => [u.id, u.email])),
  };
}

/**
 * Payments: the payment views, maintenance windows (their guard goes first in routes, so that it
 * reaches every money-moving route), announcements, the public status page (ops' windows with
 * the deposit scanners' progress: it reads across modules, so it is assembled here), internal
 * transfers and their release worker, webhooks (payment events rendered by payments) and the
 * stuck-payment detector.
 */
function wirePayments(platform: Platform): PaymentsWiring {
  const { db, clock, config, ledger, accounts, jobs, deposits } = platform;
  const maintenance = createMaintenance({ db, clock, config });
  maintenance.registerJobs(jobs);
  const announcements = createAnnouncements({ db, clock, config });
  const view: PaymentViewDeps = { db, clock, config, chainTiming: chainTimingFromScanner, ...viewLookups(maintenance) };
  const transfers = createTransfers({ db, clock, config, ledger, accounts, risk: platform.risk, freezeAccount: riskFreeze(accounts) });
  // POST /diagnose asks the chains and records a transaction the scanner has not reached yet.
  const diagnosisChain = diagnosisChainFrom(deposits!, async (ex, chain_id, addresses) => (await platform.invoices?.addressOwners(ex, chain_id, addresses)) ?? new Map());
  platform.routes.unshift(maintenance.guard());
  platform.routes.push(
    { name: 'payments', plugin: paymentRoutes({ ...view, ledger: () => ledger }) },
    { name: 'transfers', plugin: transferRoutes({ ...view, transfers }) },
    { name: 'diagnosis', plugin: diagnosisRoutes(view, diagnosisChain) },
    { name: 'maintenance', plugin: maintenanceRoutes({ maintenance, clock }) },
    { name: 'announcements', plugin: announcementRoutes({ announcements, maintenance, clock, config }) },
    {
      name: 'status',
      plugin: statusRoutes({
        config, clock, maintenance, announcements, chainStatus: () => chainStatusFromScanner(db.kysely),
        figures: (activeOn) => chainFigures(db.kysely, config, clock.now_ms(), activeOn),
        incidents: () => recentPublicIncidents(db.kysely, clock.now_ms() - INCIDENTS_SHOWN_MS, INCIDENTS_SHOWN_MAX),
        history: (since_ms, bucket_ms) => sampleHistory(db.kysely, since_ms, bucket_ms),
      }),
    },
  );
  platform.workers.push(transfers.releaseWorker());
  // The status page's charts: every chain's figures recorded each minute (kept 31 days).
  const activeOn = async () => {
    const active = await maintenance.active();
    return (chain_id: number) => active.some((w) => w.scope === 'global' || w.scope === `chain:${chain_id}`);
  };
  platform.workers.push(statusSampler({ db, clock, figures: async () => chainFigures(db.kysely, config, clock.now_ms(), await activeOn()) }));
  const webhooks = createWebhooks({ db, clock, config });
  webhooks.registerRenderer('payment', paymentEventRenderer(view));
  platform.routes.push({ name: 'webhooks', plugin: webhookRoutes({ webhooks }) });
  platform.workers.push(webhooks.worker());
  platform.workers.push(platform.leases.singleton('payments.stuck', (around) => intervalWorker('payments.stuck', STUCK_EVERY_MS, () => around(() => detectStuck(view)))));
  return { maintenance, transfers, webhooks, view };
}

/**
 * Reconciliation: proves deposits = credited + held + pending, the ledger balances and deposit
 * addresses hold on chain what records say, every minute (the full ledger replay every 10 min);
 * staff see and acknowledge incidents.
 */
function wireReconcile(platform: Platform, hotWallets: Map<number, Sender>, log: pino.Logger | undefined): void {
  const { config, db, clock, ledger, metrics } = platform;
  const reconciler = createReconciler({ db, ledger, chains: config.chains, clock, metrics, hotWallet: (chain_id) => hotWallets.get(chain_id)?.address ?? null, ledger_verify_every_ms: 600_000, log: (level, msg, data) => log?.[level](data ?? {}, msg) });
  platform.workers.push(platform.leases.singleton('reconciler', (around) => reconcileWorker(reconciler, 60_000, (e) => log?.warn({ err: String(e) }, 'reconcile run failed'), around)));
  platform.routes.push({ name: 'incidents', plugin: incidentRoutes({ db, clock }) });
  // Operator top-ups of the hot wallets are booked by an admin from the chain itself (decision 0006).
  platform.routes.push({ name: 'funding', plugin: fundingRoutes({ db, ledger, clock, chains: config.chains, hotWallet: (chain_id) => hotWallets.get(chain_id)?.address ?? null, client: (c) => createEvmClient(c) }) });
}

/**
 * The support desk: cases from every channel (channels wire themselves with platform.support),
 * the customer's and the agents' routes, `case` events rendered for webhooks and /stream, and
 * the agents' own stream of the queue.
 */
function wireSupport(platform: Platform): Support {
  const { db, clock, config, accounts, deposits } = platform;
  const diagnosisChain = diagnosisChainFrom(deposits!, async (ex, chain_id, addresses) => (await platform.invoices?.addressOwners(ex, chain_id, addresses)) ?? new Map());
  const { support, stuck, workers } = wireSupportDesk({ db, clock, config, accounts, view: platform.payments!.view, diagnosisChain, webhooks: platform.payments!.webhooks, routes: platform.routes });
  platform.routes.push({ name: 'agent-stream', plugin: agentStreamRoutes({ db, clock, support }) });
  // Stuck payments open cases; cases about a payment follow it (support-stuck.ts).
  platform.supportFollowers = stuck;
  platform.workers.push(...workers);
  return support;
}

/**
 * Notifications: the list, read marks and preferences; payments' events become notices through
 * notify's outbox consumer; `notification.created` reaches the event feed (and /stream) through
 * the webhook dispatcher, as a feed-only event (no webhook is sent for it).
 */
function wireNotifications(platform: Platform): Notifications {
  const { db, clock, config } = platform;
  const payments = platform.payments!;
  const notifications = createNotifications({
    db, clock, config,
    recipient: async (ex, user_id) => {
      const u = await ex.selectFrom('users').select(['id', 'email', 'locale']).where('id', '=', user_id).executeTakeFirst();
      return u ? { id: u.id, email: u.email, locale: pickLocale(u.locale) } : null;
    },
  });
  notifications.registerProducer(NOTICE_EVENT_TYPES, paymentNotices(payments.view));
  // A window announces itself to the users whose payments it may hold (maintenance.scheduled).
  notifications.registerProducer(['maintenance.scheduled'], maintenanceNotices(payments.view, (id) => payments.maintenance.get(id)));
  payments.webhooks.registerRenderer('notification', notifications.feedRenderer());
  platform.routes.push({ name: 'notifications', plugin: notificationRoutes({ notifications, clock }) });
  platform.workers.push(notifications.worker());
  return notifications;
}

/** The desk's channels (src/support/channel-wiring.ts): email in and out, Telegram. */
async function wireChannels(platform: Platform, log: pino.Logger | undefined): Promise<SupportChannels> {
  const { config, db, clock, jobs, accounts, mailbox } = platform;
  const channels = await wireSupportChannels({
    config, db, clock, jobs, desk: platform.support!, key: accounts.encryption_key, smtp_url: config.smtp_url ?? mailbox!.url,
    userIdByEmail: (email) => accounts.findUserIdByEmail(email),
    userOf: async (id) => { const u = await accounts.getUser(id); return u ? { email: u.email, locale: u.locale } : null; },
    log: (level, msg, data) => log?.[level](data ?? {}, msg),
  });
  platform.routes.push(...channels.routes);
  platform.workers.push(...channels.workers);
  platform.closers.push(() => channels.close());
  return channels;
}

/**
 * P2P trades: ads and orders over the ledger's escrow, their window jobs, the pause of a frozen
 * seller's ads (from the outbox).
 */
function wireTrades(platform: Platform): void {
  const { config, db, clock, ledger, accounts, jobs } = platform;
  const trades = createTrades({ db, clock, config, ledger, standing: (user_id, ex) => accounts.standing(user_id, ex) });
  trades.registerJobs(jobs);
  platform.trades = trades;
  // trade.* events (one per party) become webhooks, feed rows and /stream's trade.updated.
  platform.payments!.webhooks.registerRenderer('trade', tradeEventRenderer(trades));
  platform.workers.push(trades.freezeWorker());
  platform.routes.push({ name: 'trades', plugin: tradeRoutes({ trades, clock, requireStepUp: (p) => accounts.requireStepUp(p) }) });
}

/** The web app: assets beside deposit addresses, live updates, and the pages themselves (src/web/). */
function wireWeb(platform: Platform): void {
  const { config, db, accounts } = platform;
  platform.routes.push({ name: 'assets', plugin: assetRoutes(config) });
  platform.routes.push({ name: 'stream', plugin: streamRoutes({ db, readers: { payment: livePaymentReader(platform.payments!.view), case: liveCaseReader(platform.support!), notification: liveNotificationReader(platform.notifications!), trade: liveTradeReader(platform.trades!) } }) });
  platform.routes.push({ name: 'web', prefix: '', plugin: webRoutes({ dist_dir: WEB_DIST, authenticate: accounts.authenticate, secure_cookies: config.public_url.startsWith('https://') }) });
}

export async function buildPlatformApp(platform: Platform, logger?: pino.Logger): Promise<App> {
  return buildApp({
    config: platform.config,
    db: platform.db,
    clock: platform.clock,
    metrics: platform.metrics,
    routes: platform.routes,
    readiness: platform.readiness,
    ...(platform.authenticate ? { authenticate: platform.authenticate } : {}),
    ...(logger ? { loggerInstance: logger } : {}),
  });
}

/** Starts the job runner and every worker. */
export function startBackground(platform: Platform): void {
  platform.jobs.start();
  for (const w of platform.workers) w.start();
}

/** Stops workers, then jobs (letting running jobs finish), then closers, in that order. */
export async function stopBackground(platform: Platform): Promise<void> {
  for (const w of [...platform.workers].reverse()) await w.stop();
  await platform.jobs.stop(platform.config.limits.shutdown_ms_max);
  for (const close of [...platform.closers].reverse()) await close().catch(() => undefined);
}
