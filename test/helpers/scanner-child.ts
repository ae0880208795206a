// Test fixture: a scanner process that the crash test SIGKILLs mid-scan and starts again.
// Reads SETTLE_DATABASE_URL (the test's database) and SCANNER_CHAIN (the chain configuration,
// JSON); scans with a tiny range per tick so that kills land inside scans and releases.
import { openDb } from '../../src/db/database.ts';
import { createLedger } from '../../src/ledger/ledger.ts';
import { createEvmReader } from '../../src/chain/chain.ts';
import type { ChainConfigFile } from '../../src/config.ts';
import { createDepositScanner } from '../../src/payments/deposits/deposit-scanner.ts';
import { systemClock } from '../../src/shared/clock.ts';

const url = process.env.SETTLE_DATABASE_URL!;
const chain = JSON.parse(process.env.SCANNER_CHAIN!) as ChainConfigFile;
const db = openDb(url.startsWith('postgres') ? { kind: 'postgres', url } : { kind: 'sqlite', path: url });
const ledger = createLedger(db, systemClock);
const scanner = createDepositScanner({
  db,
  ledger,
  reader: createEvmReader({ chain_id: chain.chain_id, rpc_url: chain.rpc_url }),
  chain: { ...chain, poll_interval_ms: 20 },
  blocks_per_tick_max: Number(process.env.SCANNER_BLOCKS_PER_TICK ?? 2),
  receiveMode: async () => 'credit',
  log: (level, msg, data) => process.stderr.write(`${level} ${msg} ${JSON.stringify(data ?? {})}\n`),
});
scanner.start();
process.stdout.write('started\n');
