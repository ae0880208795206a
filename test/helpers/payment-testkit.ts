// Test support for the payments module's API tests: a config with one chain (ETH + USDT), a
// fixed-principal authenticate (header `x-test-user: usr_a` or `usr_a:admin`, locale from
// `x-test-locale`) until the accounts module's real one is wired, and a built app.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Locale } from '../../src/shared/i18n.ts';
import type { Principal, Role } from '../../src/shared/principal.ts';

export const TEST_USDT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';

export const TEST_CHAINS: Config['chains'] = [
  {
    chain_id: 31337,
    name: 'Dev chain',
    rpc_url: 'http://127.0.0.1:1',
    native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 3 }] },
    tokens: [{ symbol: 'USDT', address: TEST_USDT, decimals: 6, min_deposit: '1', confirmations: [{ max_amount: '1000', blocks: 3 }, { max_amount: null, blocks: 12 }] }],
  },
];

/** A config with TEST_CHAINS, built in code (no settle.config.json file to write and clean up). */
export function testConfig(extra: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'settle-pay-'));
  const base = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS: '1', ...extra }, dir);
  return { ...base, chains: TEST_CHAINS, rate_limit: { per_second: 100_000, burst: 100_000 } };
}

/** Principal from `x-test-user: <user_id>[:role,role][:scope scope]`. */
export async function headerAuthenticate(req: FastifyRequest): Promise<Principal | null> {
  const raw = req.headers['x-test-user'];
  if (typeof raw !== 'string' || !raw) return null;
  const [user_id, roles, scopes] = raw.split(':');
  const status = (req.headers['x-test-status'] as Principal['status'] | undefined) ?? 'active';
  const staff = !scopes && (roles ?? '').split(',').some((r) => r === 'agent' || r === 'risk' || r === 'admin');
  return {
    kind: scopes ? 'api_key' : 'session',
    user_id: user_id!,
    email: `${user_id}@example.test`,
    roles: (roles ? roles.split(',') : ['user']) as Role[],
    status,
    locale: ((req.headers['x-test-locale'] as string | undefined) ?? 'en') as Locale,
    session_id: scopes ? null : `ses_${user_id}`,
    api_key_id: scopes ? `key_${user_id}` : null,
    scopes: scopes ? scopes.split(' ') : null,
    // A header principal stands for a signed-in staff member who turned TOTP on and stepped up:
    // these tests are about payments; the staff gate itself is proven through the real flow in
    // test/api/staff-rank-and-2fa.test.ts.
    privileged_until_ms: staff ? Number.MAX_SAFE_INTEGER : null,
    totp_enabled: staff,
  };
}

// ------------------------------------------------------------------ a real-module harness
import type { FastifyPluginAsync } from 'fastify';
import { buildApp, type App } from '../../src/app.ts';
import { createAccounts, type Accounts } from '../../src/accounts/accounts.ts';
import type { Dialect } from '../../src/db/database.ts';
import { createLedger, type Ledger } from '../../src/ledger/ledger.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { createMaintenance, type Maintenance } from '../../src/ops/maintenance.ts';
import { maintenanceRoutes } from '../../src/ops/maintenance-routes.ts';
import { createMetrics } from '../../src/ops/metrics.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { parseAmount } from '../../src/shared/money.ts';
import { openTestDb, type TestDb } from './db.ts';
import { assetsFromChains } from '../../src/payments/payment-rules.ts';
import { paymentRoutes, type PaymentViewDeps } from '../../src/payments/payment-routes.ts';
import { transferRoutes } from '../../src/payments/transfers/transfer-routes.ts';
import { createTransfers, type Transfers } from '../../src/payments/transfers/transfers.ts';
import { viewLookups } from '../../src/platform.ts';

export interface Harness {
  t: TestDb;
  config: Config;
  clock: ManualClock;
  ledger: Ledger;
  accounts: Accounts;
  maintenance: Maintenance;
  transfers: Transfers;
  view: PaymentViewDeps;
  app: App;
  /** Registers a user and returns its id and Bearer headers. */
  user(email: string, roles?: Role[]): Promise<{ id: string; headers: Record<string, string>; principal: Principal }>;
  /** Credits a user's available balance from the outside world. */
  fund(user_id: string, asset: string, amount: string): Promise<void>;
  close(): Promise<void>;
}

