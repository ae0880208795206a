// Goal: prove the hot wallet's sender never reuses or skips a nonce and drives every signed
// transaction to an outcome. Method: real anvil (started here), real databases (SQLite, and
// PostgreSQL when SETTLE_TEST_DATABASE_URL is set), two Sender instances over two separate
// database connections racing for nonces, a "crash" simulated by signing without broadcasting
// and handing the row to a fresh Sender, and a stuck transaction under --no-mining.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex, type PublicClient } from 'viem';
import { openDb } from '../db/database.ts';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { ManualClock, systemClock } from '../shared/clock.ts';
import { startAnvil, type AnvilHandle } from './anvil.ts';
import { createEvmClient } from './evm.ts';
import { anvilAccount, deployTestUsdt, sendMint } from './test-usdt.ts';
import { balanceOfToken } from '../../test/helpers/anvil.ts';
import type { Hex } from './chain-types.ts';
import { Sender } from './hot-wallet.ts';
import { erc20TransferData, FEE_BUMP_PER_MILLE } from './hot-wallet-rules.ts';
import { attemptsOf, getChainTx } from './hot-wallet-store.ts';

const CHAIN = 31337;
export function anvilKey(index: number): Hex {
  return toHex(anvilAccount(index).getHdKey().privateKey!);
}
const SINK = '0x000000000000000000000000000000000000dEaD' as Hex;

async function mine(client: PublicClient, blocks = 1): Promise<void> {
  await client.request({ method: 'anvil_mine' as never, params: [toHex(blocks)] as never });
}

