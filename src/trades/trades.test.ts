// Goal: P2P escrow is exact at every step — a sell ad's reservation and each open order's escrow
// are in the seller's pending_out and add up to the platform's escrow account; release pays the
// buyer in the same transaction, once, and only after a step-up; an unpaid order is cancelled by
// its durable job at pay_by even across a restart, the coins back on the ad; a third user gets
// 404 on every order route; two buyers racing for an ad's last coins never oversell it.
// Method: the real platform (accounts, ledger, jobs) through app.inject() on each dialect, a
// ManualClock for the windows, the ledger's own accounts read back after every step.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { startP2pKit, type P2pKit, type P2pUser } from '../../test/helpers/p2p-kit.ts';
import { escrowAccountId } from './trade-escrow.ts';

const AD = { side: 'sell', asset: 'USDT', fiat: 'CNY', price: '7.25', min_amount: '1', max_amount: '50', amount: '50', payment_methods: ['alipay'], terms: 'Pay within 15 minutes.' };

describe.each(DIALECTS)('P2P trades on %s', (dialect) => {
  let k: P2pKit;
  let seller: P2pUser;
  let buyer: P2pUser;
  beforeEach(async () => {
    k = await startP2pKit(dialect);
    seller = await k.user('seller@example.test');
    buyer = await k.user('buyer@example.test');
    await k.fund(seller.id, 'USDT', '100');
  });
  afterEach(async () => k.close());

  const post = (u: P2pUser, url: string, payload?: Record<string, unknown>, key?: string) =>
    k.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: { ...u.headers, ...(key ? { 'idempotency-key': key } : {}) }, ...(payload ? { payload } : {}) });
  const order = (u: P2pUser, ad_id: string, amount: string, key = `k-${Math.random()}`) => post(u, '/p2p/orders', { ad_id, amount }, key);

  /** The escrow account holds exactly the open orders plus the open sell ads' remainders. */
  async function expectEscrowExact(): Promise<bigint> {
    const db = k.t.db.kysely;
    const [acct] = await k.platform.ledger.getAccounts([escrowAccountId('USDT')]);
    const ads = await db.selectFrom('p2p_ads').select(['available_minor', 'status', 'side']).execute();
    const orders = await db.selectFrom('p2p_orders').select(['amount_minor', 'status']).execute();
    const expected =
      ads.filter((a) => a.side === 'sell' && a.status !== 'closed').reduce((s, a) => s + BigInt(a.available_minor), 0n) +
      orders.filter((o) => ['pending_payment', 'paid', 'appeal'].includes(o.status)).reduce((s, o) => s + BigInt(o.amount_minor), 0n);
    const held = acct ? acct.credits_pending_minor : 0n;
    expect(held).toBe(expected);
    // Posted: whatever reached escrow left it again in the same transaction.
    expect(acct ? acct.credits_posted_minor - acct.debits_posted_minor : 0n).toBe(0n);
    return held;
  }

  it('reserves, escrows, releases once after a step-up, and closes with every balance exact', async () => {
    const adRes = await post(seller, '/p2p/ads', AD);
    expect(adRes.statusCode, adRes.body).toBe(201);
    const ad = adRes.json();
    expect(ad).toMatchObject({ side: 'sell', available_amount: '50', status: 'active', price: '7.25' });
    expect(await k.balance(seller)).toMatchObject({ available: '50', pending_out: '50' });
    expect(await expectEscrowExact()).toBe(50_000_000n);

    const o = await order(buyer, ad.id, '10', 'ord-1');
    expect(o.statusCode, o.body).toBe(201);
    const ord = o.json();
    expect(ord).toMatchObject({ status: 'pending_payment', amount: '10', fiat_amount: '72.50', role: 'buyer', next_move: { whose: 'buyer', action: 'pay' } });
    expect(ord.pay_by).toBe(new Date(k.clock.now_ms() + 900_000).toISOString());
    expect((await k.app.inject({ url: `/api/v1/p2p/ads/${ad.id}` })).json().available_amount).toBe('40');
    expect(await k.balance(seller)).toMatchObject({ available: '50', pending_out: '50' });
    expect(await k.balance(buyer)).toMatchObject({ available: '0' });
    await expectEscrowExact();

    // The same key finds the same order; nothing moves twice.
    const again = await order(buyer, ad.id, '10', 'ord-1');
    expect(again.json().id).toBe(ord.id);
    await expectEscrowExact();

    expect((await post(seller, `/p2p/orders/${ord.id}/paid`)).json().code).toBe('not_your_move');
    const paid = await post(buyer, `/p2p/orders/${ord.id}/paid`, { note: 'sent via alipay' });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json()).toMatchObject({ status: 'paid', next_move: { whose: 'seller', action: 'release' } });

    const noStep = await post(seller, `/p2p/orders/${ord.id}/release`);
    expect([noStep.statusCode, noStep.json().code]).toEqual([401, 'step_up_required']);
    expect((await k.app.inject({ url: `/api/v1/p2p/orders/${ord.id}`, headers: seller.headers })).json().status).toBe('paid');
    await k.stepUp(seller);
    const [r1, r2] = await Promise.all([post(seller, `/p2p/orders/${ord.id}/release`), post(seller, `/p2p/orders/${ord.id}/release`)]);
    expect([r1.statusCode, r2.statusCode]).toEqual([200, 200]);
    expect(r1.json().status).toBe('completed');
    const paidOut = await k.t.db.kysely.selectFrom('ledger_transfers').select('id').where('reference', '=', ord.id).where('reason', '=', 'p2p_release').execute();
    expect(paidOut).toHaveLength(2); // the post of the escrow and the one payment to the buyer
    expect(await k.balance(buyer)).toMatchObject({ available: '10', pending_in: '0' });
    expect(await k.balance(seller)).toMatchObject({ available: '50', pending_out: '40' });
    await expectEscrowExact();

    const closed = await k.app.inject({ method: 'PATCH', url: `/api/v1/p2p/ads/${ad.id}`, headers: seller.headers, payload: { status: 'closed' } });
    expect(closed.json()).toMatchObject({ status: 'closed', available_amount: '0' });
    expect(await k.balance(seller)).toMatchObject({ available: '90', pending_out: '0' });
    expect(await expectEscrowExact()).toBe(0n);
  });

  it('cancels an unpaid order by itself at pay_by, across a restart, the coins back on the ad', async () => {
    const ad = (await post(seller, '/p2p/ads', AD)).json();
    const ord = (await order(buyer, ad.id, '20')).json();
    await k.restart();
    k.clock.advance(900_000 - 1);
    await k.drainJobs();
    expect((await k.app.inject({ url: `/api/v1/p2p/orders/${ord.id}`, headers: buyer.headers })).json().status).toBe('pending_payment');
    k.clock.advance(1);
    expect(await k.drainJobs()).toBeGreaterThan(0);
    const after = (await k.app.inject({ url: `/api/v1/p2p/orders/${ord.id}`, headers: buyer.headers })).json();
    expect(after).toMatchObject({ status: 'cancelled', cancel_reason: 'payment_window_elapsed', next_move: { whose: null } });
    expect((await k.app.inject({ url: `/api/v1/p2p/ads/${ad.id}` })).json().available_amount).toBe('50');
    expect(await k.balance(seller)).toMatchObject({ available: '50', pending_out: '50' });
    expect((await post(buyer, `/p2p/orders/${ord.id}/paid`)).json().code).toBe('order_not_open');
    await expectEscrowExact();
  });

  it('answers 404 to a third user on every order route and changes nothing', async () => {
    const ad = (await post(seller, '/p2p/ads', AD)).json();
    const ord = (await order(buyer, ad.id, '5')).json();
    const eve = await k.user('eve@example.test');
    await k.stepUp(eve);
    const answers = [
      await k.app.inject({ url: `/api/v1/p2p/orders/${ord.id}`, headers: eve.headers }),
      await post(eve, `/p2p/orders/${ord.id}/paid`),
      await post(eve, `/p2p/orders/${ord.id}/cancel`),
      await post(eve, `/p2p/orders/${ord.id}/release`),
      await post(eve, `/p2p/orders/${ord.id}/messages`, { body: 'hello' }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([404, 404, 404, 404, 404]);
    expect((await k.app.inject({ url: '/api/v1/p2p/orders', headers: eve.headers })).json().data).toEqual([]);
    expect((await k.app.inject({ url: `/api/v1/p2p/orders/${ord.id}`, headers: buyer.headers })).json()).toMatchObject({ status: 'pending_payment', messages: [] });
  });

  it('lets one of two buyers racing for the last coins win, never overselling', async () => {
    const ad = (await post(seller, '/p2p/ads', { ...AD, amount: '10', max_amount: '10' })).json();
    const other = await k.user('other@example.test');
    const [a, b] = await Promise.all([order(buyer, ad.id, '10'), order(other, ad.id, '10')]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect([a, b].find((r) => r.statusCode === 409)!.json().code).toBe('ad_insufficient_amount');
    expect((await k.app.inject({ url: `/api/v1/p2p/ads/${ad.id}` })).json().available_amount).toBe('0');
    expect(await expectEscrowExact()).toBe(10_000_000n);
    expect(await k.balance(seller)).toMatchObject({ available: '90', pending_out: '10' });
  });

  it('refuses the own ad, amounts outside the limits, a frozen seller’s ad, and a seller without the coins', async () => {
    const ad = (await post(seller, '/p2p/ads', AD)).json();
    expect((await order(seller, ad.id, '5')).json().code).toBe('own_ad');
    const big = await order(buyer, ad.id, '60');
    expect([big.statusCode, big.json().code]).toEqual([422, 'amount_out_of_limits']);
    expect((await order(buyer, ad.id, '0.5')).statusCode).toBe(422);
    expect((await post(buyer, '/p2p/ads', { ...AD, amount: '1' })).json().code).toBe('insufficient_funds');
    await k.platform.accounts.freeze(seller.id, 'user_request', { type: 'system', id: null }, null);
    const frozen = await order(buyer, ad.id, '5');
    expect([frozen.statusCode, frozen.json().code]).toEqual([409, 'ad_unavailable']);
    expect(JSON.stringify(frozen.json())).not.toMatch(/frozen/);
    await expectEscrowExact();
  });

  it('lists ads best price first, paged, and a buyer who cancels after paying counts a strike', async () => {
    await k.fund(seller.id, 'USDT', '100');
    for (const price of ['7.30', '7.10', '7.20']) expect((await post(seller, '/p2p/ads', { ...AD, price })).statusCode).toBe(201);
    const page1 = (await k.app.inject({ url: '/api/v1/p2p/ads?side=sell&asset=USDT&fiat=CNY&limit=2' })).json();
    expect(page1.data.map((a: { price: string }) => a.price)).toEqual(['7.10', '7.20']);
    const page2 = (await k.app.inject({ url: `/api/v1/p2p/ads?side=sell&limit=2&cursor=${page1.next_cursor}` })).json();
    expect(page2.data.map((a: { price: string }) => a.price)).toEqual(['7.30']);
    const ord = (await order(buyer, page1.data[0].id, '5')).json();
    await post(buyer, `/p2p/orders/${ord.id}/paid`);
    expect((await post(buyer, `/p2p/orders/${ord.id}/cancel`)).json()).toMatchObject({ status: 'cancelled', cancel_reason: 'buyer_cancelled' });
    expect((await k.app.inject({ url: `/api/v1/p2p/users/${buyer.id}` })).json()).toMatchObject({ strikes: 1, trades_30d: 0 });
    await expectEscrowExact();
  });

  it('tells both parties on every change: trade.* events in each one’s feed carry the order as they see it', async () => {
    const ad = (await post(seller, '/p2p/ads', AD)).json();
    const ord = (await order(buyer, ad.id, '5')).json();
    await post(buyer, `/p2p/orders/${ord.id}/paid`);
    while ((await k.platform.payments!.webhooks.dispatchTick()) > 0);
    const feed = await k.t.db.kysely.selectFrom('user_events').select(['user_id', 'type', 'body']).where('type', 'like', 'trade.%').orderBy('seq').execute();
    expect(feed.map((e) => [e.user_id, e.type])).toEqual([[buyer.id, 'trade.created'], [seller.id, 'trade.created'], [buyer.id, 'trade.paid'], [seller.id, 'trade.paid']]);
    const bodies = feed.map((e) => JSON.parse(e.body) as { data: { id: string; role: string } });
    expect(bodies.map((b) => [b.data.id, b.data.role])).toEqual([[ord.id, 'buyer'], [ord.id, 'seller'], [ord.id, 'buyer'], [ord.id, 'seller']]);
  });
});
