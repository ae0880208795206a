// Goal: internal transfers move exactly amount + fee, write two payments (each with its timeline
// row and outbox event) and answer with them as stored, apply once per key, create ledger
// accounts only when needed, replay on the same Idempotency-Key, refuse with the contract's codes
// (in an order that leaks little), hold for a frozen recipient and release on unfreeze, and stop
// during a global maintenance window.
// Method: real accounts (sessions), real ledger and app.inject() on each dialect.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/helpers/db.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { startHarness, type Harness } from '../../../test/helpers/payment-testkit.ts';
import { createTransfers } from './transfers.ts';

describe.each(DIALECTS)('transfers on %s', (dialect) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(dialect);
  });
  afterEach(async () => h.close());

  const post = (headers: Record<string, string>, key: string | null, payload: Record<string, unknown>) =>
    h.app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) }, payload });
  const balances = async (headers: Record<string, string>) => Object.fromEntries((await h.app.inject({ url: '/api/v1/balances', headers })).json().data.map((b: { asset: string }) => [b.asset, b]));

  it('moves amount + fee, writes two payments and replays on the same key', async () => {
    const a = await h.user('alice@example.test');
    const b = await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '100');
    const res = await post(a.headers, 'k-1', { to_email: 'Bob@Example.test', asset: 'USDT', amount: '10', memo: 'lunch' });
    expect(res.statusCode).toBe(201);
    const out = res.json();
    expect(out).toMatchObject({ kind: 'transfer', direction: 'out', asset: 'USDT', amount: '10', fee: '0.01', status: 'completed', hold: null, memo: 'lunch', counterparty: { email: 'bob@example.test' } });
    expect(out.explanation.code).toBe('transfer_sent');
    const replay = await post(a.headers, 'k-1', { to_email: 'Bob@Example.test', asset: 'USDT', amount: '10', memo: 'lunch' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(out.id);
    expect((await balances(a.headers)).USDT).toMatchObject({ available: '89.99' });
    expect((await balances(b.headers)).USDT).toMatchObject({ available: '10' });
    const bobs = (await h.app.inject({ url: '/api/v1/payments?kind=transfer', headers: b.headers })).json().data;
    expect(bobs).toHaveLength(1);
    expect(bobs[0]).toMatchObject({ direction: 'in', amount: '10', fee: '0', status: 'completed', counterparty: { email: 'alice@example.test' } });
    // the sender's payment is not the recipient's
    expect((await h.app.inject({ url: `/api/v1/payments/${out.id}`, headers: b.headers })).statusCode).toBe(404);
  });

  it('answers with what it stored: the 201 is the payment as read back, with a timeline row and an outbox event per payment', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    const c = await h.user('carol@example.test');
    await h.fund(a.id, 'USDT', '100');
    await h.accounts.freeze(c.id, 'user_request', { type: 'system', id: null }, null);
    for (const [key, to, type] of [['s-1', 'bob@example.test', 'payment.completed'], ['s-2', 'carol@example.test', 'payment.held']] as const) {
      const res = await post(a.headers, key, { to_email: to, asset: 'USDT', amount: '1.5', memo: 'm' });
      expect(res.statusCode).toBe(201);
      const read = await h.app.inject({ url: `/api/v1/payments/${res.json().id}`, headers: a.headers });
      expect(res.json()).toEqual(read.json());
      const pair = await h.t.db.kysely.selectFrom('payments').select(['id', 'direction']).where('reference', '=', res.json().reference).orderBy('direction').execute();
      expect(pair.map((p) => p.direction)).toEqual(['in', 'out']);
      const events = await h.t.db.kysely.selectFrom('payment_events').select(['payment_id', 'n']).where('payment_id', 'in', pair.map((p) => p.id)).execute();
      expect(events.map((e) => e.n)).toEqual([1, 1]);
      const outbox = await h.t.db.kysely.selectFrom('outbox_events').select(['aggregate_id', 'type', 'payload']).where('aggregate_id', 'in', pair.map((p) => p.id)).orderBy('seq').execute();
      expect(outbox.map((o) => [o.aggregate_id, o.type])).toEqual([[pair[1]!.id, 'payment.completed'], [pair[0]!.id, type]]);
      expect(JSON.parse(outbox[1]!.payload)).toMatchObject({ id: pair[0]!.id, direction: 'in', amount_minor: '1500000', fee_minor: '0', counterparty: a.id });
    }
  });

  it('applies a transfer once when sent again with the same key, answering with the stored payment', async () => {
    const a = await h.user('alice@example.test');
    const b = await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '100');
    const first = await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '10' }, 'again');
    expect(first.counterparty).toEqual({ user_id: b.id, email: 'bob@example.test' });
    const second = await h.transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '10' }, 'again');
    expect(second.counterparty).toBeNull();
    expect([second.payment, second.timeline]).toEqual([first.payment, first.timeline]);
    expect((await balances(a.headers)).USDT.available).toBe('89.99');
    expect(await h.t.db.kysely.selectFrom('outbox_events').select('id').where('aggregate_id', '=', first.payment.id).execute()).toHaveLength(1);
  });

  it('creates ledger accounts once, and again if one it knew of is missing', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '100');
    const ensured: number[] = [];
    let missingOnce = false;
    const ledger: Ledger = {
      ...h.ledger,
      async ensureAccounts(specs, trx) {
        ensured.push(specs.length);
        return h.ledger.ensureAccounts(specs, trx);
      },
      async createTransfersIn(trx, batch) {
        if (!missingOnce) return h.ledger.createTransfersIn(trx, batch);
        missingOnce = false;
        return batch.map((t) => ({ id: t.id, result: 'credit_account_not_found' as const }));
      },
    };
    const transfers = createTransfers({ db: h.t.db, clock: h.clock, config: h.config, ledger, accounts: h.accounts });
    const send = (key: string) => transfers.send(a.id, { to_email: 'bob@example.test', asset: 'USDT', amount: '1' }, key);
    await send('c-1');
    await send('c-2');
    expect(ensured).toEqual([3]);
    missingOnce = true;
    expect((await send('c-3')).payment.status).toBe('completed');
    expect(ensured).toEqual([3, 3]);
    expect((await balances(a.headers)).USDT.available).toBe('96.997');
  });

  it('refuses with the contract codes and leaves balances untouched', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '600');
    await h.fund(a.id, 'ETH', '1');
    const codes: Array<[Record<string, unknown>, number, string]> = [
      [{ to_email: 'bob@example.test', asset: 'USDT', amount: '1000' }, 422, 'limit_exceeded'],
      [{ to_email: 'bob@example.test', asset: 'ETH', amount: '2' }, 422, 'insufficient_funds'],
      [{ to_email: 'nobody@example.test', asset: 'ETH', amount: '0.1' }, 422, 'recipient_not_found'],
      [{ to_email: 'nobody@example.test', asset: 'ETH', amount: '5' }, 422, 'insufficient_funds'],
      [{ to_email: 'alice@example.test', asset: 'ETH', amount: '0.1' }, 422, 'recipient_is_sender'],
      [{ to_email: 'bob@example.test', asset: 'DOGE', amount: '1' }, 422, 'unknown_asset'],
      [{ to_email: 'bob@example.test', asset: 'USDT', amount: '0.0000001' }, 422, 'invalid_amount'],
      [{ to_email: 'bob@example.test', asset: 'USDT', amount: '0' }, 422, 'invalid_amount'],
    ];
    for (const [i, [body, status, code]] of codes.entries()) {
      const res = await post(a.headers, `r-${i}`, body);
      expect([res.statusCode, res.json().code], JSON.stringify(body)).toEqual([status, code]);
    }
    // daily limit at KYC level 0: 500 USD at once, 1 000 USD a day
    await h.fund(a.id, 'USDT', '600');
    expect((await post(a.headers, 'd-1', { to_email: 'bob@example.test', asset: 'USDT', amount: '500' })).statusCode).toBe(201);
    expect((await post(a.headers, 'd-2', { to_email: 'bob@example.test', asset: 'USDT', amount: '499' })).statusCode).toBe(201);
    const daily = await post(a.headers, 'd-3', { to_email: 'bob@example.test', asset: 'USDT', amount: '2' });
    expect([daily.statusCode, daily.json().code, daily.json().limit]).toEqual([422, 'limit_exceeded', 'daily']);
    h.clock.advance(24 * 3600_000 + 1);
    a.headers.authorization = `Bearer ${(await h.accounts.issueSessionForTests(a.id)).token}`; // the old session idled out
    expect((await post(a.headers, 'd-4', { to_email: 'bob@example.test', asset: 'USDT', amount: '2' })).statusCode).toBe(201);
    expect((await balances(a.headers)).ETH.available).toBe('1');

    expect((await post(a.headers, null, { to_email: 'bob@example.test', asset: 'USDT', amount: '1' })).json().code).toBe('idempotency_key_required');
    for (const bad of [{ to_email: 'bob@example.test', asset: 'USDT' }, { to_email: 'bob@example.test', asset: 'USDT', amount: '-1' }, { to_email: 'bob@example.test', asset: 'USDT', amount: '1', extra: true }, { to_email: 'bob@example.test', asset: 'usdt', amount: '1' }]) {
      expect((await post(a.headers, 'bad', bad)).statusCode).toBe(400);
    }
    expect((await post({}, 'anon', { to_email: 'bob@example.test', asset: 'USDT', amount: '1' })).statusCode).toBe(401);
  });

  it('refuses frozen and restricted senders', async () => {
    const a = await h.user('alice@example.test');
    await h.user('bob@example.test');
    await h.fund(a.id, 'USDT', '100');
    await h.accounts.freeze(a.id, 'user_request', { type: 'system', id: null }, null, { keep_session: null });
    const me = await h.accounts.issueSessionForTests(a.id);
    const res = await post({ authorization: `Bearer ${me.token}` }, 'f-1', { to_email: 'bob@example.test', asset: 'USDT', amount: '1' });
    expect([res.statusCode, res.json().code]).toEqual([403, 'account_frozen']);
  });

  it('holds for a frozen recipient and releases on unfreeze', async () => {
    const a = await h.user('alice@example.test');
    const b = await h.user('bob@example.test');
    const admin = await h.user('root@example.test', ['admin']);
    await h.fund(a.id, 'USDT', '100');
    await h.accounts.freeze(b.id, 'user_request', { type: 'system', id: null }, null);
    expect((await post(a.headers, 'h-1', { to_email: 'bob@example.test', asset: 'USDT', amount: '20' })).statusCode).toBe(201);
    const bob = await h.accounts.issueSessionForTests(b.id);
    const bh = { authorization: `Bearer ${bob.token}`, 'accept-language': 'zh-CN' };
    const held = (await h.app.inject({ url: '/api/v1/payments', headers: bh })).json().data[0];
    expect(held).toMatchObject({ status: 'held', hold: { reason: 'account_frozen' }, explanation: { code: 'held_account_frozen', eta: null } });
    expect(held.explanation.next_action).toContain('/me/unfreeze-request');
    expect((await balances(bh)).USDT).toMatchObject({ available: '0', held: '20' });

    await h.accounts.staffUnfreeze(admin.principal, b.id, 'verified on the phone', { ip: null, user_agent: null, request_id: null });
    expect(await h.transfers.releaseTick()).toBeGreaterThan(0);
    // the release's own events are read (and ignored) by the next pass; then nothing is left
    await h.transfers.releaseTick();
    expect(await h.transfers.releaseTick()).toBe(0);
    const released = (await h.app.inject({ url: `/api/v1/payments/${held.id}`, headers: bh })).json();
    expect(released).toMatchObject({ status: 'completed', hold: null, explanation: { code: 'released' } });
    expect(released.timeline.map((e: { status: string }) => e.status)).toEqual(['held', 'completed']);
    expect((await balances(bh)).USDT).toMatchObject({ available: '20', held: '0' });
  });

  it('is refused during a global maintenance window, before validation', async () => {
    const a = await h.user('alice@example.test');
    await h.maintenance.schedule({ scope: 'global', starts_at_ms: h.clock.now_ms(), ends_at_ms: h.clock.now_ms() + 60_000, message: 'Upgrade' }, 'usr_admin');
    const res = await post(a.headers, 'm-1', { nonsense: true });
    expect([res.statusCode, res.json().code, res.headers['retry-after']]).toEqual([503, 'maintenance', '60']);
    // a chain window does not stop internal transfers
    h.clock.advance(60_000);
    await h.maintenance.schedule({ scope: 'chain:31337', starts_at_ms: h.clock.now_ms(), ends_at_ms: h.clock.now_ms() + 60_000, message: 'Node' }, 'usr_admin');
    expect((await post(a.headers, 'm-2', { to_email: 'x@example.test', asset: 'USDT', amount: '1' })).json().code).toBe('insufficient_funds');
  });
});