describe.each(DIALECTS)('hot wallet sender on %s', (dialect) => {
  let anvil: AnvilHandle;
  let client: PublicClient;
  let t: TestDb;
  beforeAll(async () => {
    anvil = await startAnvil();
    client = createEvmClient({ chain_id: CHAIN, rpc_url: anvil.rpc_url });
    t = await openTestDb(dialect);
  }, 60_000);
  afterAll(async () => {
    await t?.cleanup();
    await anvil?.stop();
  });

  it('broadcasts, tracks confirmations and confirms at depth', async () => {
    const s = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(1), db: t.db, clock: systemClock });
    const r = await s.prepare({ purpose: 'test', purpose_id: 'depth', to: SINK, value_minor: 1000n, confirmations_required: 3 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Preparing the same intent again returns the same row (idempotent by purpose).
    const again = await s.prepare({ purpose: 'test', purpose_id: 'depth', to: SINK, value_minor: 1000n, confirmations_required: 3 });
    expect(again.ok && again.tx.nonce).toBe(r.tx.nonce);
    await s.broadcast(r.tx.id);
    // Automine puts it in a block, but a loaded node may answer the receipt a moment later.
    let v1 = await s.refresh(r.tx.id);
    for (let i = 0; i < 100 && v1.status === 'broadcast'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      v1 = await s.refresh(r.tx.id);
    }
    expect(v1.status).toBe('mined');
    expect(v1.confirmations).toBe(1);
    await mine(client, 2);
    const v2 = await s.refresh(r.tx.id);
    expect(v2.status).toBe('confirmed');
    expect(v2.confirmations).toBe(3);
    expect(v2.gas_fee_minor! > 0n).toBe(true);
  });

  it('a transaction removed by a reorg before depth is rebroadcast (same bytes) and confirms', async () => {
    const s = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(6), db: t.db, clock: systemClock });
    const snapshot = await client.request({ method: 'evm_snapshot' as never });
    const r = await s.prepare({ purpose: 'test', purpose_id: 'reorg', to: SINK, value_minor: 9n, confirmations_required: 3 });
    if (!r.ok) throw new Error('prepare refused');
    await s.broadcast(r.tx.id);
    const mined = await s.refresh(r.tx.id);
    expect(mined.status).toBe('mined');
    // The block that held it disappears (anvil drops the transaction with it).
    await client.request({ method: 'evm_revert' as never, params: [snapshot] as never });
    const back = await s.refresh(r.tx.id);
    expect(back.status).toBe('broadcast');
    await mine(client, 3);
    const v = await s.refresh(r.tx.id);
    expect(v.status).toBe('confirmed');
    expect(v.hash).toBe(mined.hash);
  });

  it('two workers never reuse a nonce, and leave no gap', async () => {
    // PostgreSQL: two connection pools, as two processes would have. SQLite: better-sqlite3 waits
    // for a lock synchronously, so two connections in ONE process would block each other's
    // event loop; there the workers share the handle (two processes get BEGIN IMMEDIATE).
    const db2 = dialect === 'postgres' ? openDb(t.target) : t.db;
    try {
      const a = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(2), db: t.db, clock: systemClock });
      const b = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(2), db: db2, clock: systemClock });
      const start = await client.getTransactionCount({ address: a.address, blockTag: 'pending' });
      const N = 12;
      const results = await Promise.all(
        Array.from({ length: N * 2 }, (_, i) => (i % 2 ? a : b).prepare({ purpose: 'test', purpose_id: `race-${i}`, to: SINK, value_minor: BigInt(i + 1), confirmations_required: 1 })),
      );
      const nonces = results.map((r) => (r.ok ? r.tx.nonce : -1)).sort((x, y) => x - y);
      expect(nonces).toEqual(Array.from({ length: N * 2 }, (_, i) => start + i));
      // Broadcast out of order from both workers; every one is mined.
      for (const [i, r] of results.entries()) if (r.ok) await (i % 2 ? b : a).broadcast(r.tx.id);
      for (const r of results) if (r.ok) expect((await a.refresh(r.tx.id)).status).toBe('confirmed');
      expect(await client.getTransactionCount({ address: a.address })).toBe(start + N * 2);
    } finally {
      if (db2 !== t.db) await db2.close();
    }
  }, 60_000);

  it('a crash between signing and broadcasting rebroadcasts the very same transaction', async () => {
    const before = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(3), db: t.db, clock: systemClock });
    const r = await before.prepare({ purpose: 'test', purpose_id: 'crash', to: SINK, value_minor: 7n, confirmations_required: 1 });
    if (!r.ok) throw new Error('prepare refused');
    const [signed] = await attemptsOf(t.db.kysely, r.tx.id);
    // "Crash": the process dies here. A new process (new Sender, new connection) picks it up.
    const db2 = dialect === 'postgres' ? openDb(t.target) : t.db;
    try {
      const after = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(3), db: db2, clock: systemClock });
      expect(await after.refreshOpen()).toBeGreaterThanOrEqual(1);
      const v = await after.refresh(r.tx.id);
      expect(v.status).toBe('confirmed');
      expect(v.hash).toBe(signed!.hash);
      expect(await attemptsOf(db2.kysely, r.tx.id)).toHaveLength(1);
    } finally {
      if (db2 !== t.db) await db2.close();
    }
  });

  it('a token transfer that would revert is refused before a nonce is taken; coins promised to unmined transfers are not spent twice', async () => {
    const s = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(4), db: t.db, clock: systemClock });
    const token = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    await client.waitForTransactionReceipt({ hash: await sendMint(anvil.rpc_url, CHAIN, token, anvilAccount(0), s.address, 10n) });
    const ZERO = '0x0000000000000000000000000000000000000000' as Hex; // OpenZeppelin refuses it: ERC20InvalidReceiver
    const r = await s.prepare({ purpose: 'test', purpose_id: 'revert-sim', to: token, value_minor: 0n, data: erc20TransferData(ZERO, 5n), confirmations_required: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/revert/i);
    // The same transfer forced through (fixed gas) reverts on chain and fails with its reason.
    const forced = await s.prepare({ purpose: 'test', purpose_id: 'revert-chain', to: token, value_minor: 0n, data: erc20TransferData(ZERO, 5n), confirmations_required: 1, gas_limit: 100_000n });
    if (!forced.ok) throw new Error('prepare refused');
    await s.broadcast(forced.tx.id);
    const v = await s.refresh(forced.tx.id);
    expect(v.status).toBe('failed');
    expect(v.failure_reason).toMatch(/reverted_on_chain/);

    // 10 on chain: 6 signed (not broadcast yet), so another 6 is refused before a nonce is taken
    // (the node's simulation alone would pass it and it would revert on chain); 4 fits.
    const nonceBefore = (await t.db.kysely.selectFrom('hot_wallet_nonces').select('next_nonce').where('address', '=', s.address).executeTakeFirstOrThrow()).next_nonce;
    const a = await s.prepare({ purpose: 'test', purpose_id: 'spend-a', to: token, value_minor: 0n, data: erc20TransferData(SINK, 6n), confirmations_required: 1 });
    const b = await s.prepare({ purpose: 'test', purpose_id: 'spend-b', to: token, value_minor: 0n, data: erc20TransferData(SINK, 6n), confirmations_required: 1 });
    const c = await s.prepare({ purpose: 'test', purpose_id: 'spend-c', to: token, value_minor: 0n, data: erc20TransferData(SINK, 4n), confirmations_required: 1 });
    expect(a.ok && c.ok).toBe(true);
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.reason).toMatch(/transfer amount exceeds balance.*balance 10 .*6 committed/);
    expect((await t.db.kysely.selectFrom('hot_wallet_nonces').select('next_nonce').where('address', '=', s.address).executeTakeFirstOrThrow()).next_nonce).toBe(Number(nonceBefore) + 2);
    for (const x of [a, c]) if (x.ok) await s.broadcast(x.tx.id);
    for (const x of [a, c]) if (x.ok) expect((await s.refresh(x.tx.id)).status).toBe('confirmed');
    expect(await balanceOfToken(client, token, s.address)).toBe(0n);
  });

  it('a nonce whose transaction the node refuses is consumed by a 0-value self-send', async () => {
    const s = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(5), db: t.db, clock: systemClock, broadcast_failures_max: 2 });
    // 20,000 gas is below the intrinsic 21,000: every node refuses it.
    const bad = await s.prepare({ purpose: 'test', purpose_id: 'refused', to: SINK, value_minor: 1n, confirmations_required: 1, gas_limit: 20_000n });
    const next = await s.prepare({ purpose: 'test', purpose_id: 'after-refused', to: SINK, value_minor: 1n, confirmations_required: 1 });
    if (!bad.ok || !next.ok) throw new Error('prepare refused');
    expect(next.tx.nonce).toBe(bad.tx.nonce + 1);
    await s.broadcast(bad.tx.id);
    await s.broadcast(next.tx.id); // waits in the mempool behind the gap
    expect((await s.refresh(bad.tx.id)).status).toBe('signed');
    await s.refresh(bad.tx.id); // second refusal reached: the cancel replaces it
    const v = await s.refresh(bad.tx.id);
    expect(v.status).toBe('failed');
    expect(v.failure_reason).toMatch(/unbroadcastable: .*gas/i);
    const attempts = await attemptsOf(t.db.kysely, bad.tx.id);
    expect(attempts[0]!.kind).toBe('cancel');
    expect((await s.refresh(next.tx.id)).status).toBe('confirmed');
  });
});

