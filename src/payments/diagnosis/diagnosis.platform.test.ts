// Goal: POST /diagnose is wired to the chains in the real platform: a payment to the caller's
// deposit address that no scanner has seen (workers not started) is found on the chain and
// recorded by the diagnosis itself; an unknown hash is not_found. Method: createPlatform +
// buildPlatformApp (startTestPlatform) with a settle.config.json pointing at a real anvil.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther } from 'viem';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import { bearer, startTestPlatform, type TestPlatform } from '../../../test/helpers/accounts-testkit.ts';
import { startAnvil, type AnvilHandle } from '../../chain/chain.ts';
import type { Hex } from '../../chain/chain.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { anvilAccount, sendNative } from '../../chain/chain.ts';
import { TEST_DEPOSIT_MNEMONIC } from '../../../test/helpers/deposit-testkit.ts';

describe.each(DIALECTS)('diagnosis in the platform on %s', (dialect) => {
  let anvil: AnvilHandle;
  let t: TestPlatform;
  beforeAll(async () => {
    anvil = await startAnvil({});
  });
  afterAll(async () => anvil?.stop());
  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-diag-'));
    const configPath = join(dir, 'settle.config.json');
    writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, chains: [{ chain_id: 31337, name: 'Dev', rpc_url: anvil.rpc_url, native: { symbol: 'ETH', decimals: 18, min_deposit: '0.001', confirmations: [{ max_amount: null, blocks: 2 }] } }] }));
    t = await startTestPlatform(dialect, { SETTLE_CONFIG: configPath, SETTLE_DEPOSIT_MNEMONIC: TEST_DEPOSIT_MNEMONIC });
  });
  afterEach(async () => t.close());

  it('finds and records an unscanned payment to the caller, and says not_found for an unknown hash', async () => {
    const u = await t.platform.accounts.createUserWithRoles('carol@example.test', 'correct horse battery staple 9', []);
    const s = await t.platform.accounts.issueSessionForTests(u.id);
    const issued = await t.platform.deposits!.addressFor(u.id, 'ETH');
    expect(issued.result).toBe('ok');
    const address = (issued as { address: Hex }).address;
    const tx = await sendNative(anvil.rpc_url, 31337, anvilAccount(2), address, parseEther('0.01'));
    await createEvmClient({ chain_id: 31337, rpc_url: anvil.rpc_url }).waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });

    const res = await t.app.inject({ method: 'POST', url: '/api/v1/diagnose', headers: bearer(s.token), payload: { tx_hash: tx } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ verdict: 'confirming', payment: { kind: 'deposit', amount: '0.01', status: 'confirming' }, chain: { found: true, chain_id: 31337, to: address, token: null, asset: 'ETH', amount: '0.01' } });
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/diagnose', headers: bearer(s.token), payload: { tx_hash: `0x${'ef'.repeat(32)}` } });
    expect(unknown.json()).toMatchObject({ verdict: 'not_found', chain: { found: false } });
  }, 60_000);
});
