// A world for the article's scenarios (test/scenarios/article-causes.test.ts): the real
// composition root (startTestPlatform: createPlatform + buildPlatformApp over a fresh SQLite or
// PostgreSQL database) wired to a fresh anvil with the test USDT (startChainEnv), clients that
// sign up and sign in through the HTTP API, an outside payer that sends real coins, and a clock
// that moves in step with the chain: every block is stamped exactly one BLOCK_S after the one
// before it and the platform's ManualClock advances by the same amount, so block time as the
// scanner measures it (from sightings) and block timestamps (invoice lateness) agree.
// Background workers are not started; the scenario drives them by ticking them, one block at a
// time, as a running server would between two blocks. Test-only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { numberToHex, parseEther, parseUnits } from 'viem';
import { expect } from 'vitest';
import { bearer, startTestPlatform, turnOnTotp, type TestPlatform } from '../helpers/accounts-testkit.ts';
import { verifyEmail } from '../helpers/security-kit.ts';
import type { Hex } from '../../src/chain/chain.ts';
import { anvilAccount, sendMint, sendNative, sendTokenTransfer } from '../../src/chain/chain.ts';
import type { Dialect } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv } from '../helpers/deposit-testkit.ts';
import type { DepositScanner } from '../../src/payments/deposits/deposit-scanner.ts';
import { createReconciler, type ReconcileReport } from '../../src/payments/custody/reconciler.ts';
import { recordFunding } from '../../src/payments/custody/funding.ts';
import { chainAssets, requiredConfirmations } from '../../src/payments/deposits/deposit-rules.ts';
import type { Locale } from '../../src/shared/i18n.ts';

/** Seconds between blocks: what the scanner should measure and every ETA should be built from. */
export const BLOCK_S = 12;
export const PASSWORD = 'correct horse battery staple 9';
/** The outside world's wallet (anvil account #2): it pays users, invoices and nothing else. */
export const payer = anvilAccount(2);

export interface Client {
  id: string;
  email: string;
  locale: Locale;
  token: string;
  headers: Record<string, string>;
}

export interface Balance {
  available: string;
  pending_in: string;
  pending_out: string;
  held: string;
}

export interface World {
  t: TestPlatform;
  chain: ChainEnv;
  scanner: DepositScanner;
  /** POST /auth/register with the locale, then POST /auth/login: a real session. */
  signUp(email: string, locale: Locale): Promise<Client>;
  /** POST /auth/login: a new session (a staff freeze ends the old ones). */
  signIn(c: Client, password?: string): Promise<Client>;
  /** The first admin (as `settle admin create` makes it), signed in through the API. */
  staff(email?: string): Promise<Client>;
  call(c: Client | null, method: 'GET' | 'POST', url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  depositAddress(c: Client): Promise<Hex>;
  /** Sends USDT from the payer in the next block, then lets the platform see that block (unless `down`: the platform is not running). */
  sendUsdt(to: string, amount: string, opts?: { down?: boolean }): Promise<Hex>;
  sendEth(to: string, amount: string): Promise<Hex>;
  /** Moves both clocks one block ahead: the next block (a hot-wallet broadcast, say) is stamped then. */
  stampNextBlock(): Promise<number>;
  /**
   * The operator tops up the hot wallet from outside and books it as operator capital, as
   * `settle chain record-funding` does (withdrawals and their gas leave from that float).
   */
  fundHotWallet(eth: string, by: Client): Promise<void>;
  /** Starts a real listening server on a free port -> its base URL (closed with the world). */
  listen(): Promise<string>;
  /** Mines n empty blocks, one BLOCK_S apart; the platform sees each one (unless `down`). */
  mine(n: number, opts?: { down?: boolean }): Promise<void>;
  /** One round of the background work: scanner, due jobs, release consumers. */
  tick(): Promise<void>;
  payment(c: Client, id: string): Promise<Payment>;
  balances(c: Client): Promise<Record<string, Balance>>;
  /** `settle ledger verify` and `settle reconcile`, as staff would run them. */
  audit(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

export interface Payment {
  id: string;
  kind: string;
  direction: string;
  asset: string;
  amount: string;
  fee: string;
  status: string;
  hold: null | { reason: string; since: string };
  explanation: { code: string; message: string; eta: string | null; next_action: string };
  confirmations: null | { current: number; required: number };
  chain: null | { chain_id: number; tx_hash: string | null; block_number: number | null; from: string | null; to: string | null; token: string | null };
  created_at: string;
  updated_at: string;
  timeline: Array<{ at: string; status: string; code: string; message: string }>;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** const w = await startWorld('sqlite'); … await w.close() */
export async function startWorld(dialect: Dialect): Promise<World> {
  const chain = await startChainEnv({});
  const dir = mkdtempSync(join(tmpdir(), 'settle-scn-'));
  let t: TestPlatform | null = null;
  try {
    const client = chain.client;
    const mint = await sendMint(chain.anvil.rpc_url, 31337, chain.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, parseUnits('1000000', 6));
    await client.waitForTransactionReceipt({ hash: mint, pollingInterval: 20 });
    const configPath = join(dir, 'settle.config.json');
    writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, chains: [chain.chain] }));
    t = await startTestPlatform(dialect, { SETTLE_CONFIG: configPath, SETTLE_DEPOSIT_MNEMONIC: TEST_DEPOSIT_MNEMONIC });
    const platform = t.platform;
    const app = t.app;
    const clock = t.clock;
    // The platform's clock starts at the chain's own time; from here on both move together.
    const latest = await client.getBlock();
    clock.set(Number(latest.timestamp) * 1000);
    const scanner = platform.deposits!.scanners[0]!;
    let staffCount = 0;

    const call: World['call'] = (c, method, url, body, headers = {}) =>
      app.inject({ method, url: `/api/v1${url}`, headers: { ...(c ? c.headers : {}), ...headers }, ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}) });

