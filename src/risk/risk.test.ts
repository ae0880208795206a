// Goal: the stored risk engine — versioned rule sets (each PUT the whole set, a new version,
// audited; 422 rule_invalid naming the rule changes nothing), decisions stored with facts and
// fired rules and read back by subject with a cursor, backtests over stored decisions' facts with
// exact figures, lists whose changes reach in_list at once, and the staff-only routes. Method:
// app.inject() on a real database (both dialects) with the risk routes and the real engine.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { buildApp, type App } from '../app.ts';
import { headerAuthenticate, testConfig } from '../../test/helpers/payment-testkit.ts';
import { ManualClock } from '../shared/clock.ts';
import { createMetrics } from '../ops/ops.ts';
import { createRisk, type Risk, type RiskRule } from './risk.ts';
import { riskRoutes } from './risk-routes.ts';

const rule = (id: string, when: string, extra: Partial<RiskRule> = {}): RiskRule => ({ id, description: `rule ${id}`, event: 'withdrawal', when, action: 'review', mode: 'active', ...extra });

describe.each(DIALECTS)('risk engine on %s', (dialect) => {
  let t: TestDb;
  let app: App;
  let risk: Risk;
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 12));
  const staff = { 'x-test-user': 'usr_risk:risk' };
  const api = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = staff) =>
    app.inject({ method, url: `/api/v1${url}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  beforeEach(async () => {
    t = await openTestDb(dialect);
    risk = createRisk({ db: t.db, clock, new_account_s: null });
    app = await buildApp({ config: testConfig(), db: t.db, clock, metrics: createMetrics(false), authenticate: headerAuthenticate, routes: [{ name: 'risk', plugin: riskRoutes({ risk, clock }) }] });
  });
  afterEach(async () => {
    await app.close();
    await t.cleanup();
  });

  it('starts with the default rules as version 1 and versions every PUT of the whole set, audited', async () => {
    const first = await api('GET', '/admin/risk/rules');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ version: 1, rules: [{ id: 'large_amount', mode: 'active' }, { id: 'new_account', mode: 'shadow' }, { id: 'new_address_after_credential_change' }] });
    const put = await api('PUT', '/admin/risk/rules', { rules: [rule('big', 'amount_usd >= 5000.0'), rule('velocity', 'count_1h >= 5', { action: 'block' })] });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ version: 2, rules: [{ id: 'big' }, { id: 'velocity', action: 'block' }] });
    expect((await api('GET', '/admin/risk/rules')).json().version).toBe(2);
    const audit = await t.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'risk_rules_updated').execute();
    expect(audit.map((a) => [a.actor_id, a.subject_id, JSON.parse(a.details).rule_ids])).toEqual([['usr_risk', '2', ['big', 'velocity']]]);
  });

  it('refuses a bad set with 422 rule_invalid naming the rule, and keeps the current version', async () => {
    const cases: Array<[RiskRule | Record<string, unknown>, string, string]> = [
      [rule('bad_expr', 'amount_usd >='), 'bad_expr', 'syntax'],
      [rule('bad_fact', 'balance > 3'), 'bad_fact', 'unknown_fact'],
      [rule('bad_fn', 'score(asset) > 1'), 'bad_fn', 'unknown_function'],
      [{ ...rule('bad_event', 'true'), event: 'deposit' }, 'bad_event', 'unknown_event'],
      [{ ...rule('bad_action', 'true'), action: 'ban' }, 'bad_action', 'unknown_action'],
    ];
    for (const [bad, id, problem] of cases) {
      const res = await api('PUT', '/admin/risk/rules', { rules: [rule('fine', 'true'), bad] });
      expect([id, res.statusCode, res.json().code, res.json().rule_id, res.json().errors[0].problem]).toEqual([id, 422, 'rule_invalid', id, problem]);
      expect(res.json().detail).toContain(id);
    }
    const dup = await api('PUT', '/admin/risk/rules', { rules: [rule('twice', 'true'), rule('twice', 'false')] });
    expect([dup.statusCode, dup.json().rule_id, dup.json().errors[0].problem]).toEqual([422, 'twice', 'duplicate_id']);
    expect((await api('GET', '/admin/risk/rules')).json().version).toBe(1);
  });

  it('stores decisions with facts and fired rules, and pages them by subject', async () => {
    await api('PUT', '/admin/risk/rules', { rules: [rule('big', 'amount_usd >= 1000.0'), rule('shadowy', 'true', { mode: 'shadow', action: 'block' })] });
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      const d = await risk.evaluate('withdrawal', { amount_usd: 600 * i, user_id: 'usr_a' });
      await risk.record(null, d, { subject_id: `pay_${i}`, user_id: 'usr_a' });
    }
    const all = await api('GET', '/admin/risk/decisions?limit=2');
    expect(all.json().data.map((d: { subject_id: string; action: string }) => [d.subject_id, d.action])).toEqual([['pay_2', 'review'], ['pay_1', 'allow']]);
    expect(all.json().data[0]).toMatchObject({ event: 'withdrawal', user_id: 'usr_a', rule_version: 2, deciding_rule: 'big', fired: [{ rule_id: 'shadowy', action: 'block', mode: 'shadow' }, { rule_id: 'big', action: 'review', mode: 'active' }], facts: { amount_usd: 1200, user_id: 'usr_a', asset: '' } });
    const next = await api('GET', `/admin/risk/decisions?limit=2&cursor=${all.json().next_cursor}`);
    expect(next.json()).toMatchObject({ data: [{ subject_id: 'pay_0' }], next_cursor: null });
    expect((await api('GET', '/admin/risk/decisions?subject=pay_1')).json().data.map((d: { subject_id: string }) => d.subject_id)).toEqual(['pay_1']);
    expect((await api('GET', '/admin/risk/decisions?subject=usr_a')).json().data).toHaveLength(3);
  });

  it('backtests a candidate set over the stored decisions between from and to', async () => {
    const start = clock.now_ms();
    const amounts = [50, 200, 1500, 2500, 9000, 12000, 30, 800, 20000, 70];
    for (const [i, amount_usd] of amounts.entries()) {
      clock.advance(60_000);
      await risk.record(null, await risk.evaluate(i % 5 === 4 ? 'transfer' : 'withdrawal', { amount_usd, count_1h: i }), { subject_id: `pay_${i}`, user_id: 'usr_b' });
    }
    clock.advance(3600_000);
    await risk.record(null, await risk.evaluate('withdrawal', { amount_usd: 99999 }), { subject_id: 'pay_late', user_id: 'usr_b' }); // outside the window
    const res = await api('POST', '/admin/risk/backtest', {
      rules: [rule('big', 'amount_usd >= 1000.0'), rule('huge', 'amount_usd >= 10000.0', { action: 'block' }), rule('busy', 'count_1h >= 6', { mode: 'shadow', action: 'freeze' }), rule('t_big', 'amount_usd >= 1000.0', { event: 'transfer', action: 'step_up' })],
      from: new Date(start).toISOString(),
      to: new Date(start + 11 * 60_000).toISOString(),
    });
    expect(res.statusCode).toBe(200);
    // Withdrawals (i % 5 != 4): 50, 200, 1500, 2500, 12000, 30, 800, 20000 — transfers: 9000, 70.
    expect(res.json()).toEqual({
      events: 10,
      results: [
        { rule_id: 'big', hits: 4, actions: { review: 2, block: 2 } },
        { rule_id: 'huge', hits: 2, actions: { block: 2 } },
        { rule_id: 'busy', hits: 3, actions: { freeze: 3 } },
        { rule_id: 't_big', hits: 1, actions: { step_up: 1 } },
      ],
    });
    const bad = await api('POST', '/admin/risk/backtest', { rules: [rule('oops', 'nope')], from: new Date(start).toISOString(), to: new Date(start + 1).toISOString() });
    expect([bad.statusCode, bad.json().rule_id]).toEqual([422, 'oops']);
  });

  it('keeps lists whose entries reach in_list at once, audited, blocked_addresses there from the start', async () => {
    expect((await api('GET', '/admin/risk/lists')).json()).toEqual({ data: [{ name: 'blocked_addresses', version: 1, entries: [] }] });
    await api('PUT', '/admin/risk/rules', { rules: [rule('watched', 'in_list("watch_users", user_id)', { action: 'step_up' })] });
    expect((await risk.evaluate('withdrawal', { user_id: 'usr_w' })).action).toBe('allow');
    const added = await api('POST', '/admin/risk/lists/watch_users/entries', { value: 'USR_W', note: 'chargeback' });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ value: 'usr_w', note: 'chargeback', created_by: 'usr_risk' });
    expect((await api('POST', '/admin/risk/lists/watch_users/entries', { value: 'usr_w' })).statusCode).toBe(200);
    expect((await risk.evaluate('withdrawal', { user_id: 'usr_w' })).action).toBe('step_up');
    const blocked = await api('POST', '/admin/risk/lists/blocked_addresses/entries', { value: '0x00000000000000000000000000000000000000AA' });
    expect((await risk.evaluate('withdrawal', { to_address: '0x00000000000000000000000000000000000000aa' })).action).toBe('block');
    expect((await api('DELETE', `/admin/risk/lists/blocked_addresses/entries/${blocked.json().id}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/admin/risk/lists/blocked_addresses/entries/${blocked.json().id}`)).statusCode).toBe(404);
    expect((await risk.evaluate('withdrawal', { to_address: '0x00000000000000000000000000000000000000aa' })).action).toBe('allow');
    const actions = (await t.db.kysely.selectFrom('audit_log').select('action').where('action', 'like', 'risk_list%').orderBy('at_ms').execute()).map((a) => a.action);
    expect(actions).toEqual(['risk_list_entry_added', 'risk_list_entry_added', 'risk_list_entry_removed']);
    expect((await api('POST', '/admin/risk/lists/Bad-Name/entries', { value: 'x' })).statusCode).toBe(400);
  });

  it('answers staff only: 401 anonymous, 403 for a user or an agent, the facts to risk and admin', async () => {
    expect((await api('GET', '/admin/risk/rules', undefined, {})).statusCode).toBe(401);
    expect((await api('GET', '/admin/risk/rules', undefined, { 'x-test-user': 'usr_u' })).statusCode).toBe(403);
    expect((await api('PUT', '/admin/risk/rules', { rules: [] }, { 'x-test-user': 'usr_ag:agent' })).statusCode).toBe(403);
    const facts = await api('GET', '/admin/risk/facts', undefined, { 'x-test-user': 'usr_ad:admin' });
    expect(facts.statusCode).toBe(200);
    expect(facts.json().facts.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['amount_usd', 'asset', 'kyc_level', 'account_age_s', 'new_device', 'country', 'to_address_new', 'count_1h', 'count_24h', 'sum_usd_1h', 'sum_usd_24h']));
    expect(facts.json()).toMatchObject({ functions: [{ name: 'in_list' }], actions: ['freeze', 'block', 'review', 'step_up', 'allow'] });
  });
});
