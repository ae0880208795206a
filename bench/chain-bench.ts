// Chain benchmark (`npm run bench:chain`): a real anvil holding N ERC-20 deposits (default 10,000)
// to M deposit addresses (default 1,000), sent in bulk with automine off and then mined; measures
// (1) raw eth_getLogs throughput, (2) scan throughput (Transfer logs per second through the whole
// scanner: detection, pending ledger transfers, payments, outbox), (3) the release delay of a
// burst: all N deposits reaching their depth with one block, the scanner polling at the default
// 1 s; and (4) the release delay at a normal rate: R deposits per block over B blocks, one block
// about every second (jittered so that blocks and polls drift), the scanner polling at 1 s.
// Delays run from the moment the block that brings a deposit to its depth was mined to its
// release (released_at_ms). Bounded: every phase has a deadline.
//   BENCH_DEPOSITS=10000 BENCH_ADDRESSES=1000 BENCH_RATE_BLOCKS=60 BENCH_RATE_PER_BLOCK=5 npm run bench:chain
// BENCH_CPU_PROFILE=<file.cpuprofile> writes a CPU profile of the scan phase (2) alone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFunctionData, numberToHex, parseAbi, type Hex } from 'viem';
import { openDb } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startAnvil } from '../src/chain/chain.ts';
import { createEvmClient, createEvmReader } from '../src/chain/chain.ts';
import { anvilAccount, deployTestUsdt } from '../src/chain/chain.ts';
import { createLedger } from '../src/ledger/ledger.ts';
import { ledgerAccountId } from '../src/ledger/ledger-types.ts';
import { assetSpecs } from '../src/payments/deposits/deposit-rules.ts';
import { createDepositScanner } from '../src/payments/deposits/deposit-scanner.ts';
import { createDepositKeys } from '../src/chain/chain.ts';
import { ensureDepositAddress } from '../src/payments/custody/deposit-addresses.ts';
import { TEST_DEPOSIT_MNEMONIC, testChainConfig } from '../test/helpers/deposit-testkit.ts';
import { systemClock } from '../src/shared/clock.ts';

