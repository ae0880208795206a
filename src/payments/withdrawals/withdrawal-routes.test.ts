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
import { startAnvil, type AnvilHandle } from '../../chain/chain.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { devHotWalletKey } from '../../chain/chain.ts';
import { anvilAccount, deployTestUsdt, sendMint } from '../../chain/chain.ts';
import { balanceOfToken } from '../../../test/helpers/anvil.ts';
import type { Hex } from '../../chain/chain.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { buildPlatformApp, createPlatform, stopBackground, type Platform } from '../../platform.ts';
import type { App } from '../../app.ts';
import { ManualClock } from '../../shared/clock.ts';
import { turnOnTotp } from '../../../test/helpers/accounts-testkit.ts';
import { getPayment } from '../payments.ts';
import { REVIEW_SLA_MS } from '../payment-routes.ts';
import { PLATFORM_OWNER } from '../custody/chart.ts';
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
      chains: [{ chain_id: CHAIN, name: 'anvil', rpc_url: anvil.rpc_url, native: { symbol: 'ETH', decimals: 18 }, tokens: [{ symbol: 'USDT', address: token, decimals: 6, review_above: '100', confirmations: [{ max_amount: null, blocks: 2 }] }] }],
    };
    platform = await createPlatform(config, t.db, { clock });
    app = await buildPlatformApp(platform);
    await platform.ledger.ensureAssets([{ code: 'USDT', decimals: 6, chain_id: CHAIN, contract_address: token }]);
    users.alice = await signIn('alice@example.test');
    users.bob = await signIn('bob@example.test');
    const carol = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'carol@example.test', password: 'correct horse battery staple 9', locale: 'zh-CN' } });
    expect(carol.statusCode).toBe(201);
    users.carol = { id: carol.json().user.id, token: (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'carol@example.test', password: 'correct horse battery staple 9' } })).json().token };
    for (const role of ['risk', 'agent', 'admin'] as const) {
      const u = await platform.accounts.createUserWithRoles(`${role}@example.test`, 'correct horse battery staple 9', [role]);
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: `${role}@example.test`, password: 'correct horse battery staple 9' } });
      users[role] = { id: u.id, token: login.json().token };
      // Staff routes need TOTP on (and a step-up for decisions): turned on the real way, which leaves the session stepped up.
      await turnOnTotp(app, users[role]!.token, 'correct horse battery staple 9', clock.now_ms());
    }
    // Alice has 500 USDT in the ledger; Bob has nothing.
    const ext = ledgerAccountId('platform', PLATFORM_OWNER, 'USDT', 'external');
    const alice = ledgerAccountId('user', users.alice.id, 'USDT', 'user_available');
    await platform.ledger.ensureAccounts([
      { id: ext, asset: 'USDT', owner_type: 'platform', owner_id: PLATFORM_OWNER, kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      { id: alice, asset: 'USDT', owner_type: 'user', owner_id: users.alice.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    ]);
    await platform.ledger.createTransfers([{ id: 'fund', debit_account_id: ext, credit_account_id: alice, amount_minor: 500_000_000n, asset: 'USDT', reason: 'test', reference: null }]);
    // Carol (zh-CN) and the risk officer have 500 USDT each too.
    for (const who of ['carol', 'risk'] as const) {
      const id = ledgerAccountId('user', users[who]!.id, 'USDT', 'user_available');
      await platform.ledger.ensureAccounts([{ id, asset: 'USDT', owner_type: 'user', owner_id: users[who]!.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }]);
      await platform.ledger.createTransfers([{ id: `fund-${who}`, debit_account_id: ext, credit_account_id: id, amount_minor: 500_000_000n, asset: 'USDT', reason: 'test', reference: null }]);
    }
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

  // ---------------------------------------------------------------- risk review
  const stepUp = (u: { token: string }) => app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: auth(u), payload: { password: 'correct horse battery staple 9' } });
  const staff = (u: { token: string } | null, method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1${url}`, headers: u ? auth(u) : {}, ...(payload ? { payload } : {}) });
  const drive = async (n = 10) => {
    for (let i = 0; i < n; i++) {
      await platform.jobs.tick();
      clock.advance(1_500);
      await client.request({ method: 'anvil_mine' as never, params: [toHex(1)] as never });
    }
  };
  const balanceOf = async (user_id: string) => (await platform.ledger.balancesOf('user', user_id, ['USDT']))[0]!;
  const ids: Record<string, string> = {};

  it('puts a withdrawal at or above the review threshold in review, money reserved, explained with an ETA (en)', async () => {
    await stepUp(users.alice!);
    const before = await balanceOf(users.alice!.id);
    const at = clock.now_ms();
    const res = await post(users.alice!, { ...body, amount: '100' }, 'k-review-a');
    expect(res.statusCode).toBe(201);
    const p = res.json();
    expect(p).toMatchObject({ status: 'review', hold: { reason: 'risk_review', since: new Date(at).toISOString() } });
    expect(p.explanation).toEqual({
      code: 'withdrawal_review_large_amount',
      message: 'Your withdrawal is being reviewed by our team because of its size (100 USDT); the money is reserved, not lost.',
      eta: new Date(at + REVIEW_SLA_MS).toISOString(),
      next_action: 'Nothing to do: we will tell you when the review ends.',
    });
    expect(p.timeline.map((e: { status: string }) => e.status)).toEqual(['requested', 'review']);
    expect(await balanceOf(users.alice!.id)).toMatchObject({ available_minor: before.available_minor - 100_000_000n, pending_out_minor: 100_000_000n });
    await drive(3); // nothing is broadcast while in review
    expect((await getPayment(t.db.kysely, p.id))!.payment.status).toBe('review');
    expect(await balanceOfToken(client, token, TO.toLowerCase() as Hex)).toBe(12_500_000n);
    ids.alice = p.id;
  }, 60_000);

  it('explains the review in zh-CN to a zh-CN user', async () => {
    await stepUp(users.carol!);
    clock.advance(1_000); // oldest first needs distinct request times
    const res = await post(users.carol!, { ...body, amount: '200' }, 'k-review-c');
    expect(res.statusCode).toBe(201);
    expect(res.json().status).toBe('review');
    expect(res.json().explanation).toMatchObject({ code: 'withdrawal_review_large_amount', message: '由于金额较大(200 USDT),您的提现正在由我们的团队审核;资金已冻结预留,不会丢失。', next_action: '无需操作,审核结束后我们会通知您。' });
    ids.carol = res.json().id;
  });

  it('lets only risk and admin staff see and decide reviews, never on their own withdrawal', async () => {
    expect((await staff(null, 'GET', '/admin/withdrawals/reviews')).statusCode).toBe(401);
    expect((await staff(null, 'POST', `/admin/withdrawals/${ids.alice}/approve`, {})).statusCode).toBe(401);
    for (const who of ['alice', 'agent'] as const) {
      expect((await staff(users[who]!, 'GET', '/admin/withdrawals/reviews')).statusCode).toBe(403);
      expect((await staff(users[who]!, 'POST', `/admin/withdrawals/${ids.alice}/approve`, {})).statusCode).toBe(403);
      expect((await staff(users[who]!, 'POST', `/admin/withdrawals/${ids.alice}/reject`, { reason: 'no thanks' })).statusCode).toBe(403);
    }
    // The risk officer's own large withdrawal: visible to staff, but not theirs to decide.
    await stepUp(users.risk!);
    clock.advance(1_000);
    const own = await post(users.risk!, { ...body, amount: '150' }, 'k-review-own');
    expect(own.json().status).toBe('review');
    const refused = await staff(users.risk!, 'POST', `/admin/withdrawals/${own.json().id}/approve`, {});
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'own_withdrawal']);
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${own.json().id}/reject`, { reason: 'self' })).statusCode).toBe(403);

    const list = await staff(users.risk!, 'GET', '/admin/withdrawals/reviews');
    expect(list.statusCode).toBe(200);
    const data = list.json().data as Array<Record<string, unknown>>;
    expect(data.map((r) => r.id)).toEqual([ids.alice, ids.carol, own.json().id]); // oldest first
    expect(data[0]).toMatchObject({ user_id: users.alice!.id, asset: 'USDT', amount: '100', to_address: TO.toLowerCase(), rules: ['large_amount'], chain_id: CHAIN });
    expect(data[0]!.account_age_s).toBeGreaterThanOrEqual(0);
    expect(typeof data[0]!.account_created_at).toBe('string');
    expect((await staff(users.admin!, 'GET', '/admin/withdrawals/reviews?limit=1')).json().data).toHaveLength(1);
    // The admin decides the risk officer's withdrawal (rejects it: the reservation comes back).
    expect((await staff(users.admin!, 'POST', `/admin/withdrawals/${own.json().id}/reject`, { reason: 'Own test withdrawal' })).statusCode).toBe(200);
  });

  it('refuses bad input: 400 for a bad body or id, 404 for an unknown withdrawal', async () => {
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.carol}/reject`, {})).statusCode).toBe(400);
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.carol}/reject`, { reason: 'x' })).statusCode).toBe(400);
    // The reason is quoted to the user: blanks around it do not count towards its 3 characters.
    for (const reason of ['     ', ' \n\t ', '  a  ', ' ab ']) {
      const blank = await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.carol}/reject`, { reason });
      expect([reason, blank.statusCode, blank.json().code]).toEqual([reason, 400, 'validation_failed']);
    }
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.alice}/approve`, { extra: 1 })).statusCode).toBe(400);
    expect((await staff(users.risk!, 'POST', '/admin/withdrawals/bad%20id/approve', {})).statusCode).toBe(400);
    expect((await staff(users.risk!, 'GET', '/admin/withdrawals/reviews?limit=0')).statusCode).toBe(400);
    const unknown = await staff(users.risk!, 'POST', '/admin/withdrawals/pay_doesnotexist0000/approve', {});
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'not_found']);
  });

  it('approve: broadcasts the withdrawal, which completes on chain; a second decision is 409 and changes nothing', async () => {
    const res = await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.alice}/approve`, { note: 'Known customer' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: ids.alice, status: 'requested', hold: null, explanation: { code: 'withdrawal_requested' } });
    await drive(10);
    const after = (await getPayment(t.db.kysely, ids.alice!))!;
    expect(after.payment.status).toBe('completed');
    expect(after.timeline.map((e) => e.status)).toEqual(expect.arrayContaining(['review', 'requested', 'broadcast', 'completed']));
    expect(await balanceOfToken(client, token, TO.toLowerCase() as Hex)).toBe(112_500_000n);
    for (const [kind, payload] of [['approve', {}], ['reject', { reason: 'too late' }]] as const) {
      const again = await staff(users.admin!, 'POST', `/admin/withdrawals/${ids.alice}/${kind}`, payload);
      expect([again.statusCode, again.json().code]).toEqual([409, 'review_closed']);
    }
    expect((await getPayment(t.db.kysely, ids.alice!))!.payment.status).toBe('completed');
    const audit = await t.db.kysely.selectFrom('audit_log').select(['action', 'actor_id', 'details']).where('subject_id', '=', ids.alice!).execute();
    expect(audit).toEqual([expect.objectContaining({ action: 'withdrawal_review_approved', actor_id: users.risk!.id })]);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ note: 'Known customer', user_id: users.alice!.id });
  }, 60_000);

  it('reject: voids the reservation, restores the balance and says why (zh-CN); a second decision is 409', async () => {
    const before = await balanceOf(users.carol!.id);
    expect(before).toMatchObject({ available_minor: 300_000_000n, pending_out_minor: 200_000_000n });
    const res = await staff(users.admin!, 'POST', `/admin/withdrawals/${ids.carol}/reject`, { reason: 'Destination linked to a scam report' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', hold: null, explanation: { code: 'withdrawal_rejected' } });
    expect(res.json().explanation.message).toContain('Destination linked to a scam report'); // the admin reads English
    expect(await balanceOf(users.carol!.id)).toMatchObject({ available_minor: 500_000_000n, pending_out_minor: 0n });
    const mine = await app.inject({ method: 'GET', url: `/api/v1/payments/${ids.carol}`, headers: auth(users.carol!) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().explanation).toMatchObject({ code: 'withdrawal_rejected', message: '您的提现经审核未获通过:Destination linked to a scam report。未发送任何资金,金额和手续费已退回可用余额。' });
    const again = await staff(users.risk!, 'POST', `/admin/withdrawals/${ids.carol}/reject`, { reason: 'again' });
    expect([again.statusCode, again.json().code]).toEqual([409, 'review_closed']);
    expect(await balanceOf(users.carol!.id)).toMatchObject({ available_minor: 500_000_000n, pending_out_minor: 0n });
    expect((await staff(users.risk!, 'GET', '/admin/withdrawals/reviews')).json().data).toEqual([]);
    const events = await t.db.kysely.selectFrom('audit_log').select('action').where('subject_id', '=', ids.carol!).execute();
    expect(events.map((e) => e.action)).toEqual(['withdrawal_review_rejected']);
  });

  it('reviews a new address soon after a password change; a known address is not reviewed', async () => {
    await stepUp(users.alice!);
    const changed = await app.inject({ method: 'POST', url: '/api/v1/me/password', headers: auth(users.alice!), payload: { new_password: 'another horse battery staple 10' } });
    expect(changed.statusCode).toBe(204);
    const known = await post(users.alice!, { ...body, amount: '1' }, 'k-known-addr'); // TO was used before
    expect(known.json().status).toBe('requested');
    const fresh = await post(users.alice!, { ...body, to_address: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', amount: '1' }, 'k-new-addr');
    expect(fresh.json()).toMatchObject({ status: 'review', explanation: { code: 'withdrawal_review_new_address' } });
  });

  it('lists a page of several reviews, oldest first, with each one\'s evidence (the same whatever the page size)', async () => {
    // Queue now: Alice's 1 USDT to a new address after her password change. Three more join it:
    // Carol's and the risk officer's large ones, and Alice's large one to a new address (two rules).
    const NEW_TO = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'.toLowerCase();
    const OTHER_TO = '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB';
    const created = new Map((await t.db.kysely.selectFrom('users').select(['id', 'created_at_ms']).execute()).map((u) => [u.id, Number(u.created_at_ms)]));
    const queued = (await staff(users.risk!, 'GET', '/admin/withdrawals/reviews')).json().data as Array<{ id: string; requested_at: string }>;
    expect(queued).toHaveLength(1);
    const expected: Array<Record<string, unknown>> = [];
    const row = (id: string, who: string, amount: string, to: string, rules: string[], at_ms: number) => ({
      id, user_id: users[who]!.id, asset: 'USDT', amount, fee: '0', to_address: to, chain_id: CHAIN, rules, requested_at: new Date(at_ms).toISOString(),
      account_created_at: new Date(created.get(users[who]!.id)!).toISOString(),
    });
    expected.push(row(queued[0]!.id, 'alice', '1', NEW_TO, ['new_address_after_credential_change'], Date.parse(queued[0]!.requested_at)));
    for (const [who, amount, to, rules] of [
      ['carol', '150', TO.toLowerCase(), ['large_amount']],
      ['risk', '120.5', TO.toLowerCase(), ['large_amount']],
      ['alice', '101', OTHER_TO.toLowerCase(), ['large_amount', 'new_address_after_credential_change']],
    ] as const) {
      await stepUp(users[who]!);
      clock.advance(1_000);
      const at = clock.now_ms();
      const res = await post(users[who]!, { ...body, amount, to_address: to === TO.toLowerCase() ? TO : OTHER_TO }, `k-page-${who}-${amount}`);
      expect([res.statusCode, res.json().status]).toEqual([201, 'review']);
      expected.push(row(res.json().id, who, amount, to, [...rules], at));
    }
    clock.advance(2_500);
    const now = clock.now_ms();
    const withAge = expected.map((e) => ({ ...e, account_age_s: Math.floor((now - Date.parse(e.account_created_at as string)) / 1000) }));
    const page = await staff(users.admin!, 'GET', '/admin/withdrawals/reviews');
    expect(page.statusCode).toBe(200);
    expect(page.json()).toEqual({ data: withAge });
    expect((await staff(users.admin!, 'GET', '/admin/withdrawals/reviews?limit=2')).json()).toEqual({ data: withAge.slice(0, 2) });
    expect((await staff(users.risk!, 'GET', '/admin/withdrawals/reviews?limit=200')).json()).toEqual({ data: withAge });
  });

  it('approve: refused while the owner\'s account is frozen or cooling down (a "this wasn\'t me" freeze stops a reviewed withdrawal)', async () => {
    users.dave = await signIn('dave@example.test');
    const ext = ledgerAccountId('platform', PLATFORM_OWNER, 'USDT', 'external');
    const dave = ledgerAccountId('user', users.dave.id, 'USDT', 'user_available');
    await platform.ledger.ensureAccounts([{ id: dave, asset: 'USDT', owner_type: 'user', owner_id: users.dave.id, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }]);
    await platform.ledger.createTransfers([{ id: 'fund-dave', debit_account_id: ext, credit_account_id: dave, amount_minor: 500_000_000n, asset: 'USDT', reason: 'test', reference: null }]);
    await stepUp(users.dave);
    const w = await post(users.dave, { ...body, amount: '150' }, 'k-frozen-review');
    expect([w.statusCode, w.json().status]).toEqual([201, 'review']);
    const id = w.json().id as string;
    const before = await balanceOf(users.dave.id);

    expect((await staff(users.admin!, 'POST', `/admin/users/${users.dave.id}/freeze`, { reason: 'abnormal_login', note: 'Owner reports a stolen password' })).statusCode).toBe(200);
    const refused = await staff(users.risk!, 'POST', `/admin/withdrawals/${id}/approve`, {});
    expect([refused.statusCode, refused.json().code]).toEqual([409, 'account_frozen']);
    expect(refused.json().detail).toMatch(/reject this withdrawal, or approve it once the account can withdraw again/);
    expect((await getPayment(t.db.kysely, id))!.payment.status).toBe('review');
    expect(await balanceOf(users.dave.id)).toEqual(before);
    expect(await t.db.kysely.selectFrom('audit_log').select('action').where('subject_id', '=', id).execute()).toEqual([]);

    // Unfrozen, the account cools down: still no approval; a rejection is always possible.
    expect((await staff(users.admin!, 'POST', `/admin/users/${users.dave.id}/unfreeze`, { reason: 'Owner verified by phone' })).statusCode).toBe(200);
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${id}/approve`, {})).json().code).toBe('cooldown');
    expect((await staff(users.risk!, 'POST', `/admin/withdrawals/${id}/reject`, { reason: 'Account was compromised' })).statusCode).toBe(200);
    expect(await balanceOf(users.dave.id)).toMatchObject({ available_minor: 500_000_000n, pending_out_minor: 0n });
  });
});
