// Goal (issue 16, finding 4): withdrawals cannot drain the hot wallet's gas with dust — each asset
// has a configured minimum and fee; below the minimum is a 422 that changes nothing, and the fee
// is part of the payment's `fee`, shown before confirming on GET /assets and charged with the
// amount. Method: createPlatform over a real database with real accounts (register, login,
// step-up by password), the chain's RPC a closed port (a request needs no chain), app.inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { loadConfig } from '../../config.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { buildPlatformApp, createPlatform, stopBackground, type Platform } from '../../platform.ts';
import type { App } from '../../app.ts';
import { ManualClock } from '../../shared/clock.ts';
import { PLATFORM_OWNER } from '../custody/chart.ts';

const CHAIN = 31337;
const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TO = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const PASSWORD = 'correct horse battery staple 9';

describe.each(DIALECTS)('withdrawal minimum and fee on %s', (dialect) => {
  let t: TestDb;
  let platform: Platform;
  let app: App;
  let dir: string;
  let user: { id: string; token: string };
  const clock = new ManualClock(Date.now());
  const available = () => platform.ledger.getAccounts([ledgerAccountId('user', user.id, 'USDT', 'user_available')]);
  const post = (payload: object, key: string) =>
    app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { authorization: `Bearer ${user.token}`, 'idempotency-key': key }, payload });

  beforeAll(async () => {
    t = await openTestDb(dialect);
    dir = mkdtempSync(join(tmpdir(), 'settle-wd-fee-'));
    const base = loadConfig({ SETTLE_DATA_DIR: dir }, dir);
    const usdt = { symbol: 'USDT', address: TOKEN, decimals: 6, min_withdrawal: '10', withdrawal_fee: '1.5' };
    const config = { ...base, chains: [{ chain_id: CHAIN, name: 'anvil', rpc_url: 'http://127.0.0.1:9', native: { symbol: 'ETH', decimals: 18 }, tokens: [usdt] }] };
    platform = await createPlatform(config, t.db, { clock });
    app = await buildPlatformApp(platform);
    await platform.ledger.ensureAssets([{ code: 'USDT', decimals: 6, chain_id: CHAIN, contract_address: TOKEN.toLowerCase() }]);
    const reg = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'dana@example.test', password: PASSWORD } });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'dana@example.test', password: PASSWORD } });
    user = { id: reg.json().user.id, token: login.json().token };
    await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: { authorization: `Bearer ${user.token}` }, payload: { password: PASSWORD } });
    const ext = ledgerAccountId('platform', PLATFORM_OWNER, 'USDT', 'external');
    const mine = ledgerAccountId('user', user.id, 'USDT', 'user_available');
    await platform.ledger.ensureAccounts([
      { id: ext, asset: 'USDT', owner_type: 'platform', owner_id: PLATFORM_OWNER, kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      { id: mine, asset: 'USDT', owner_type: 'user', owner_id: user.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    ]);
    await platform.ledger.createTransfers([{ id: 'fund-dana', debit_account_id: ext, credit_account_id: mine, amount_minor: 100_000_000n, asset: 'USDT', reason: 'test', reference: null }]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (platform) await stopBackground(platform);
    await t?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the minimum and the fee before confirming', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/assets' });
    const usdt = res.json().data.find((a: { asset: string }) => a.asset === 'USDT');
    expect([usdt.min_withdrawal, usdt.withdrawal_fee]).toEqual(['10', '1.5']);
  });

  it('refuses an amount below the minimum with a 422 that changes nothing', async () => {
    const before = await available();
    const res = await post({ asset: 'USDT', to_address: TO, amount: '9.99' }, 'k-dust');
    expect([res.statusCode, res.json().code]).toEqual([422, 'amount_below_minimum']);
    expect(res.json().detail).toContain('10');
    expect(await available()).toEqual(before);
  });

  it('charges the fee with the amount, as the payment\'s fee', async () => {
    const res = await post({ asset: 'USDT', to_address: TO, amount: '10' }, 'k-ok');
    expect(res.statusCode).toBe(201);
    expect([res.json().amount, res.json().fee]).toEqual(['10', '1.5']);
    const [acct] = await available();
    // 100 USDT funded; 10 + 1.5 reserved (pending debits until the chain confirms).
    expect(acct!.credits_posted_minor - acct!.debits_posted_minor - acct!.debits_pending_minor).toBe(88_500_000n);
  });
});