const N = Number(process.env.BENCH_DEPOSITS ?? 10_000);
const M = Number(process.env.BENCH_ADDRESSES ?? 1_000);
const RATE_BLOCKS = Number(process.env.BENCH_RATE_BLOCKS ?? 60);
const RATE_PER_BLOCK = Number(process.env.BENCH_RATE_PER_BLOCK ?? 5);
const PHASE_DEADLINE_MS = 240_000;
const SEND_BATCH = 500;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-chain-bench-'));
  const anvil = await startAnvil({ extra_args: ['--gas-limit', '3000000000'] });
  const db = openDb({ kind: 'sqlite', path: join(dir, 'settle.db'), synchronous: 'NORMAL' });
  try {
    await migrateToLatest(db);
    const endpoint = { chain_id: 31337, rpc_url: anvil.rpc_url };
    const client = createEvmClient(endpoint);
    const reader = createEvmReader(endpoint, client);
    const owner = anvilAccount(0);
    const usdt = await deployTestUsdt(client, anvil.rpc_url, owner);
    const chain = testChainConfig(anvil.rpc_url, usdt, 1000);
    delete chain.native; // token deposits only: the benchmark measures Transfer logs
    const ledger = createLedger(db, systemClock);
    await ledger.ensureAssets(assetSpecs([chain]));
    const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);

    let t = Date.now();
    const head0 = await reader.head();
    const addresses: Hex[] = [];
    for (let i = 0; i < M; i++) addresses.push((await ensureDepositAddress(db, keys, { chain_id: 31337, user_id: `usr_${i}`, issued_at_block: head0 })).address.address);
    console.log(`issued ${M} deposit addresses in ${Date.now() - t} ms`);

    // Bulk: sign N mints locally with fixed fees and nonces, send raw in batches, then mine.
    t = Date.now();
    await client.request({ method: 'evm_setAutomine' as never, params: [false] as never });
    const abi = parseAbi(['function mint(address to, uint256 amount)']);
    let nonce = await client.getTransactionCount({ address: owner.address });
    const amounts: bigint[] = [];
    for (let i = 0; i < N; i += SEND_BATCH) {
      const raws: Hex[] = [];
      for (let j = i; j < Math.min(N, i + SEND_BATCH); j++) {
        const amount = BigInt(1 + (j % 900)) * 1_000_000n; // 1..900 USDT: the 3-block tier
        amounts.push(amount);
        raws.push(
          await owner.signTransaction({ type: 'eip1559', chainId: 31337, nonce: nonce++, to: usdt, gas: 120_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data: encodeFunctionData({ abi, functionName: 'mint', args: [addresses[j % M]!, amount] }) }),
        );
      }
      await Promise.all(raws.map((r) => client.sendRawTransaction({ serializedTransaction: r })));
    }
    console.log(`signed and sent ${N} mints in ${Date.now() - t} ms`);
    t = Date.now();
    for (let i = 0; i < 200; i++) {
      await client.request({ method: 'anvil_mine' as never, params: [numberToHex(1)] as never });
      const status = (await client.request({ method: 'txpool_status' as never })) as { pending: Hex };
      if (Number(status.pending) === 0) break;
    }
    const head1 = await reader.head();
    console.log(`mined into ${head1 - head0} blocks in ${Date.now() - t} ms (head ${head1})`);

    // (1) Raw log reading.
    t = Date.now();
    const logs = await reader.tokenTransfers(head0 + 1, head1, [usdt]);
    const rawMs = Date.now() - t;
    console.log(`eth_getLogs: ${logs.length} Transfer logs in ${rawMs} ms = ${Math.round((logs.length / rawMs) * 1000)} logs/s`);

    // (2) Full scan, ticked by hand until caught up (releases happen as deposits reach depth).
    const scanner = createDepositScanner({ db, ledger, reader, chain, blocks_per_tick_max: 500, receiveMode: async () => 'credit' });
    const profiler = process.env.BENCH_CPU_PROFILE ? new Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    t = Date.now();
    let detected = 0;
    let released = 0;
    for (let i = 0; Date.now() - t < PHASE_DEADLINE_MS; i++) {
      const r = await scanner.tick();
      detected += r.detected;
      released += r.released;
      if (r.caught_up && detected >= N) break;
    }
    const scanMs = Date.now() - t;
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(process.env.BENCH_CPU_PROFILE!, JSON.stringify(profile));
      profiler.disconnect();
    }
    console.log(`scan: ${detected} deposits detected (${released} released on the way) in ${scanMs} ms = ${Math.round((detected / scanMs) * 1000)} Transfer logs/s through the scanner`);

    // (3) Burst: release delay at the default 1 s poll, mining one block at a time and timing each
    // release from the moment the block that brought it to depth was mined.
    const minedAt = new Map<number, number>();
    const mineOne = async () => {
      await client.request({ method: 'anvil_mine' as never, params: [numberToHex(1)] as never });
      // A raw request: viem's getBlockNumber shares an in-flight call, so it could hand back the
      // scanner's head read from before this block was mined.
      minedAt.set(Number(await client.request({ method: 'eth_blockNumber' })), Date.now());
    };
    const open = async () => Number((await db.kysely.selectFrom('deposits').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'confirming').executeTakeFirstOrThrow()).n);
    const delaysOf = async (fromBlock: number) => {
      const rows = await db.kysely.selectFrom('deposits').select(['block_number', 'confirmations_required', 'released_at_ms', 'status']).where('block_number', '>=', fromBlock).execute();
      const delays: number[] = [];
      for (const r of rows) {
        const at = minedAt.get(Number(r.block_number) + Number(r.confirmations_required) - 1);
        if (at !== undefined && r.released_at_ms !== null) delays.push(Number(r.released_at_ms) - at);
      }
      return { rows, delays };
    };
    const summary = (delays: number[]) => `p50 ${pct(delays, 50)}, p90 ${pct(delays, 90)}, p99 ${pct(delays, 99)}, max ${Math.max(...delays)}`;
    scanner.start();
    t = Date.now();
    // The process's CPU over the phase (releases, plus the polling and this loop's own queries):
    // wall delays on a shared machine grow with others' load, CPU a deposit much less.
    const burstCpu0 = process.cpuUsage();
    while ((await open()) > 0 && Date.now() - t < PHASE_DEADLINE_MS) {
      await mineOne();
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 300)));
    }
    const burstCpu = process.cpuUsage(burstCpu0);
    await new Promise((r) => setTimeout(r, 1500));
    const burst = await delaysOf(0);
    const credited = burst.rows.filter((r) => r.status === 'credited').length;
    console.log(`burst release: ${credited}/${burst.rows.length} credited; ${burst.delays.length} timed from the depth block being mined`);
    if (burst.delays.length) console.log(`burst release delay ms (${N} deposits reaching depth at once): ${summary(burst.delays)} (poll interval 1000 ms)`);
    console.log(`burst phase CPU: ${Math.round((burstCpu.user + burstCpu.system) / 1000)} ms = ${Math.round((burstCpu.user + burstCpu.system) / Math.max(1, credited))} µs per deposit released (bench/deposit-release-bench.ts isolates the release ticks)`);

    // (4) Normal rate: RATE_PER_BLOCK deposits in each of RATE_BLOCKS blocks, a block about every
    // second (850..1150 ms, so that blocks and polls drift), amounts across the 3- and 6-block tiers.
    const rateFrom = (await reader.head()) + 1;
    let sentAtRate = 0;
    t = Date.now();
    for (let b = 0; b < RATE_BLOCKS + 8 && Date.now() - t < PHASE_DEADLINE_MS; b++) {
      const started = Date.now();
      if (b < RATE_BLOCKS) {
        const raws: Hex[] = [];
        for (let j = 0; j < RATE_PER_BLOCK; j++, sentAtRate++) {
          const amount = BigInt(1 + ((sentAtRate * 37) % 2000)) * 1_000_000n; // 1..2000 USDT: 3 or 6 blocks
          amounts.push(amount);
          raws.push(
            await owner.signTransaction({ type: 'eip1559', chainId: 31337, nonce: nonce++, to: usdt, gas: 120_000n, maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data: encodeFunctionData({ abi, functionName: 'mint', args: [addresses[sentAtRate % M]!, amount] }) }),
          );
        }
        await Promise.all(raws.map((r) => client.sendRawTransaction({ serializedTransaction: r })));
      }
      await mineOne();
      await new Promise((r) => setTimeout(r, Math.max(0, 850 + Math.floor(Math.random() * 300) - (Date.now() - started))));
    }
    await new Promise((r) => setTimeout(r, 1500));
    await scanner.stop();
    const rate = await delaysOf(rateFrom);
    console.log(`normal-rate release: ${rate.rows.filter((r) => r.status === 'credited').length}/${sentAtRate} credited; ${rate.delays.length} timed`);
    if (rate.delays.length) console.log(`normal-rate release delay ms (${RATE_PER_BLOCK} deposits/block over ${RATE_BLOCKS} blocks, ~1 s blocks): ${summary(rate.delays)} (poll interval 1000 ms)`);

    const total = amounts.reduce((a, b) => a + b, 0n);
    const [wallets] = await ledger.getAccounts([ledgerAccountId('platform', 'platform', 'USDT', 'deposit_wallets')]);
    console.log(`ledger: deposit_wallets debited ${wallets?.debits_posted_minor ?? 0n} of ${total} minted (${wallets?.debits_posted_minor === total ? 'all released, once' : 'MISMATCH'})`);
  } finally {
    await db.close();
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
