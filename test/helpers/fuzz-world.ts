// The world the OpenAPI fuzzer (test/fuzz/openapi-fuzz.test.ts) runs in: a whole platform with a
// dev chain configured (no RPC behind it) and deposit keys, the route collector of the
// authorization walk in front, and the actors — anonymous, a user, another user (session and
// API key), a merchant's API key, each staff role with TOTP on, a forged token — plus a VICTIM
// who never acts: a funded merchant with a session, an API key, a KYC document, a webhook
// endpoint, an invoice and a deposit address, whose ids and secrets must never reach anyone
// but staff. Also: the ledger's state (head and every balance) to compare around a refusal.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Dialect, Db } from '../../src/db/database.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { buildPlatformApp } from '../../src/platform.ts';
import { bearer, startTestPlatform, totpCode, type TestPlatform } from './accounts-testkit.ts';
import { ANVIL_TEST_MNEMONIC } from './anvil.ts';
import { idsOf, routeCollector, type CollectedRoute } from './route-walk-kit.ts';

export const FUZZ_PW = 'correct horse battery staple fuzz';

export interface Actor {
  name: string;
  /** The user behind the actor (null: anonymous or forged). */
  user_id: string | null;
  staff: boolean;
  /** The bearer token to send now (the current session or API key). */
  token(): Promise<string | null>;
  /** Called after a 401: a session or API key the fuzzer itself ended is replaced. */
  refused(): void;
}

export interface FuzzWorld {
  t: TestPlatform;
  routes: CollectedRoute[];
  /** actors[0] is the stepped-up user (the fuzzer draws it twice as often). */
  actors: Actor[];
  victim: { id: string; email: string; secrets: string[]; ids: string[] };
  emails: string[];
  /** Ids of every user's rows (the victim's too), refreshed by refreshPool(). */
  pool: string[];
  idsByUser: Map<string, string[]>;
  refreshPool(): Promise<void>;
  /** Staff whose TOTP the fuzzer turned off turn it on again (through the real flow): staff routes stay reachable. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

async function fund(t: TestPlatform, user_id: string, asset: string, amount_minor: bigint): Promise<void> {
  const ext = ledgerAccountId('platform', 'platform', asset, 'external');
  const avail = ledgerAccountId('user', user_id, asset, 'user_available');
  await t.platform.ledger.ensureAccounts([
    { id: ext, asset, owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
    { id: avail, asset, owner_type: 'user', owner_id: user_id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
  ]);
  const [r] = await t.platform.ledger.createTransfers([{ id: `fuzz.fund:${user_id}:${asset}`, debit_account_id: ext, credit_account_id: avail, amount_minor, asset, reason: 'test.fund', reference: null }]);
  if (r?.result !== 'ok') throw new Error(`fund failed: ${r?.result}`);
}

/** The ledger as a comparable text: the hash chain's head and every account's four balances. */
export async function ledgerState(db: Db): Promise<string> {
  const head = (await sql<{ seq: unknown; hash: string }>`select seq, hash from ledger_head`.execute(db.kysely)).rows;
  const accounts = (await sql<Record<string, unknown>>`select id, debits_pending_minor, debits_posted_minor, credits_pending_minor, credits_posted_minor from ledger_accounts order by id`.execute(db.kysely)).rows;
  return JSON.stringify({ head, accounts }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

async function platformWithCollector(dialect: Dialect, routes: CollectedRoute[]): Promise<TestPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-fuzz-'));
  const configPath = join(dir, 'settle.config.json');
  writeFileSync(configPath, JSON.stringify({
    rate_limit: { per_second: 100_000, burst: 100_000 }, registration_throttle: { per_ip: 100_000, window_s: 60 },
    chains: [{ chain_id: 31337, name: 'Dev', rpc_url: 'http://127.0.0.1:1', native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 2 }] } }],
  }));
  // Private webhook URLs allowed: the fuzzer's URLs are then never resolved through DNS.
  const t = await startTestPlatform(dialect, { SETTLE_CONFIG: configPath, SETTLE_DEPOSIT_MNEMONIC: ANVIL_TEST_MNEMONIC, SETTLE_PUBLIC_URL: 'https://shop.example.test', SETTLE_ALLOW_PRIVATE_WEBHOOK_URLS: '1' });
  await t.platform.db.kysely.insertInto('chain_cursors').values({ chain_id: 31337, next_block: 500, head: 499, head_seen_at_ms: t.clock.now_ms(), block_time_ms: 2000, updated_at_ms: t.clock.now_ms() }).execute();
  await t.app.close();
  t.platform.routes.unshift({ name: 'fuzz-collector', plugin: routeCollector(routes) });
  t.app = await buildPlatformApp(t.platform);
  return t;
}

/** A new API key of the user's, or null when they may not have one now (the fuzzer froze them). */
async function newApiKey(t: TestPlatform, user_id: string): Promise<string | null> {
  const s = await t.platform.accounts.issueSessionForTests(user_id);
  await t.platform.accounts.grantStepUpForTests(s.session_id);
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(s.token), payload: { name: 'fuzz' } });
  return res.statusCode === 201 ? (res.json() as { key: string }).key : null;
}

/** A session (stepped up or not), kept until a 401 says the fuzzer ended it (logout, password change …). */
function sessionActor(t: TestPlatform, name: string, user_id: string, staff: boolean, steppedUp: boolean): Actor {
  let token: string | null = null;
  return {
    name, user_id, staff,
    async token() {
      if (token) return token;
      const s = await t.platform.accounts.issueSessionForTests(user_id);
      if (steppedUp) await t.platform.accounts.grantStepUpForTests(s.session_id);
      token = s.token;
      return token;
    },
    refused() {
      token = null;
    },
  };
}

