// A whole platform with one dev chain configured (no RPC behind it) and a deposit mnemonic, so
// that invoices get real addresses: for API tests of invoices and what refers to them. The
// scanner's cursor row stands in for a chain head.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from '../../src/db/database.ts';
import { startTestPlatform, type TestPlatform } from './accounts-testkit.ts';
import { ANVIL_TEST_MNEMONIC } from './anvil.ts';

/** const t = await startInvoicePlatform('sqlite'); … await t.close() */
export async function startInvoicePlatform(dialect: Dialect): Promise<TestPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'settle-inv-'));
  const configPath = join(dir, 'settle.config.json');
  writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, chains: [{ chain_id: 31337, name: 'Dev', rpc_url: 'http://127.0.0.1:1', native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 2 }] } }] }));
  const t = await startTestPlatform(dialect, { SETTLE_CONFIG: configPath, SETTLE_DEPOSIT_MNEMONIC: ANVIL_TEST_MNEMONIC, SETTLE_PUBLIC_URL: 'https://shop.example.test' });
  await t.platform.db.kysely.insertInto('chain_cursors').values({ chain_id: 31337, next_block: 500, head: 499, head_seen_at_ms: t.clock.now_ms(), block_time_ms: 2000, updated_at_ms: t.clock.now_ms() }).execute();
  return t;
}
