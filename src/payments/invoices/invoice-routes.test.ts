// Goal: the invoice API answers the API.md contract — creation with validation and 4xx, scopes,
// owners only (404 for others), Idempotency-Key replay, maintenance 503, the expiry job, every
// status and exception (partial then completed, overpaid, late, marked), outbox events, and the
// public checkout page in both languages without merchant data.
// Method: app.inject() over a real database on each dialect, real JobRunner, real maintenance
// guard; chain payments are written as the deposit scanner writes them (a deposits row and its
// payment through the payment face) and handed to invoices.onDepositChange in one transaction.
// The scanner itself, on anvil, is exercised in invoices.chain.test.ts.
import type { FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { buildApp, type App } from '../../app.ts';
import { ANVIL_TEST_MNEMONIC } from '../../../test/helpers/anvil.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../chain/chain.ts';
import { JobRunner } from '../../jobs/jobs.ts';
import { createMaintenance, type Maintenance } from '../../ops/maintenance.ts';
import { createMetrics } from '../../ops/metrics.ts';
import { ManualClock } from '../../shared/clock.ts';
import { deterministicId } from '../../shared/ids.ts';
import type { Principal, Role } from '../../shared/principal.ts';
import { testConfig } from '../../../test/helpers/payment-testkit.ts';
import { createPayment, transitionPayment } from '../payments.ts';
import { checkoutPage } from './invoice-checkout.ts';
import { invoiceRoutes } from './invoice-routes.ts';
import { createInvoices, type Invoices } from './invoices.ts';
import { createLedger, type Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { assetsFromChains } from '../payment-rules.ts';
import { createWithdrawals } from '../withdrawals/withdrawals.ts';

const KEYS = createDepositKeys(ANVIL_TEST_MNEMONIC, INVOICE_PATH_PREFIX);
const USER_KEYS = createDepositKeys(ANVIL_TEST_MNEMONIC);
const WRITE_KEY = 'usr_m|user,merchant|invoices:write invoices:read';
const READ_KEY = 'usr_m|user,merchant|invoices:read';
const OTHER = 'usr_o|user,merchant|invoices:write invoices:read';

/** Principal from `x-test-user: <user_id>[|roles[|scopes]]` (scopes contain ':', so '|' separates). */
async function authenticate(req: FastifyRequest): Promise<Principal | null> {
  const raw = req.headers['x-test-user'];
  if (typeof raw !== 'string' || !raw) return null;
  const [user_id, roles, scopes] = raw.split('|');
  return {
    kind: scopes ? 'api_key' : 'session', user_id: user_id!, email: `${user_id}@example.test`, roles: (roles ? roles.split(',') : ['user']) as Role[], status: 'active', locale: 'en',
    session_id: scopes ? null : `ses_${user_id}`, api_key_id: scopes ? `key_${user_id}` : null, scopes: scopes ? scopes.split(' ') : null, privileged_until_ms: null,
  };
}

describe.each(DIALECTS)('invoice API on %s', (dialect) => {
  let t: TestDb;
  let app: App;
  let invoices: Invoices;
  let ledger: Ledger;
  let jobs: JobRunner;
  let maintenance: Maintenance;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 2));
  let seq = 0;

  beforeEach(async () => {
    t = await openTestDb(dialect);
    const config = { ...testConfig(), public_url: 'https://pay.example.test' };
    ledger = createLedger(t.db, clock);
    await ledger.ensureAssets(assetsFromChains(config.chains).map((a) => ({ code: a.code, decimals: a.decimals, chain_id: a.chain_id, contract_address: a.contract_address })));
    const withdrawals = createWithdrawals({ db: t.db, clock, config, ledger, sender: () => null });
    invoices = createInvoices({ db: t.db, clock, config, keys: KEYS, headOf: async () => 100, withdrawals });
    maintenance = createMaintenance({ db: t.db, clock, config });
    jobs = new JobRunner(t.db, { clock });
    invoices.registerJobs(jobs);
    const view = { db: t.db, clock, config };
    app = await buildApp({
      config,
      db: t.db,
      clock,
      metrics: createMetrics(false),
      authenticate,
      routes: [maintenance.guard(), { name: 'invoices', plugin: invoiceRoutes({ ...view, invoices }) }, { name: 'checkout', prefix: '', plugin: checkoutPage({ invoices }) }],
    });
  });
  afterEach(async () => {
    await app.close();
    await ledger.drain();
    await t.cleanup();
  });

  async function create(body: Record<string, unknown>, who = WRITE_KEY, key: string | null = `k${++seq}`) {
    return app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { 'x-test-user': who, ...(key ? { 'idempotency-key': key } : {}) }, payload: body });
  }
  const get = (id: string, who = WRITE_KEY) => app.inject({ url: `/api/v1/invoices/${id}`, headers: { 'x-test-user': who } });

  /** A payment into the invoice's address, as the scanner records it (deposit row + payment), then the hook. */
  async function pay(invoice: { id: string; address: string }, amount_minor: bigint, block_time_ms: number, status: 'confirming' | 'credited' = 'credited'): Promise<string> {
    const n = ++seq;
    clock.advance(1);
    const tx = `0x${n.toString(16).padStart(64, '0')}`;
    const id = deterministicId('dep', '31337', tx, '0');
    const payment_id = deterministicId('pay', 'dep', id);
    await t.db.transaction(async (trx) => {
      await trx.insertInto('deposits').values({
        id, chain_id: 31337, tx_hash: tx, log_index: 0, asset: 'USDT', token_address: '0x5fbdb2315678afecb367f032d93f642f64180aa3', from_address: '0x00000000000000000000000000000000000000aa', to_address: invoice.address,
        amount_minor, user_id: 'usr_m', payment_id, status, hold_reason: null, credit_kind: 'user_available', block_number: 50 + n, block_hash: `0x${'b'.repeat(63)}${n % 10}`, block_timestamp_s: Math.floor(block_time_ms / 1000),
        orphaned: 0, confirmations_required: 3, generation: 0, pending_transfer_id: `pt_${n}`, first_seen_at_ms: clock.now_ms(), released_at_ms: status === 'credited' ? clock.now_ms() : null, updated_at_ms: clock.now_ms(),
      }).execute();
      await createPayment(trx, { id: payment_id, user_id: 'usr_m', kind: 'invoice', direction: 'in', asset: 'USDT', amount_minor, status: 'confirming', confirmations: { current: 1, required: 3 }, chain: { chain_id: 31337, tx_hash: tx, log_index: 0, block_number: 50 + n, from: '0xaa', to: invoice.address, token: '0x5f' }, reference: id }, clock);
      if (status === 'credited') await transitionPayment(trx, payment_id, { status: 'credited' }, clock);
      await invoices.onDepositChange(trx, [id]);
    });
    return id;
  }
  async function release(deposit_id: string): Promise<void> {
    await t.db.transaction(async (trx) => {
      await trx.updateTable('deposits').set({ status: 'credited' }).where('id', '=', deposit_id).execute();
      await invoices.onDepositChange(trx, [deposit_id]);
    });
  }
  const events = async (id: string) => (await t.db.kysely.selectFrom('outbox_events').select(['type', 'payload']).where('aggregate_id', '=', id).orderBy('seq').execute()).map((e) => e.type);

  it('creates an invoice with a fresh address, absolute checkout_url and default 15 min expiry', async () => {
    const res = await create({ asset: 'USDT', amount: '12.5', order_id: 'A-1', metadata: { cart: 3 } });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({ status: 'new', exception: null, asset: 'USDT', amount_due: '12.5', amount_paid: '0', order_id: 'A-1', metadata: { cart: 3 }, payments: [], chain_id: 31337 });
    expect(inv.checkout_url).toBe(`https://pay.example.test/checkout/${inv.id}`);
    expect(inv.expires_at).toBe(new Date(clock.now_ms() + 900_000).toISOString());
    expect(inv.payment_uri).toBe(`ethereum:0x5fbdb2315678afecb367f032d93f642f64180aa3@31337/transfer?address=${inv.address}&uint256=12500000`);
    const second = (await create({ asset: 'USDT', amount: '1' })).json();
    expect(second.address).not.toBe(inv.address);
    // Invoice addresses never collide with users' deposit addresses (another BIP-44 account).
    expect([USER_KEYS.address(0), USER_KEYS.address(1)]).not.toContain(inv.address);
    expect(inv.address).toBe(KEYS.address(0));
    expect(await events(inv.id)).toEqual(['invoice.new']);
    // The scanner is pulled back to the block the address was issued at.
    const cursor = await t.db.kysely.selectFrom('chain_cursors').selectAll().where('chain_id', '=', 31337).executeTakeFirst();
    expect(Number(cursor!.next_block)).toBe(100);
  });

  it('refuses bad input with problem+json', async () => {
    expect((await create({ asset: 'USDT', amount: '1', expires_in_s: 9 })).statusCode).toBe(400);
    expect((await create({ asset: 'USDT', amount: '-1' })).statusCode).toBe(400);
    expect((await create({ asset: 'USDT', amount: '1', surprise: 1 })).statusCode).toBe(400);
    const unknown = await create({ asset: 'DOGE', amount: '1' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('unknown_asset');
    const zero = await create({ asset: 'USDT', amount: '0' });
    expect(zero.statusCode).toBe(422);
    expect(zero.json().code).toBe('invalid_amount');
    const precision = await create({ asset: 'USDT', amount: '1.0000001' });
    expect(precision.statusCode).toBe(422);
    expect(precision.headers['content-type']).toContain('application/problem+json');
    const noKey = await create({ asset: 'USDT', amount: '1' }, WRITE_KEY, null);
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().code).toBe('idempotency_key_required');
    expect((await get('not-an-id')).statusCode).toBe(400);
  });

  it('authorises: anonymous 401, key without invoices:write 403, non-merchant session 403, other merchant 404', async () => {
    const anon = await app.inject({ method: 'POST', url: '/api/v1/invoices', headers: { 'idempotency-key': 'x' }, payload: { asset: 'USDT', amount: '1' } });
    expect(anon.statusCode).toBe(401);
    const readOnly = await create({ asset: 'USDT', amount: '1' }, READ_KEY);
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().code).toBe('insufficient_scope');
    const plainUser = await create({ asset: 'USDT', amount: '1' }, 'usr_p');
    expect(plainUser.statusCode).toBe(403);
    expect(plainUser.json().code).toBe('merchant_required');
    const session = await create({ asset: 'USDT', amount: '1' }, 'usr_m|user,merchant');
    expect(session.statusCode).toBe(201);
    const id = session.json().id;
    expect((await get(id, READ_KEY)).statusCode).toBe(200);
    expect((await get(id, 'usr_m|user,merchant|payments:read')).statusCode).toBe(403);
    const other = await get(id, OTHER);
    expect(other.statusCode).toBe(404);
    expect(other.json().code).toBe('not_found');
    const otherMark = await app.inject({ method: 'POST', url: `/api/v1/invoices/${id}/mark`, headers: { 'x-test-user': OTHER }, payload: { status: 'invalid', reason: 'x' } });
    expect(otherMark.statusCode).toBe(404);
    const list = await app.inject({ url: '/api/v1/invoices', headers: { 'x-test-user': OTHER } });
    expect(list.json().data).toEqual([]);
  });

  it('replays an idempotent create with the same answer and makes one invoice', async () => {
    const a = await create({ asset: 'USDT', amount: '2' }, WRITE_KEY, 'same');
    const b = await create({ asset: 'USDT', amount: '2' }, WRITE_KEY, 'same');
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json().id).toBe(a.json().id);
    const list = await app.inject({ url: '/api/v1/invoices?limit=10', headers: { 'x-test-user': WRITE_KEY } });
    expect(list.json().data).toHaveLength(1);
  });

  it('answers 503 maintenance for new invoices on a chain under maintenance', async () => {
    const s = await maintenance.schedule({ scope: 'chain:31337', starts_at_ms: clock.now_ms(), ends_at_ms: clock.now_ms() + 600_000, message: 'node upgrade' }, 'usr_admin');
    expect(s.ok).toBe(true);
    const res = await create({ asset: 'USDT', amount: '1' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('maintenance');
    expect(res.headers['retry-after']).toBe('600');
  });

  it('expires through the durable job; paid_partial when short', async () => {
    const a = (await create({ asset: 'USDT', amount: '10', expires_in_s: 60 })).json();
    const b = (await create({ asset: 'USDT', amount: '10', expires_in_s: 60 })).json();
    await pay(b, 4_000_000n, clock.now_ms() + 1000);
    expect((await get(b.id)).json()).toMatchObject({ status: 'new', exception: 'paid_partial', amount_paid: '4' });
    clock.advance(59_000);
    expect(await jobs.tick()).toBe(0);
    clock.advance(1_000);
    expect(await jobs.tick()).toBe(2);
    expect((await get(a.id)).json()).toMatchObject({ status: 'expired', exception: null });
    expect((await get(b.id)).json()).toMatchObject({ status: 'expired', exception: 'paid_partial' });
    expect(await events(a.id)).toEqual(['invoice.new', 'invoice.expired']);
  });

  it('partial then completed before expiry clears the exception; processing until at depth, then settled', async () => {
    const inv = (await create({ asset: 'USDT', amount: '10' })).json();
    await pay(inv, 3_000_000n, clock.now_ms() + 1000);
    expect((await get(inv.id)).json()).toMatchObject({ status: 'new', exception: 'paid_partial', amount_paid: '3' });
    const d = await pay(inv, 7_000_000n, clock.now_ms() + 2000, 'confirming');
    expect((await get(inv.id)).json()).toMatchObject({ status: 'processing', exception: null, amount_paid: '10' });
    await release(d);
    const done = (await get(inv.id)).json();
    expect(done).toMatchObject({ status: 'settled', exception: null, amount_paid: '10' });
    expect(done.payments.map((p: { amount: string }) => p.amount)).toEqual(['3', '7']);
    expect(await events(inv.id)).toEqual(['invoice.new', 'invoice.new', 'invoice.processing', 'invoice.settled']);
    // Replaying the hook changes nothing.
    await t.db.transaction((trx) => invoices.onDepositChange(trx, [d]));
    expect(await events(inv.id)).toHaveLength(4);
  });

  it('overpaid: settled with paid_over', async () => {
    const inv = (await create({ asset: 'USDT', amount: '10' })).json();
    await pay(inv, 12_000_000n, clock.now_ms());
    expect((await get(inv.id)).json()).toMatchObject({ status: 'settled', exception: 'paid_over', amount_paid: '12' });
  });

  it('late: expired with paid_late, recorded, never lost; a payment mined in time but seen late is on time', async () => {
    const inv = (await create({ asset: 'USDT', amount: '10', expires_in_s: 60 })).json();
    clock.advance(61_000);
    await jobs.tick();
    expect((await get(inv.id)).json().status).toBe('expired');
    await pay(inv, 10_000_000n, clock.now_ms());
    expect((await get(inv.id)).json()).toMatchObject({ status: 'expired', exception: 'paid_late', amount_paid: '10' });
    expect(await events(inv.id)).toEqual(['invoice.new', 'invoice.expired', 'invoice.expired']);

    // The platform was down at expiry: the payment's block is stamped before it, so it is on time.
    const on = (await create({ asset: 'USDT', amount: '5', expires_in_s: 60 })).json();
    const createdAt = clock.now_ms();
    clock.advance(3600_000);
    await jobs.tick();
    await pay(on, 5_000_000n, createdAt + 30_000);
    expect((await get(on.id)).json()).toMatchObject({ status: 'settled', exception: null });
  });

  it('merchant marks settled or invalid with a reason; a final invoice cannot be marked again', async () => {
    const a = (await create({ asset: 'USDT', amount: '10', expires_in_s: 60 })).json();
    await pay(a, 9_000_000n, clock.now_ms());
    const mark = (id: string, body: Record<string, unknown>, who = WRITE_KEY) => app.inject({ method: 'POST', url: `/api/v1/invoices/${id}/mark`, headers: { 'x-test-user': who }, payload: body });
    expect((await mark(a.id, { status: 'settled' })).statusCode).toBe(400);
    expect((await mark(a.id, { status: 'refunded', reason: 'x' })).statusCode).toBe(400);
    expect((await mark(a.id, { status: 'settled', reason: 'x' }, READ_KEY)).statusCode).toBe(403);
    const ok = await mark(a.id, { status: 'settled', reason: 'customer paid the rest in cash' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'settled', exception: 'marked', mark_reason: 'customer paid the rest in cash', amount_paid: '9' });
    const again = await mark(a.id, { status: 'invalid', reason: 'oops' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('invoice_final');
    // Later payments are still recorded on a marked invoice.
    await pay(a, 1_000_000n, clock.now_ms());
    expect((await get(a.id)).json()).toMatchObject({ status: 'settled', exception: 'marked', amount_paid: '10' });
    const b = (await create({ asset: 'USDT', amount: '10' })).json();
    expect((await mark(b.id, { status: 'invalid', reason: 'order cancelled' })).json()).toMatchObject({ status: 'invalid', exception: 'marked' });
    expect(await events(b.id)).toEqual(['invoice.new', 'invoice.invalid']);
    clock.advance(3600_000);
    await jobs.tick();
    expect((await get(b.id)).json().status).toBe('invalid');
  });

  it('lists with a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      await create({ asset: 'USDT', amount: String(i + 1) });
      clock.advance(1);
    }
    const p1 = (await app.inject({ url: '/api/v1/invoices?limit=2', headers: { 'x-test-user': WRITE_KEY } })).json();
    expect(p1.data.map((d: { amount_due: string }) => d.amount_due)).toEqual(['3', '2']);
    const p2 = (await app.inject({ url: `/api/v1/invoices?limit=2&cursor=${p1.next_cursor}`, headers: { 'x-test-user': WRITE_KEY } })).json();
    expect(p2.data.map((d: { amount_due: string }) => d.amount_due)).toEqual(['1']);
    expect(p2.next_cursor).toBeNull();
    expect((await app.inject({ url: '/api/v1/invoices?limit=1000', headers: { 'x-test-user': WRITE_KEY } })).statusCode).toBe(400);
  });

  it('refund: a withdrawal of the merchant to the payer\'s address, at most what was paid, session only, idempotent', async () => {
    const inv = (await create({ asset: 'USDT', amount: '10' })).json();
    await pay(inv, 12_000_000n, clock.now_ms());
    // What the scanner credited the merchant with (the scanner itself is exercised on anvil).
    const ext = ledgerAccountId('platform', 'platform', 'USDT', 'external');
    const avail = ledgerAccountId('user', 'usr_m', 'USDT', 'user_available');
    await ledger.ensureAccounts([
      { id: ext, asset: 'USDT', owner_type: 'platform', owner_id: 'platform', kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      { id: avail, asset: 'USDT', owner_type: 'user', owner_id: 'usr_m', kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    ]);
    expect((await ledger.createTransfers([{ id: 'fund_m', debit_account_id: ext, credit_account_id: avail, amount_minor: 12_000_000n, asset: 'USDT', reason: 'test.fund', reference: null }]))[0]!.result).toBe('ok');
    const refund = (body: Record<string, unknown>, who: string, key: string) => app.inject({ method: 'POST', url: `/api/v1/invoices/${inv.id}/refund`, headers: { 'x-test-user': who, 'idempotency-key': key }, payload: body });
    const TO = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
    const byKey = await refund({ to_address: TO }, WRITE_KEY, 'r1');
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().code).toBe('session_required');
    expect((await refund({ to_address: TO, amount: '13' }, 'usr_m|user,merchant', 'r2')).json().code).toBe('refund_exceeds_paid');
    expect((await refund({ to_address: '0x1234', amount: '1' }, 'usr_m|user,merchant', 'r3')).json().code).toBe('invalid_address');
    expect((await refund({ to_address: TO, amount: '1' }, 'usr_o|user,merchant', 'r4')).statusCode).toBe(404);
    const ok = await refund({ to_address: TO, amount: '2' }, 'usr_m|user,merchant', 'r5');
    expect(ok.statusCode).toBe(201);
    expect(ok.json().payment).toMatchObject({ kind: 'withdrawal', direction: 'out', amount: '2', status: 'requested' });
    const replay = await refund({ to_address: TO, amount: '2' }, 'usr_m|user,merchant', 'r5');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const after = (await get(inv.id)).json();
    expect(after.refunds).toHaveLength(1);
    expect(after.refunds[0]).toMatchObject({ amount: '2', to_address: TO.toLowerCase() });
    const [b] = await ledger.balancesOf('user', 'usr_m', ['USDT']);
    expect(b!.available_minor).toBe(10_000_000n);
    expect(b!.pending_out_minor).toBe(2_000_000n);
    // The rest (10) can still be refunded; more cannot.
    expect((await refund({ to_address: TO, amount: '10.000001' }, 'usr_m|user,merchant', 'r6')).json().code).toBe('refund_exceeds_paid');
  });

  it('checkout page: both languages, QR code, own CSP, no merchant data; public status JSON', async () => {
    const inv = (await create({ asset: 'USDT', amount: '12.5', order_id: 'SECRET-ORDER-42', metadata: { email: 'buyer@secret.test' } })).json();
    const en = await app.inject({ url: `/checkout/${inv.id}`, headers: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(en.statusCode).toBe(200);
    expect(en.headers['content-type']).toContain('text/html');
    expect(en.headers['content-security-policy']).toContain("script-src 'self'");
    expect(en.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(en.body).toContain('Send exactly 12.5 USDT');
    expect(en.body).toContain(inv.address);
    expect(en.body).toContain('<svg');
    expect(en.body).toContain('Waiting for your payment');
    expect(en.body).not.toMatch(/<script>|style="/);
    const zh = await app.inject({ url: `/checkout/${inv.id}`, headers: { 'accept-language': 'zh-CN,zh;q=0.9' } });
    expect(zh.body).toContain('请向以下地址转账 12.5 USDT');
    expect(zh.body).toContain('lang="zh-CN"');
    const forced = await app.inject({ url: `/checkout/${inv.id}?lang=en`, headers: { 'accept-language': 'zh-CN' } });
    expect(forced.body).toContain('Pay invoice');
    for (const body of [en.body, zh.body]) {
      expect(body).not.toContain('SECRET-ORDER-42');
      expect(body).not.toContain('secret.test');
      expect(body).not.toContain('usr_m');
    }
    const status = await app.inject({ url: `/api/v1/checkout/${inv.id}/status` });
    expect(status.statusCode).toBe(200);
    expect(Object.keys(status.json()).sort()).toEqual(['address', 'amount_due', 'amount_paid', 'asset', 'chain_id', 'exception', 'expires_at', 'id', 'payment_uri', 'status']);
    expect((await app.inject({ url: '/checkout/inv_nope' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/v1/checkout/inv_nope/status' })).statusCode).toBe(404);
    const js = await app.inject({ url: '/checkout/assets/checkout.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toContain('/api/v1/checkout/');
  });
});