function keyActor(t: TestPlatform, name: string, user_id: string): Actor {
  let key: string | null = null;
  return {
    name, user_id, staff: false,
    async token() {
      key ??= await newApiKey(t, user_id);
      return key;
    },
    refused() {
      key = null;
    },
  };
}

/**
 * Turns TOTP on for a staff user through the real routes (step-up granted directly: the fuzzer may
 * have changed their password), half a minute later than any code used before.
 */
async function enableTotp(t: TestPlatform, user_id: string): Promise<void> {
  t.clock.advance(31_000);
  const s = await t.platform.accounts.issueSessionForTests(user_id);
  await t.platform.accounts.grantStepUpForTests(s.session_id);
  const setup = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(s.token) });
  if (setup.statusCode !== 200) throw new Error(`totp setup: ${setup.statusCode} ${setup.body}`);
  const { secret } = setup.json() as { secret: string };
  const enable = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(s.token), payload: { code: totpCode(secret, t.clock.now_ms()) } });
  if (enable.statusCode !== 200) throw new Error(`totp enable: ${enable.statusCode} ${enable.body}`);
}

async function setUpVictim(t: TestPlatform): Promise<FuzzWorld['victim']> {
  const email = 'victim@example.com';
  const v = await t.platform.accounts.createUserWithRoles(email, FUZZ_PW, ['merchant']);
  await fund(t, v.id, 'ETH', 5n * 10n ** 18n);
  const s = await t.platform.accounts.issueSessionForTests(v.id);
  await t.platform.accounts.grantStepUpForTests(s.session_id);
  const key = (await newApiKey(t, v.id))!;
  const must = async (what: string, p: Promise<{ statusCode: number; body: string }>) => {
    const r = await p;
    if (r.statusCode >= 300) throw new Error(`victim ${what}: ${r.statusCode} ${r.body}`);
  };
  await must('kyc', t.app.inject({ method: 'POST', url: '/api/v1/me/kyc/documents', headers: { ...bearer(s.token), 'content-type': 'application/pdf' }, payload: Buffer.from('%PDF-1.4 victim') }));
  await must('webhook', t.app.inject({ method: 'POST', url: '/api/v1/webhook-endpoints', headers: bearer(s.token), payload: { url: 'http://127.0.0.1:9/victim', events: ['payment.credited'] } }));
  await must('invoice', t.app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { ...bearer(key), 'idempotency-key': 'victim-invoice' }, payload: { asset: 'ETH', amount: '0.5', order_id: 'victim-order' } }));
  await must('address', t.app.inject({ method: 'POST', url: '/api/v1/deposit-addresses', headers: bearer(s.token), payload: { asset: 'ETH' } }));
  return { id: v.id, email, secrets: [email, s.token, key, 'victim-order'], ids: await idsOf(t.platform.db, v.id) };
}

/** const w = await startFuzzWorld('sqlite'); … await w.close() */
export async function startFuzzWorld(dialect: Dialect): Promise<FuzzWorld> {
  const routes: CollectedRoute[] = [];
  const t = await platformWithCollector(dialect, routes);
  const accounts = t.platform.accounts;
  const victim = await setUpVictim(t);
  const user = await accounts.createUserWithRoles('user@example.com', FUZZ_PW, []);
  const other = await accounts.createUserWithRoles('other@example.com', FUZZ_PW, []);
  const merchant = await accounts.createUserWithRoles('merchant@example.com', FUZZ_PW, ['merchant']);
  for (const u of [user, other, merchant]) await fund(t, u.id, 'ETH', 10n ** 19n);
  const staff: Array<{ id: string; role: 'agent' | 'risk' | 'admin' }> = [];
  for (const role of ['agent', 'risk', 'admin'] as const) staff.push({ id: (await accounts.createUserWithRoles(`${role}@settle.test`, FUZZ_PW, [role])).id, role });
  const actors: Actor[] = [
    sessionActor(t, 'user', user.id, false, true),
    { name: 'anonymous', user_id: null, staff: false, token: async () => null, refused() {} },
    sessionActor(t, 'other-user', other.id, false, false),
    keyActor(t, 'other-user-key', other.id),
    keyActor(t, 'merchant-key', merchant.id),
    ...staff.map((s) => sessionActor(t, s.role, s.id, true, true)),
    { name: 'forged', user_id: null, staff: false, token: async () => 'sk_live_' + 'A'.repeat(40), refused() {} },
  ];
  const world: FuzzWorld = {
    t, routes, actors, victim,
    emails: ['user@example.com', 'other@example.com', 'merchant@example.com'],
    pool: [], idsByUser: new Map(),
    async refreshPool() {
      world.idsByUser.clear();
      for (const id of [victim.id, user.id, other.id, merchant.id, ...staff.map((s) => s.id)]) world.idsByUser.set(id, await idsOf(t.platform.db, id));
      world.pool = [...new Set([...world.idsByUser.values()].flat())];
    },
    async restore() {
      const db = t.platform.db.kysely;
      for (const s of staff) {
        const row = await db.selectFrom('users').select('totp_enabled').where('id', '=', s.id).executeTakeFirstOrThrow();
        if (!row.totp_enabled) await enableTotp(t, s.id);
      }
    },
    close: () => t.close(),
  };
  await world.refreshPool();
  await world.restore();
  return world;
}
