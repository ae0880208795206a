// Goal: a platform process that is SIGKILLed while it moves withdrawals on chain — before the
// hot wallet signs, after it signed but before the broadcast, right after the broadcast, while
// the transaction confirms, and at random moments — sends every withdrawal on chain exactly once
// once it is started again over the same database: each recipient (a fresh address per
// withdrawal) holds exactly its amount, the hot wallet used exactly one nonce per withdrawal,
// every withdrawal completed, users' balances are what they asked, and `settle ledger verify`
// is clean.
// Method: the whole platform (createPlatform + its workers and job runner) runs in
// test/crash/platform-child.ts, which kills itself with SIGKILL at the chosen point of the
// hot wallet's steps (or the test kills it after a random delay); a real anvil mines a block
// every 700 ms; new withdrawals are requested in every round once the process runs (the
// withdrawals module, as POST /withdrawals does) so that every kill point has work to land
// in. Each restarted process runs "later" (its clock ahead by more than the 30 s job lease), as
// after a real restart. Runs on each dialect.
import { describe, expect, it } from 'vitest';
import { getAddress, keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DIALECTS } from '../helpers/db.ts';
import { anvilAccount, sendMint } from '../../src/chain/chain.ts';
import { balanceOfToken } from '../helpers/anvil.ts';
import type { Hex } from '../../src/chain/chain.ts';
import { devHotWalletKey } from '../../src/chain/chain.ts';
import { bookDevFloat } from '../../src/payments/custody/dev-float.ts';
import { platformAccount } from '../../src/payments/custody/chart.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { crashWorlds, settle, sleep } from './crash-kit.ts';

const CHAIN = 31337;
const POINTS = ['before_sign', 'after_sign', 'after_broadcast', 'while_confirming', 'random'] as const;
const PER_ROUND = 3;
/** How much later each restart happens than the previous one (past the job lease). */
const LATER_MS = 31_000;
/** Each point once, then random kills (a child process takes seconds to start on a busy machine). */
const ROUNDS = POINTS.length + 2;
const hot = privateKeyToAccount(devHotWalletKey()).address.toLowerCase() as Hex;

