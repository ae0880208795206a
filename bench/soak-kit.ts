// The soak's world (bench/soak.ts): a real anvil with TestUSDT, a data dir and configuration, the
// platform as a child process serving HTTP (test/crash/platform-child.ts, SIGKILLed by pid and
// started again "later"), this process's own platform over the same database (no workers) to
// set up staff-side things and to read back, and the HTTP client that remembers every request
// and retries the unanswered ones with the same Idempotency-Key.
import { writeFileSync } from 'node:fs';
import { getAddress, keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadConfig } from '../src/config.ts';
import { main } from '../src/cli.ts';
import { openConfiguredDb, type CliContext } from '../src/db/configured-db.ts';
import type { Dialect } from '../src/db/database.ts';
import { createPlatform, stopBackground, type Platform } from '../src/platform.ts';
import { anvilAccount, devHotWalletKey, sendMint, type Hex } from '../src/chain/chain.ts';
import { bookDevFloat } from '../src/payments/custody/dev-float.ts';
import { openTestDb, type TestDb } from '../test/helpers/db.ts';
import { mine, startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv } from '../test/helpers/deposit-testkit.ts';
import { platformFiles, startChild, type Child, type PlatformFiles } from '../test/crash/crash-kit.ts';

export const CHAIN = 31337;
/** Each restart runs this much later than the last (past the 60 s idempotency lock and the job leases). */
export const LATER_MS = 61_000;
export const PW = 'correct horse battery staple soak';

export interface SoakWorld {
  t: TestDb;
  env: ChainEnv;
  files: PlatformFiles;
  platform: Platform;
  /** The clock offset every process of this run shares (grows at each restart). */
  offset: { ms: number };
  /** A destination nobody else pays: its USDT balance is what the withdrawals sent. */
  dest: Hex;
  child: Child | null;
  port: number;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSoakWorld(dialect: Dialect): Promise<SoakWorld> {
  const t = await openTestDb(dialect);
  const env = await startChainEnv({});
  const files = platformFiles({ ...env.chain, poll_interval_ms: 100 }, t.env, { SETTLE_DEPOSIT_MNEMONIC: TEST_DEPOSIT_MNEMONIC });
  // Registrations are part of the load: the per-IP registration throttle would refuse most of them.
  writeFileSync(files.env.SETTLE_CONFIG!, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, registration_throttle: { per_ip: 100_000, window_s: 60 }, chains: [{ ...env.chain, poll_interval_ms: 100 }] }, null, 2));
  const offset = { ms: 0 };
  const clock = { now_ms: () => Date.now() + offset.ms };
  const platform = await createPlatform(loadConfig(files.env, files.dir), t.db, { clock });
  const hot = privateKeyToAccount(devHotWalletKey()).address.toLowerCase() as Hex;
  const mint = await sendMint(env.anvil.rpc_url, CHAIN, env.usdt, anvilAccount(0), hot, 10_000_000_000_000n);
  await env.client.waitForTransactionReceipt({ hash: mint, pollingInterval: 20 });
  await bookDevFloat({ ledger: platform.ledger, client: env.client, chain: env.chain, hot });
  const miner = setInterval(() => void mine(env.client, 1).catch(() => undefined), 250);
  const world: SoakWorld = {
    t, env, files, platform, offset, child: null, port: 0,
    dest: getAddress(`0x${keccak256(toHex(`soak-destination-${Date.now()}`)).slice(26)}`) as Hex,
    async start() {
      world.child = startChild({ ...files.env, CRASH_SERVE: '1', CRASH_CLOCK_OFFSET_MS: String(offset.ms) });
      world.port = await world.child.ready;
    },
    async kill() {
      await world.child?.kill();
      world.child = null;
      offset.ms += LATER_MS;
    },
    async stop() {
      clearInterval(miner);
      await world.child?.kill();
      await stopBackground(platform);
      await env.stop();
      await t.cleanup();
      files.cleanup();
    },
  };
  return world;
}

/** `settle <args>` in this process over the run's configuration -> exit code and output. */
export async function settleHere(world: SoakWorld, args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const config = loadConfig(world.files.env, world.files.dir);
  const ctx: CliContext = { config: () => config, openDb: () => openConfiguredDb(config) };
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l) }, ctx);
  return { code, out: lines.join('\n') };
}

export type OpKind = 'register' | 'transfer' | 'withdrawal' | 'invoice';

/** One request of the load, sent until it gets an answer (retried with the same key and body). */
export interface Op {
  kind: OpKind;
  key: string;
  path: string;
  body: Record<string, unknown>;
  /** Whose token signs it (null: anonymous). */
  as: string | null;
  status: number | null;
  answer: Record<string, unknown> | null;
  sends: number;
}

/**
 * Sends `op` once; false when no answer came (connection refused or dropped, server killed,
 * 5xx, the key still locked by a request that died in flight): the op stays pending.
 */
export async function sendOp(world: SoakWorld, op: Op, token: (user: string) => string): Promise<boolean> {
  op.sends++;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': op.key };
  if (op.as) headers.authorization = `Bearer ${token(op.as)}`;
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${world.port}${op.path}`, { method: 'POST', headers, body: JSON.stringify(op.body), signal: AbortSignal.timeout(20_000) });
  } catch {
    return false;
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (res.status >= 500 || (res.status === 409 && body?.code === 'idempotency_key_in_use')) return false;
  op.status = res.status;
  op.answer = body;
  return true;
}