describe.each(DIALECTS)('stuck transactions on %s', (dialect) => {
  let anvil: AnvilHandle;
  let client: PublicClient;
  let t: TestDb;
  beforeAll(async () => {
    anvil = await startAnvil({ no_mining: true });
    client = createEvmClient({ chain_id: CHAIN, rpc_url: anvil.rpc_url });
    t = await openTestDb(dialect);
  }, 60_000);
  afterAll(async () => {
    await t?.cleanup();
    await anvil?.stop();
  });

  it('replaces a stuck transaction at the same nonce with fees raised by at least 12.5 %', async () => {
    const clock = new ManualClock(Date.now());
    const s = new Sender({ chain_id: CHAIN, client, private_key: anvilKey(1), db: t.db, clock, stuck_after_ms: 60_000 });
    const r = await s.prepare({ purpose: 'test', purpose_id: 'stuck', to: SINK, value_minor: 3n, confirmations_required: 1 });
    if (!r.ok) throw new Error('prepare refused');
    await s.broadcast(r.tx.id);
    expect((await s.refresh(r.tx.id)).status).toBe('broadcast');
    clock.advance(61_000);
    await s.refresh(r.tx.id);
    const attempts = await attemptsOf(t.db.kysely, r.tx.id);
    expect(attempts).toHaveLength(2);
    const [replacement, original] = attempts;
    expect(replacement!.max_fee_per_gas_minor * 1000n >= original!.max_fee_per_gas_minor * FEE_BUMP_PER_MILLE).toBe(true);
    expect(replacement!.max_priority_fee_per_gas_minor * 1000n >= original!.max_priority_fee_per_gas_minor * FEE_BUMP_PER_MILLE).toBe(true);
    await client.request({ method: 'evm_mine' as never });
    const v = await s.refresh(r.tx.id);
    expect(v.status).toBe('confirmed');
    expect(v.hash).toBe(replacement!.hash);
    expect((await getChainTx(t.db.kysely, r.tx.id))!.nonce).toBe(r.tx.nonce);
    expect(await client.getTransactionCount({ address: s.address })).toBe(r.tx.nonce + 1);
  }, 30_000);
});
