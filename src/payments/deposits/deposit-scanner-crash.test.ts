// Goal: restarts and outages delay deposits but never lose or double them. Method: (1) a real
// scanner child process is SIGKILLed at random moments mid-scan and started again, over and
// over, until every deposit is released; the ledger must show each deposit credited exactly
// once. (2) anvil (with its state file) is stopped under a running scanner and started again on
// the same port; the deposit made before the outage and one made after are both released once.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { anvilAccount, sendMint, sendTokenTransfer } from '../../chain/chain.ts';
import { startAnvil } from '../../chain/chain.ts';
import { createEvmClient, createEvmReader } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { createDepositScanner } from './deposit-scanner.ts';
import { ledgerEnv, mine, startChainEnv, testChainConfig, type ChainEnv } from '../../../test/helpers/deposit-testkit.ts';
import { deployTestUsdt } from '../../chain/chain.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('deposit scanner restarts and outages on %s', (dialect) => {
  let t: TestDb | null = null;
  let chainEnv: ChainEnv | null = null;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await chainEnv?.stop();
    await t?.cleanup();
    chainEnv = null;
    t = null;
  });

  it('a scanner SIGKILLed mid-scan and restarted credits every deposit exactly once', async () => {
    t = await openTestDb(dialect);
    chainEnv = await startChainEnv({});
    const env = await ledgerEnv(t.db, chainEnv);
    const owner = anvilAccount(0);
    const users = Array.from({ length: 8 }, (_, i) => `usr_${i}`);
    const addresses = await Promise.all(users.map((u) => env.address(u)));
    const expected = new Map<string, bigint>();
    // 32 deposits, one per block (automine), interleaved with empty blocks.
    for (let i = 0; i < 32; i++) {
      const amount = USDT(10 + i);
      const h = await sendMint(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, owner, addresses[i % users.length]!, amount);
      await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 20 });
      expected.set(users[i % users.length]!, (expected.get(users[i % users.length]!) ?? 0n) + amount);
      if (i % 4 === 0) await mine(chainEnv.client, 1);
    }
    await mine(chainEnv.client, 4);

    const startChild = (): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../test/helpers/scanner-child.ts')], {
        env: { ...process.env, ...t!.env, SCANNER_CHAIN: JSON.stringify(chainEnv!.chain), SCANNER_BLOCKS_PER_TICK: '2' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stderr!.resume();
      cleanups.push(async () => void child.kill('SIGKILL'));
      return child;
    };
    const credited = async () => Number((await t!.db.kysely.selectFrom('deposits').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'credited').executeTakeFirstOrThrow()).n);
    let kills = 0;
    for (let round = 0; round < 3 && (await credited()) < 32; round++) {
      const child = startChild();
      await new Promise<void>((r) => child.stdout!.once('data', () => r()));
      await sleep(300 + Math.floor(Math.random() * 900));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(1);
    // A last, clean run finishes whatever is left.
    const last = startChild();
    for (let i = 0; i < 600 && (await credited()) < 32; i++) await sleep(100);
    last.kill('SIGKILL');
    expect(await credited()).toBe(32);
    for (const u of users) expect((await env.ledger.balancesOf('user', u, ['USDT']))[0]).toMatchObject({ available_minor: expected.get(u), pending_in_minor: 0n });
    const payments = await t.db.kysely.selectFrom('payments').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(payments.n)).toBe(32);
    const creditedEvents = await t.db.kysely.selectFrom('outbox_events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'payment.credited').executeTakeFirstOrThrow();
    expect(Number(creditedEvents.n)).toBe(32);
  }, 240_000);

  it('anvil stopped under a running scanner and restarted on the same port loses nothing', async () => {
    t = await openTestDb(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'settle-anvil-state-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const state_path = join(dir, 'state.json');
    let anvil = await startAnvil({ state_path, state_interval_s: 1 });
    const port = anvil.port;
    cleanups.push(async () => anvil.stop());
    const endpoint = { chain_id: 31337, rpc_url: anvil.rpc_url, retries_max: 0, timeout_ms: 2000 };
    const client = createEvmClient(endpoint);
    const usdt = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    const chain = testChainConfig(anvil.rpc_url, usdt, 50);
    const reader = createEvmReader(endpoint);
    const env = await ledgerEnv(t.db, { reader, chain });
    const a = await env.address('usr_a');
    const errors: string[] = [];
    const scanner = createDepositScanner({ db: t.db, ledger: env.ledger, reader, chain, blocks_per_tick_max: 50, receiveMode: async () => 'credit', log: (level, msg) => level !== 'info' && errors.push(msg) });
    scanner.start();
    cleanups.push(() => scanner.stop());
    const pay = async (amount: bigint) => {
      const h = await sendTokenTransfer(anvil.rpc_url, 31337, usdt, anvilAccount(0), a, amount).catch(async () => {
        const m = await sendMint(anvil.rpc_url, 31337, usdt, anvilAccount(0), anvilAccount(0).address.toLowerCase() as Hex, amount);
        await client.waitForTransactionReceipt({ hash: m, pollingInterval: 20 });
        return sendTokenTransfer(anvil.rpc_url, 31337, usdt, anvilAccount(0), a, amount);
      });
      await client.waitForTransactionReceipt({ hash: h, pollingInterval: 20 });
      return h;
    };
    const m0 = await sendMint(anvil.rpc_url, 31337, usdt, anvilAccount(0), anvilAccount(0).address.toLowerCase() as Hex, USDT(1000));
    await client.waitForTransactionReceipt({ hash: m0, pollingInterval: 20 });
    const before = await pay(USDT(20));
    const row = () => t!.db.kysely.selectFrom('deposits').select(['status', 'tx_hash']).execute();
    for (let i = 0; i < 100 && (await row()).length === 0; i++) await sleep(100); // the scanner sees it (confirming)
    expect((await row()).map((r) => r.status)).toEqual(['confirming']);

    await anvil.stop(); // SIGTERM: anvil writes its state
    await sleep(600); // the scanner fails a few ticks
    anvil = await startAnvil({ state_path, port });
    expect(anvil.port).toBe(port);
    const after = await pay(USDT(30));
    await mine(client, 5);
    for (let i = 0; i < 100; i++) {
      const rows = await row();
      if (rows.length === 2 && rows.every((r) => r.status === 'credited')) break;
      await sleep(100);
    }
    const rows = await row();
    expect(rows.map((r) => r.tx_hash).sort()).toEqual([before, after].sort());
    expect(rows.every((r) => r.status === 'credited')).toBe(true);
    expect((await env.ledger.balancesOf('user', 'usr_a', ['USDT']))[0]).toMatchObject({ available_minor: USDT(50), pending_in_minor: 0n });
    expect(errors.some((e) => /unreachable/.test(e))).toBe(true);
  });
});
