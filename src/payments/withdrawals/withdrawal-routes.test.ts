// Goal: POST /api/v1/withdrawals through the whole platform: authentication, session only,
// step-up (privileged window or totp), Idempotency-Key (required, replayed), bad input, refusals
// (invalid address, insufficient funds, KYC limit), the `payment` shape, and the withdrawal
// completing on chain. Method: createPlatform over a real database with real accounts (register,
// login, step-up by password) and a real anvil with TestUSDT; app.inject(); jobs ticked by hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex, type PublicClient } from 'viem';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { loadConfig } from '../../config.ts';
import { startAnvil, type AnvilHandle } from '../../chain/anvil.ts';
import { createEvmClient } from '../../chain/evm.ts';
import { devHotWalletKey } from '../../chain/hot-wallet.ts';
import { anvilAccount, balanceOfToken, deployTestUsdt, sendMint } from '../../chain/test-usdt.ts';
import type { Hex } from '../../chain/chain-types.ts';
import { ledgerAccountId } from '../../ledger/ledger-types.ts';
import { buildPlatformApp, createPlatform, stopBackground, type Platform } from '../../platform.ts';
import type { App } from '../../app.ts';
import { ManualClock } from '../../shared/clock.ts';
import { getPayment } from '../payments.ts';
import { PLATFORM_OWNER } from './withdrawals.ts';
import { privateKeyToAccount } from 'viem/accounts';

const CHAIN = 31337;
const TO = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