/** Real accounts (sessions), real ledger, the payment, transfer and maintenance routes. */
export async function startHarness(dialect: Dialect, extraRoutes: (h: { t: TestDb; clock: ManualClock; config: Config; view: PaymentViewDeps }) => Array<{ name: string; plugin: FastifyPluginAsync }> = () => []): Promise<Harness> {
  const t = await openTestDb(dialect);
  const config = testConfig();
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 1));
  const ledger = createLedger(t.db, clock);
  const assets = assetsFromChains(config.chains);
  await ledger.ensureAssets(assets.map((a) => ({ code: a.code, decimals: a.decimals, chain_id: a.chain_id, contract_address: a.contract_address })));
  const accounts = createAccounts({ db: t.db, config, clock });
  const maintenance = createMaintenance({ db: t.db, clock, config });
  const transfers = createTransfers({ db: t.db, clock, config, ledger, accounts });
  const view: PaymentViewDeps = {
    db: t.db,
    clock,
    config,
    ...viewLookups(maintenance),
  };
  const app = await buildApp({
    config,
    db: t.db,
    clock,
    metrics: createMetrics(false),
    authenticate: (req) => accounts.authenticate(req),
    routes: [
      maintenance.guard(),
      { name: 'payments', plugin: paymentRoutes({ ...view, ledger: () => ledger }) },
      { name: 'transfers', plugin: transferRoutes({ ...view, transfers }) },
      { name: 'maintenance', plugin: maintenanceRoutes({ maintenance, clock }) },
      ...extraRoutes({ t, clock, config, view }),
    ],
  });
  return {
    t, config, clock, ledger, accounts, maintenance, transfers, view, app,
    async user(email, roles = []) {
      const u = await accounts.createUserWithRoles(email, 'correct horse battery staple 9', roles);
      const s = await accounts.issueSessionForTests(u.id);
      const principal: Principal = { kind: 'session', user_id: u.id, email: u.email, roles: u.roles, status: u.status, locale: 'en', session_id: s.session_id, api_key_id: null, scopes: null, privileged_until_ms: null };
      return { id: u.id, headers: { authorization: `Bearer ${s.token}` }, principal };
    },
    async fund(user_id, asset, amount) {
      const info = assets.find((a) => a.code === asset)!;
      const parsed = parseAmount(amount, info.decimals);
      if (!parsed.ok) throw new Error('bad amount');
      const ext = ledgerAccountId('platform', 'platform', asset, 'external');
      const avail = ledgerAccountId('user', user_id, asset, 'user_available');
      await ledger.ensureAccounts([
        { id: ext, asset, owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
        { id: avail, asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
      ]);
      const [r] = await ledger.createTransfers([{ id: `fund:${user_id}:${asset}:${Math.random().toString(36).slice(2)}`, debit_account_id: ext, credit_account_id: avail, amount_minor: parsed.amount_minor, asset, reason: 'test.fund', reference: null }]);
      if (r?.result !== 'ok') throw new Error(`fund failed: ${r?.result}`);
    },
    async close() {
      await app.close();
      await ledger.drain();
      await t.cleanup();
    },
  };
}

// ------------------------------------------------------------------ hot-wallet funding on a real chain
import type { PublicClient } from 'viem';
import type { ChainConfigFile } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Hex } from '../../src/chain/chain.ts';
import { anvilAccount, sendMint, sendNative } from '../../src/chain/chain.ts';
import { recordFunding } from '../../src/payments/custody/funding.ts';

/**
 * Funds a hot wallet the honest way for a test: a real transaction on anvil (native coin from
 * anvil account #`from`, or TestUSDT minted by its deployer, account #0), mined deep enough, then
 * booked through `settle chain record-funding`'s code (debit hot_wallet / credit external), so
 * that reconciliation's hot-wallet and solvency checks stay clean.
 * await fundHotWallet({ db, ledger, clock, chain, client }, hot, 'ETH', parseEther('1'))
 */
export async function fundHotWallet(
  env: { db: Db; ledger: Ledger; clock: Clock; chain: ChainConfigFile; client: PublicClient },
  hot: Hex,
  asset: 'ETH' | 'USDT',
  amount_minor: bigint,
  opts: { from?: number } = {},
): Promise<Hex> {
  const { chain, client } = env;
  const usdt = chain.tokens?.find((t) => t.symbol === 'USDT')?.address as Hex | undefined;
  const hash =
    asset === 'ETH'
      ? await sendNative(chain.rpc_url, chain.chain_id, anvilAccount(opts.from ?? 4), hot, amount_minor)
      : await sendMint(chain.rpc_url, chain.chain_id, usdt!, anvilAccount(0), hot, amount_minor);
  await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  await client.request({ method: 'anvil_mine' as never, params: ['0xc'] as never }); // 12 blocks: deeper than any test tier
  const r = await recordFunding(env, { chain, client, hot, tx_hash: hash, actor: { user_id: 'usr_test_admin', via: 'cli' } });
  if (!r.ok) throw new Error(`funding refused: ${r.code}: ${r.detail}`);
  return hash;
}