    async function login(email: string, locale: Locale, password = PASSWORD): Promise<Client> {
      const res = await call(null, 'POST', '/auth/login', { email, password });
      expect(res.statusCode, res.body).toBe(200);
      const { token, user } = res.json() as { token: string; user: { id: string; locale: string } };
      expect(user.locale).toBe(locale);
      return { id: user.id, email, locale, token, headers: bearer(token) };
    }

    async function tick(): Promise<void> {
      for (let i = 0; i < 10; i++) if ((await scanner.tick()).caught_up) break;
      await t!.drainJobs();
      await platform.deposits!.release.tick();
      await platform.payments!.transfers.releaseTick();
    }

    async function stamp(): Promise<number> {
      clock.advance(BLOCK_S * 1000);
      await client.request({ method: 'evm_setNextBlockTimestamp' as never, params: [numberToHex(clock.now_ms() / 1000)] as never });
      return clock.now_ms();
    }

    async function included(hash: Hex, down = false): Promise<Hex> {
      const r = await client.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      expect(r.status).toBe('success');
      if (!down) await tick();
      return hash;
    }

    const world: World = {
      t,
      chain,
      scanner,
      async signUp(email, locale) {
        const res = await call(null, 'POST', '/auth/register', { email, password: PASSWORD, locale });
        expect(res.statusCode, res.body).toBe(201);
        const c = await login(email, locale);
        // A person confirms their address with the mailed code before anyone can send to it.
        await verifyEmail(t!, c);
        return c;
      },
      signIn: (c, password) => login(c.email, c.locale, password),
      async staff(email = `staff${++staffCount}@settle.test`) {
        await platform.accounts.createUserWithRoles(email, PASSWORD, ['admin']);
        const c = await login(email, 'en');
        // Staff routes need TOTP on and a step-up for actions: turned on the real way (leaves the session stepped up).
        await turnOnTotp(app, c.token, PASSWORD, clock.now_ms());
        return c;
      },
      call,
      async depositAddress(c) {
        const res = await call(c, 'POST', '/deposit-addresses', { asset: 'USDT' });
        expect([200, 201]).toContain(res.statusCode);
        return (res.json() as { address: Hex }).address;
      },
      async sendUsdt(to, amount, opts = {}) {
        await stamp();
        return included(await sendTokenTransfer(chain.anvil.rpc_url, 31337, chain.usdt, payer, to as Hex, parseUnits(amount, 6)), opts.down);
      },
      async sendEth(to, amount) {
        await stamp();
        return included(await sendNative(chain.anvil.rpc_url, 31337, payer, to as Hex, parseEther(amount)));
      },
      stampNextBlock: stamp,
      async fundHotWallet(eth, by) {
        const hot = platform.hotWallets!.get(31337)!.address.toLowerCase() as Hex;
        await stamp();
        const tx = await sendNative(chain.anvil.rpc_url, 31337, anvilAccount(0), hot, parseEther(eth));
        await included(tx);
        const c = platform.config.chains[0]!;
        await world.mine(requiredConfirmations(chainAssets(c).find((a) => a.token === null)!.tiers, parseEther(eth)) - 1);
        const r = await recordFunding({ db: platform.db, ledger: platform.ledger, clock }, { chain: c, client, hot, tx_hash: tx, actor: { user_id: by.id, via: 'cli' } });
        expect(r).toMatchObject({ ok: true, result: 'ok' });
      },
      async listen() {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const address = app.server.address();
        if (!address || typeof address === 'string') throw new Error('no port');
        return `http://127.0.0.1:${address.port}`;
      },
      async mine(n, opts = {}) {
        for (let i = 0; i < n; i++) {
          await stamp();
          await client.request({ method: 'evm_mine' as never });
          if (!opts.down) await tick();
        }
      },
      tick,
      async payment(c, id) {
        const res = await call(c, 'GET', `/payments/${id}`);
        expect(res.statusCode, res.body).toBe(200);
        return res.json() as Payment;
      },
      async balances(c) {
        const res = await call(c, 'GET', '/balances');
        expect(res.statusCode, res.body).toBe(200);
        const data = (res.json() as { data: Array<Balance & { asset: string }> }).data;
        return Object.fromEntries(data.map(({ asset, ...b }) => [asset, b]));
      },
      async audit() {
        const verify = await verifyLedger(platform.db.kysely);
        expect(verify.problem).toBeNull();
        return createReconciler({ db: platform.db, ledger: platform.ledger, chains: platform.config.chains, clock }).run();
      },
      async close() {
        await t!.close();
        await chain.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    // A first sighting of the head: the pace of the chain is measured from here on.
    await tick();
    return world;
  } catch (error) {
    await t?.close();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
