// Test kit for P2P trades: a whole platform (real accounts, ledger, jobs) with one dev chain
// configured (ETH + USDT, no RPC behind it) over a test database that outlives a platform, so
// that a test can stop the platform and start another on the same data (a restart). Users get
// real sessions; funding books from the platform's `external` account like an operator's float.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Dialect } from '../../src/db/database.ts';
import { ledgerAccountId } from '../../src/ledger/ledger.ts';
import { buildPlatformApp, createPlatform, stopBackground, type Platform } from '../../src/platform.ts';
import type { App } from '../../src/app.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { parseAmount } from '../../src/shared/money.ts';
import { openTestDb, type TestDb } from './db.ts';
import { TEST_CHAINS } from './payment-testkit.ts';

export const P2P_PW = 'correct horse battery staple 9';

export interface P2pUser {
  id: string;
  headers: Record<string, string>;
}

export interface P2pKit {
  t: TestDb;
  config: Config;
  clock: ManualClock;
  platform: Platform;
  app: App;
  user(email: string): Promise<P2pUser>;
  fund(user_id: string, asset: string, amount: string): Promise<void>;
  /** { available, pending_out, … } of GET /balances for one asset. */
  balance(u: P2pUser, asset?: string): Promise<Record<string, string>>;
  /** Opens the user's 15-minute step-up window with the password. */
  stepUp(u: P2pUser): Promise<void>;
  /** Stops the platform (workers, jobs, app) and starts a fresh one on the same database. */
  restart(): Promise<void>;
  drainJobs(): Promise<number>;
  close(): Promise<void>;
}

export async function startP2pKit(dialect: Dialect, file: Record<string, unknown> = {}): Promise<P2pKit> {
  const t = await openTestDb(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'settle-p2p-'));
  const configPath = join(dir, 'settle.config.json');
  writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, registration_throttle: { per_ip: 100_000, window_s: 60 }, chains: TEST_CHAINS, ...file }));
  const config = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_CONFIG: configPath }, dir);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const kit = { t, config, clock } as P2pKit;
  const boot = async () => {
    kit.platform = await createPlatform(config, t.db, { clock });
    kit.app = await buildPlatformApp(kit.platform);
  };
  const stop = async () => {
    await kit.app.close();
    await stopBackground(kit.platform);
  };
  await boot();
  Object.assign(kit, {
    async user(email: string) {
      const u = await kit.platform.accounts.createUserWithRoles(email, P2P_PW, []);
      const s = await kit.platform.accounts.issueSessionForTests(u.id);
      return { id: u.id, headers: { authorization: `Bearer ${s.token}` } };
    },
    async fund(user_id: string, asset: string, amount: string) {
      const decimals = asset === 'USDT' ? 6 : 18;
      const parsed = parseAmount(amount, decimals);
      if (!parsed.ok) throw new Error('bad amount');
      const ext = ledgerAccountId('platform', 'platform', asset, 'external');
      const avail = ledgerAccountId('user', user_id, asset, 'user_available');
      const ledger = kit.platform.ledger;
      await ledger.ensureAccounts([
        { id: ext, asset, owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
        { id: avail, asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
      ]);
      const [r] = await ledger.createTransfers([{ id: `fund:${user_id}:${asset}:${Math.random().toString(36).slice(2)}`, debit_account_id: ext, credit_account_id: avail, amount_minor: parsed.amount_minor, asset, reason: 'test.fund', reference: null }]);
      if (r?.result !== 'ok') throw new Error(`fund failed: ${r?.result}`);
    },
    async balance(u: P2pUser, asset = 'USDT') {
      const res = await kit.app.inject({ url: '/api/v1/balances', headers: u.headers });
      return (res.json().data as Array<Record<string, string>>).find((b) => b.asset === asset)!;
    },
    async stepUp(u: P2pUser) {
      const res = await kit.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: u.headers, payload: { password: P2P_PW } });
      if (res.statusCode !== 204) throw new Error(`step-up: ${res.statusCode} ${res.body}`);
    },
    async restart() {
      await stop();
      await boot();
    },
    async drainJobs() {
      let n = 0;
      for (let i = 0; i < 20; i++) {
        const ran = await kit.platform.jobs.tick();
        n += ran;
        if (ran === 0) break;
      }
      return n;
    },
    async close() {
      await stop();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return kit;
}