describe.each(DIALECTS)('withdrawals through SIGKILLed platform processes on %s', (dialect) => {
  const worlds = crashWorlds();

  it('every withdrawal is sent on chain exactly once and the ledger verifies', async () => {
    // The test's own platform (no workers): users, their balances, requests, and what is read back.
    const world = await worlds.open(dialect, (c) => ({ ...c, poll_interval_ms: 50 }));
    const { t, env, files, platform: p } = world;
    const mint = await sendMint(env.anvil.rpc_url, CHAIN, env.usdt, anvilAccount(0), hot, 100_000_000_000n);
    await env.client.waitForTransactionReceipt({ hash: mint, pollingInterval: 20 });
    await bookDevFloat({ ledger: p.ledger, client: env.client, chain: env.chain, hot }); // genesis ETH + the USDT float

    const users: string[] = [];
    for (let i = 0; i < 3; i++) users.push((await p.accounts.createUserWithRoles(`w${i}@crash.test`, 'correct horse battery staple 9', [])).id);
    const funded = { USDT: 5_000_000_000n, ETH: 5n * 10n ** 18n };
    for (const asset of ['USDT', 'ETH'] as const) {
      await p.ledger.ensureAccounts([platformAccount(asset, 'external'), ...users.map((u) => ({ id: ledgerAccountId('user', u, asset, 'user_available'), asset, owner_type: 'user' as const, owner_id: u, kind: 'user_available' as const, flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }))]);
      const r = await p.ledger.createTransfers(users.map((u) => ({ id: `fund:${u}:${asset}`, debit_account_id: platformAccount(asset, 'external').id, credit_account_id: ledgerAccountId('user', u, asset, 'user_available'), amount_minor: funded[asset], asset, reason: 'test.fund', reference: null })));
      expect(r.every((x) => x.result === 'ok')).toBe(true);
    }

    const asked: Array<{ id: string; user: string; asset: 'USDT' | 'ETH'; to: Hex; amount: bigint }> = [];
    async function request(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const k = asked.length;
        const asset = k % 2 === 0 ? 'USDT' : 'ETH';
        const to = getAddress(`0x${keccak256(toHex(`crash-recipient-${dialect}-${k}`)).slice(26)}`) as Hex;
        const amount = asset === 'USDT' ? BigInt(1 + k) * 1_000_000n : BigInt(1 + k) * 10n ** 15n;
        const user = users[k % users.length]!;
        const r = await p.withdrawals!.request({ user_id: user, user_status: 'active', idempotency_key: `wd-${k}`, asset, to_address: to, amount_minor: amount });
        expect(r.result).toBe('created');
        asked.push({ id: r.payment.id, user, asset, to, amount });
      }
    }
    const statuses = async () => (await t.db.kysely.selectFrom('payments').select(['id', 'status']).where('kind', '=', 'withdrawal').execute()).map((r) => r.status);

    const stopMining = worlds.miner(world, 700);
    const crashed = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const point = round < POINTS.length ? POINTS[round]! : 'random';
      // Each process starts "later" than the last died (its clock runs ahead): the job leases the
      // killed process held (30 s) have expired, as they would after a real restart.
      const child = worlds.child({ ...files.env, CRASH_CLOCK_OFFSET_MS: String(LATER_MS * (round + 1)), ...(point === 'random' ? {} : { CRASH_POINT: point, CRASH_NTH: String(round < POINTS.length ? 1 : 2) }) });
      await Promise.race([child.ready, child.exited]);
      await request(PER_ROUND); // new work arrives while it runs
      if (point === 'random') {
        await sleep(100 + Math.floor(Math.random() * 700));
        await child.kill();
      } else {
        // It dies at its point; one that never reaches it (nothing left to do there) is killed anyway.
        await Promise.race([child.exited, sleep(20_000)]);
        await child.kill();
      }
      const m = /^crash (\w+)$/m.exec(child.output());
      const key = m ? m[1]! : point === 'random' ? 'random' : `${point} (not reached)`;
      crashed.set(key, (crashed.get(key) ?? 0) + 1);
    }
    console.log(`withdrawal crash test on ${dialect}: kills ${JSON.stringify([...crashed])}`);
    // Every kill point was really hit at least once.
    for (const point of POINTS) expect([...crashed.keys()], JSON.stringify([...crashed])).toContain(point);

    // A last platform process, never killed, finishes what is left.
    const last = worlds.child({ ...files.env, CRASH_CLOCK_OFFSET_MS: String(LATER_MS * (ROUNDS + 1)) });
    await last.ready;
    for (let i = 0; i < 600 && (await statuses()).some((s) => s !== 'completed' && s !== 'failed'); i++) await sleep(100);
    await last.kill();
    stopMining();

    const jobs = await t.db.kysely.selectFrom('jobs').select(['status', 'run_at_ms', 'attempts', 'lease_until_ms', 'last_error']).where('kind', '=', 'withdrawal.advance').where('status', '!=', 'done').execute();
    expect(await statuses(), `${Date.now()} ${JSON.stringify(jobs)}\n${last.output().slice(-3000)}`).toEqual(asked.map(() => 'completed'));
    // Exactly once on chain: each fresh recipient holds exactly its amount, and the hot wallet
    // spent one nonce per withdrawal (no second transaction, no cancel).
    for (const w of asked) {
      const got = w.asset === 'USDT' ? await balanceOfToken(env.client, env.usdt, w.to.toLowerCase() as Hex) : await env.client.getBalance({ address: w.to });
      expect({ to: w.to, asset: w.asset, got }).toEqual({ to: w.to, asset: w.asset, got: w.amount });
    }
    expect(await env.client.getTransactionCount({ address: hot, blockTag: 'latest' })).toBe(asked.length);
    const txs = await t.db.kysely.selectFrom('chain_txs').select(['purpose', 'status']).where('from_address', '=', hot).execute();
    expect(txs.map((x) => `${x.purpose}:${x.status}`)).toEqual(asked.map(() => 'withdrawal:confirmed'));

    for (const u of users) {
      const b = await p.ledger.balancesOf('user', u, ['USDT', 'ETH']);
      for (const asset of ['USDT', 'ETH'] as const) {
        const out = asked.filter((w) => w.user === u && w.asset === asset).reduce((s, w) => s + w.amount, 0n);
        expect(b.find((x) => x.asset === asset)).toMatchObject({ available_minor: funded[asset] - out, pending_out_minor: 0n });
      }
    }
    expect((await verifyLedger(t.db.kysely)).problem).toBeNull();
    const verify = settle(['ledger', 'verify'], files.env);
    expect(verify.code, verify.out).toBe(0);
  }, 300_000);
});