describe.each(DIALECTS)('POST /withdrawals on %s', (dialect) => {
  let anvil: AnvilHandle;
  let client: PublicClient;
  let t: TestDb;
  let platform: Platform;
  let app: App;
  let dir: string;
  let token: Hex;
  const clock = new ManualClock(Date.now());
  const users: Record<string, { id: string; token: string }> = {};

  async function signIn(email: string): Promise<{ id: string; token: string }> {
    const reg = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: 'correct horse battery staple 9' } });
    expect(reg.statusCode).toBe(201);
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'correct horse battery staple 9' } });
    expect(login.statusCode).toBe(200);
    return { id: reg.json().user.id, token: login.json().token };
  }
  const auth = (u: { token: string }) => ({ authorization: `Bearer ${u.token}` });
  const post = (u: { token: string } | null, payload: unknown, key: string | null = 'key-1') =>
    app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { ...(u ? auth(u) : {}), ...(key ? { 'idempotency-key': key } : {}) }, payload: payload as object });

  beforeAll(async () => {
    anvil = await startAnvil();
    client = createEvmClient({ chain_id: CHAIN, rpc_url: anvil.rpc_url });
    token = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    const hot = privateKeyToAccount(devHotWalletKey()).address;
    await client.waitForTransactionReceipt({ hash: await sendMint(anvil.rpc_url, CHAIN, token, anvilAccount(0), hot.toLowerCase() as Hex, 1_000_000_000n) });
    t = await openTestDb(dialect);
    dir = mkdtempSync(join(tmpdir(), 'settle-wd-'));
    const base = loadConfig({ SETTLE_DATA_DIR: dir }, dir);
    const config = {
      ...base,
      rate_limit: { per_second: 100_000, burst: 100_000 },
      chains: [{ chain_id: CHAIN, name: 'anvil', rpc_url: anvil.rpc_url, native: { symbol: 'ETH', decimals: 18 }, tokens: [{ symbol: 'USDT', address: token, decimals: 6, confirmations: [{ max_amount: null, blocks: 2 }] }] }],
    };
    platform = await createPlatform(config, t.db, { clock });
    app = await buildPlatformApp(platform);
    await platform.ledger.ensureAssets([{ code: 'USDT', decimals: 6, chain_id: CHAIN, contract_address: token }]);
    users.alice = await signIn('alice@example.test');
    users.bob = await signIn('bob@example.test');
    // Alice has 500 USDT in the ledger; Bob has nothing.
    const ext = ledgerAccountId('platform', PLATFORM_OWNER, 'USDT', 'external');
    const alice = ledgerAccountId('user', users.alice.id, 'USDT', 'user_available');
    await platform.ledger.ensureAccounts([
      { id: ext, asset: 'USDT', owner_type: 'platform', owner_id: PLATFORM_OWNER, kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      { id: alice, asset: 'USDT', owner_type: 'user', owner_id: users.alice.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    ]);
    await platform.ledger.createTransfers([{ id: 'fund', debit_account_id: ext, credit_account_id: alice, amount_minor: 500_000_000n, asset: 'USDT', reason: 'test', reference: null }]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (platform) await stopBackground(platform);
    await t?.cleanup();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const body = { asset: 'USDT', to_address: TO, amount: '12.5' };

  it('needs a signed-in caller, an Idempotency-Key and a fresh step-up', async () => {
    expect((await post(null, body)).json().code).toBe('unauthenticated');
    const noKey = await post(users.alice!, body, null);
    expect([noKey.statusCode, noKey.json().code]).toEqual([400, 'idempotency_key_required']);
    const noStepUp = await post(users.alice!, body, 'k-no-step-up');
    expect([noStepUp.statusCode, noStepUp.json().code]).toEqual([401, 'step_up_required']);
    const badTotp = await post(users.alice!, { ...body, totp_code: '123456' }, 'k-bad-totp');
    expect(badTotp.statusCode).toBeGreaterThanOrEqual(400);
  });

  it('refuses bad input with a problem', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: auth(users.alice!), payload: { password: 'correct horse battery staple 9' } });
    expect((await post(users.alice!, { ...body, amount: 'ten' }, 'k-bad-1')).statusCode).toBe(400);
    expect((await post(users.alice!, { ...body, extra: 1 }, 'k-bad-2')).statusCode).toBe(400);
    const addr = await post(users.alice!, { ...body, to_address: '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d35A' }, 'k-bad-3');
    expect([addr.statusCode, addr.json().code, addr.json().reason]).toEqual([422, 'invalid_address', 'bad_checksum']);
    const decimals = await post(users.alice!, { ...body, amount: '1.0000001' }, 'k-bad-4');
    expect([decimals.statusCode, decimals.json().code]).toEqual([422, 'invalid_amount']);
    const asset = await post(users.alice!, { ...body, asset: 'DOGE' }, 'k-bad-5');
    expect([asset.statusCode, asset.json().code]).toEqual([422, 'unknown_asset']);
  });

  it('refuses another user without funds and amounts above the KYC limit', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: auth(users.bob!), payload: { password: 'correct horse battery staple 9' } });
    const bob = await post(users.bob!, body, 'k-bob');
    expect([bob.statusCode, bob.json().code]).toEqual([422, 'insufficient_funds']);
    const big = await post(users.alice!, { ...body, amount: '1000.01' }, 'k-big'); // level 0: 1,000 USD a day
    expect([big.statusCode, big.json().code]).toEqual([403, 'limit_exceeded']);
  });

  it('creates the withdrawal (201 payment), replays it, and completes it on chain', async () => {
    const first = await post(users.alice!, body, 'k-ok');
    expect(first.statusCode).toBe(201);
    const p = first.json();
    expect(p).toMatchObject({ kind: 'withdrawal', direction: 'out', asset: 'USDT', amount: '12.5', fee: '0', status: 'requested', hold: null });
    expect(p.chain).toMatchObject({ chain_id: CHAIN, to: TO.toLowerCase(), token });
    expect(p.explanation.code).toBe('withdrawal_requested');
    const replay = await post(users.alice!, body, 'k-ok');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(p.id);

    for (let i = 0; i < 10; i++) {
      await platform.jobs.tick();
      clock.advance(1_500);
      await client.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never });
    }
    // GET /payments/{id} belongs to the payments routes; read the payment model directly here.
    expect((await getPayment(t.db.kysely, p.id))!.payment.status).toBe('completed');
    expect(await balanceOfToken(client, token, TO.toLowerCase() as Hex)).toBe(12_500_000n);
    const [b] = await platform.ledger.balancesOf('user', users.alice!.id, ['USDT']);
    expect(b).toMatchObject({ available_minor: 487_500_000n, pending_out_minor: 0n });
  }, 60_000);

  it('refuses API keys: withdrawals need a session', async () => {
    const key = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: auth(users.alice!), payload: { name: 'k' } });
    expect(key.statusCode).toBe(201);
    const res = await post({ token: key.json().key }, body, 'k-api');
    expect([res.statusCode, res.json().code]).toEqual([403, 'session_required']);
  });
});
