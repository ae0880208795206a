// Deposit release benchmark (CPU per release, no node): N ERC-20 deposits to M addresses, served
// by an in-memory chain reader, scanned by the real scanner on SQLite (or PostgreSQL with
// BENCH_PG_URL), then ONE block brings them all to depth; the release ticks that follow are timed
// in process CPU (process.cpuUsage), which other work on a shared machine does not inflate the way
// it inflates wall time. The chain benchmark measures the same burst on a real anvil, with its
// polling; this one isolates the scanner's own work per release, for profiling.
//   BENCH_DEPOSITS=10000 BENCH_ADDRESSES=1000 node --import tsx bench/deposit-release-bench.ts
// BENCH_ROUNDS rounds (default 5) on one database, each a new burst, report the lowest and median
// CPU per release (the lowest is the least disturbed by other work on the machine).
// BENCH_CPU_PROFILE=<file.cpuprofile> writes a CPU profile of the last round's release ticks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../src/db/database.ts';
import { keccak256, numberToHex } from 'viem';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { Hex, TokenTransfer } from '../src/chain/chain.ts';
import { createLedger } from '../src/ledger/ledger.ts';
import { assetSpecs } from '../src/payments/deposits/deposit-rules.ts';
import { createDepositScanner } from '../src/payments/deposits/deposit-scanner.ts';
import { createDepositKeys } from '../src/chain/chain.ts';
import { ensureDepositAddress } from '../src/payments/custody/deposit-addresses.ts';
import { memoryChain, TEST_DEPOSIT_MNEMONIC, testChainConfig } from '../test/helpers/deposit-testkit.ts';
import { systemClock } from '../src/shared/clock.ts';

const N = Number(process.env.BENCH_DEPOSITS ?? 10_000);
const M = Number(process.env.BENCH_ADDRESSES ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TICKS_MAX = 100;
const USDT = '0x00000000000000000000000000000000000000aa' as Hex;
const PAYER = '0x00000000000000000000000000000000000000bb' as Hex;


/** SQLite in `dir`, or a throw-away PostgreSQL schema (dropped by `drop`). */
async function openBenchDb(dir: string): Promise<{ db: Db; drop: () => Promise<void> }> {
  const url = process.env.BENCH_PG_URL;
  if (!url) return { db: openDb({ kind: 'sqlite', path: join(dir, 'settle.db'), synchronous: 'NORMAL' }), drop: async () => undefined };
  const schema = `bench_${Date.now()}`;
  const db = openDb({ kind: 'postgres', url, schema });
  await db.pool!.query(`create schema ${schema}`);
  return { db, drop: async () => void (await db.pool!.query(`drop schema ${schema} cascade`)) };
}

/**
 * Sets up once (database, ledger, addresses, scanner), then runs ROUNDS rounds on it: N new
 * deposits in one new block, scanned to one block short of their depth (3 blocks: due at block
 * + 2), then one more block brings them all to depth and the release ticks are timed.
 * -> CPU µs per release of each round.
 */
async function run(profile: string | undefined): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-release-bench-'));
  const { db, drop } = await openBenchDb(dir);
  try {
    await migrateToLatest(db);
    const chain = testChainConfig('memory:', USDT, 1000);
    delete chain.native;
    const ledger = createLedger(db, systemClock);
    await ledger.ensureAssets(assetSpecs([chain]));
    const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);
    const addresses: Hex[] = [];
    for (let i = 0; i < M; i++) addresses.push((await ensureDepositAddress(db, keys, { chain_id: 31337, user_id: `usr_${i}`, issued_at_block: 0 })).address.address);
    const logsAt = new Map<number, TokenTransfer[]>();
    const mem = memoryChain(logsAt);
    const scanner = createDepositScanner({ db, ledger, reader: mem.reader, chain, blocks_per_tick_max: 500, receiveMode: async () => 'credit' });
    const perRelease: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // The round's deposits, all in the next block (as the chain benchmark mines them); 1..900 USDT (the 3-block tier).
      const block = mem.head() + 1;
      const logs: TokenTransfer[] = [];
      for (let j = 0; j < N; j++) {
        const k = round * N + j;
        logs.push({ token: USDT, from: PAYER, to: addresses[k % M]!, amount_minor: BigInt(1 + (k % 900)) * 1_000_000n, tx_hash: keccak256(numberToHex(k, { size: 32 })), log_index: j, block_number: block, block_hash: '0x' as Hex });
      }
      logsAt.set(block, logs);
      mem.mine(2);
      let detected = 0;
      for (let i = 0; i < TICKS_MAX; i++) {
        const r = await scanner.tick();
        detected += r.detected;
        if (r.released) throw new Error('released before the depth block');
        if (r.caught_up) break;
      }
      if (detected !== N) throw new Error(`detected ${detected} of ${N}`);

      mem.mine(1);
      const profiler = profile && round === ROUNDS - 1 ? new Session() : null;
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      let released = 0;
      let ticks = 0;
      for (; ticks < TICKS_MAX; ) {
        const r = await scanner.tick();
        ticks++;
        released += r.released;
        if (!r.release_more) break;
      }
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - wall0;
      if (profiler) {
        const { profile: written } = await profiler.post('Profiler.stop');
        writeFileSync(profile!, JSON.stringify(written));
        profiler.disconnect();
      }
      if (released !== N) throw new Error(`released ${released} of ${N}`);
      const cpuUs = cpu.user + cpu.system;
      perRelease.push(cpuUs / released);
      if (process.env.BENCH_VERBOSE) console.log(`round ${round + 1}: released ${released} in ${ticks} ticks: CPU ${Math.round(cpuUs / 1000)} ms (${Math.round(cpuUs / released)} µs per release), wall ${Math.round(wallMs)} ms`);
    }
    return perRelease;
  } finally {
    await drop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const perRelease = (await run(process.env.BENCH_CPU_PROFILE)).sort((a, b) => a - b);
console.log(`${process.env.BENCH_PG_URL ? 'postgres' : 'sqlite'}: ${N} deposits reaching depth with one block, ${ROUNDS} rounds: CPU µs per release min ${Math.round(perRelease[0]!)}, median ${Math.round(perRelease[Math.floor(ROUNDS / 2)]!)}`);
