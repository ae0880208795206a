// Goal: the risk engine end to end, as API.md part 2 "Risk" promises it — a risk staff member
// replaces the rule set through the API; a matching withdrawal then waits in review (hold
// risk_review, an ETA, an explanation that does not name the rule), a bigger one is refused with
// 403 risk_blocked, a listed address with 403 address_blocked, a freeze rule freezes the account
// (abnormal_activity); a shadow rule fires on every withdrawal and changes nothing; every decision
// is in the log with its facts. Method: the whole platform (real database, accounts, ledger,
// jobs) through app.inject(), on both dialects; money booked from outside, no chain needed.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { json } from '../helpers/accounts-testkit.ts';
import { PW, WITHDRAW_TO, fund, signUp, steppedUpStaff, verifiedMember, withSecurityPlatform, type Member } from '../helpers/security-kit.ts';
import type { TestPlatform } from '../helpers/accounts-testkit.ts';

const rule = (id: string, when: string, action: string, mode = 'active') => ({ id, description: `test rule ${id}`, event: 'withdrawal', when, action, mode });
const LISTED = '0x1111111111111111111111111111111111111111';

interface Decision { event: string; subject_id: string; action: string; deciding_rule: string | null; fired: Array<{ rule_id: string; action: string; mode: string }>; facts: Record<string, unknown> }

/** One withdrawal, a second after the previous one (the decision log pages newest first by id, whose prefix is the time). */
async function withdraw(t: TestPlatform, u: Member, key: string, amount: string, to_address = WITHDRAW_TO) {
  t.clock.advance(1000);
  return t.app.inject({ method: 'POST', url: '/api/v1/withdrawals', headers: { ...u.headers, 'idempotency-key': key }, payload: { asset: 'USDT', to_address, amount } });
}

describe.each(DIALECTS)('risk rules end to end on %s', (dialect) => {
  it('a rule added through the API reviews one withdrawal, blocks another; a shadow rule only records', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const before = await t.app.inject({ method: 'GET', url: '/api/v1/admin/risk/rules', headers: risk.headers });
      expect(before.json()).toMatchObject({ version: 1, rules: [{ id: 'large_amount' }, { id: 'new_account', mode: 'shadow' }, { id: 'new_address_after_credential_change' }] });
      const bad = await t.app.inject({ method: 'PUT', url: '/api/v1/admin/risk/rules', headers: risk.headers, payload: { rules: [rule('typo', 'amount_usdd > 1.0', 'review')] } });
      expect([bad.statusCode, bad.json().code, bad.json().rule_id]).toEqual([422, 'rule_invalid', 'typo']);
      const put = await t.app.inject({
        method: 'PUT', url: '/api/v1/admin/risk/rules', headers: risk.headers,
        payload: { rules: [rule('review_mid', 'amount_usd >= 3.0', 'review'), rule('block_big', 'amount_usd >= 6.0', 'block'), rule('freeze_odd', 'amount_usd == 2.5', 'freeze'), rule('watch_all', 'true', 'freeze', 'shadow')] },
      });
      expect(put.statusCode, put.body).toBe(200);
      expect(put.json().version).toBe(2);

      const u = await signUp(t, 'rita@example.test');
      await fund(t, u.id, 'USDT', '50');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: u.headers, payload: { password: PW } })).statusCode).toBe(204);

      // A small one goes ahead: only the shadow rule fired.
      const small = await withdraw(t, u, 'w-small', '1');
      expect(small.statusCode, small.body).toBe(201);
      expect(small.json()).toMatchObject({ status: 'requested', hold: null });

      // A matching one waits for staff: risk_review, an ETA, and no rule named.
      const mid = await withdraw(t, u, 'w-mid', '4');
      expect(mid.statusCode, mid.body).toBe(201);
      const p = mid.json();
      expect(p).toMatchObject({ status: 'review', hold: { reason: 'risk_review' }, explanation: { code: 'withdrawal_review' } });
      expect(p.explanation.eta).toEqual(expect.any(String));
      expect(JSON.stringify(p)).not.toMatch(/review_mid|watch_all/);
      const queue = await t.app.inject({ method: 'GET', url: '/api/v1/admin/withdrawals/reviews', headers: risk.headers });
      expect(queue.json().data).toEqual([expect.objectContaining({ id: p.id, rules: ['review_mid'] })]);

      // A bigger one is refused, and so is a listed address; neither reserves anything.
      const big = await withdraw(t, u, 'w-big', '7');
      expect([big.statusCode, big.json().code]).toEqual([403, 'risk_blocked']);
      expect(big.body).not.toMatch(/block_big/);
      const listed = await t.app.inject({ method: 'POST', url: `/api/v1/admin/risk/lists/blocked_addresses/entries`, headers: risk.headers, payload: { value: LISTED, note: 'scam report' } });
      expect(listed.statusCode, listed.body).toBe(201);
      const toListed = await withdraw(t, u, 'w-listed', '1', LISTED);
      expect([toListed.statusCode, toListed.json().code]).toEqual([403, 'address_blocked']);
      const balances = json<{ data: Array<{ asset: string; available: string }> }>(await t.app.inject({ method: 'GET', url: '/api/v1/balances', headers: u.headers }));
      expect(balances.data.find((b) => b.asset === 'USDT')!.available).toBe('45');

      // Every decision is in the log with its facts; the shadow rule fired on each and decided none.
      const log = await t.app.inject({ method: 'GET', url: `/api/v1/admin/risk/decisions?subject=${u.id}`, headers: risk.headers });
      const decisions = json<{ data: Decision[] }>(log).data.filter((d) => d.event === 'withdrawal'); // sign-ins are decided too
      expect(decisions.map((d) => [d.action, d.deciding_rule])).toEqual([['block', 'list:blocked_addresses'], ['block', 'block_big'], ['review', 'review_mid'], ['allow', null]]);
      for (const d of decisions) expect(d.fired).toContainEqual({ rule_id: 'watch_all', action: 'freeze', mode: 'shadow' });
      expect(decisions[2]).toMatchObject({ subject_id: p.id, facts: { amount_usd: 4, asset: 'USDT', to_address_new: false, over_review_above: false, count_1h: 1, sum_usd_1h: 1 } });
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/admin/risk/decisions?subject=${p.id}`, headers: risk.headers })).json().data).toHaveLength(1);

      // A freeze rule freezes the account with the existing freeze (abnormal_activity).
      const odd = await withdraw(t, u, 'w-odd', '2.5');
      expect([odd.statusCode, odd.json().code]).toEqual([403, 'account_frozen']);
      // The freeze ends the account's sessions, as every freeze does.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: u.headers })).statusCode).toBe(401);
      const row = await t.platform.db.kysely.selectFrom('users').select('status').where('id', '=', u.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('frozen');
      const frozen = await t.platform.db.kysely.selectFrom('audit_log').select(['action', 'details']).where('subject_id', '=', u.id).where('action', '=', 'account_frozen').execute();
      expect(frozen.map((r) => JSON.parse(r.details).reason)).toEqual(['abnormal_activity']);
    });
  }, 120_000);

  it('transfers: step_up asks for a fresh factor (then goes), block refuses, each decision stored', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const rules = [
        { id: 't_step', description: '', event: 'transfer', when: 'amount_usd >= 5.0', action: 'step_up', mode: 'active' },
        { id: 't_block', description: '', event: 'transfer', when: 'amount_usd >= 20.0 || count_1h >= 3', action: 'block', mode: 'active' },
      ];
      expect((await t.app.inject({ method: 'PUT', url: '/api/v1/admin/risk/rules', headers: risk.headers, payload: { rules } })).statusCode).toBe(200);
      const sender = await signUp(t, 'sam@example.test');
      await verifiedMember(t, 'rae@example.test');
      await fund(t, sender.id, 'USDT', '100');
      const send = (key: string, amount: string) => {
        t.clock.advance(1000);
        return t.app.inject({ method: 'POST', url: '/api/v1/transfers', headers: { ...sender.headers, 'idempotency-key': key }, payload: { to_email: 'rae@example.test', asset: 'USDT', amount } });
      };
      expect((await send('t1', '1')).statusCode).toBe(201);
      const asked = await send('t2', '6');
      expect([asked.statusCode, asked.json().code]).toEqual([401, 'step_up_required']);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: sender.headers, payload: { password: PW } })).statusCode).toBe(204);
      expect((await send('t2', '6')).statusCode).toBe(201); // the same key works after the step-up
      const big = await send('t3', '25');
      expect([big.statusCode, big.json().code]).toEqual([403, 'risk_blocked']);
      const third = await send('t4', '1'); // the third transfer within the hour (count_1h counts the two before)
      expect(third.statusCode).toBe(201);
      const fourth = await send('t5', '1');
      expect([fourth.statusCode, fourth.json().code]).toEqual([403, 'risk_blocked']);
      const log = json<{ data: Decision[] }>(await t.app.inject({ method: 'GET', url: `/api/v1/admin/risk/decisions?subject=${sender.id}`, headers: risk.headers })).data.filter((d) => d.event === 'transfer');
      expect(log.map((d) => [d.action, d.deciding_rule, d.facts.count_1h])).toEqual([['block', 't_block', 3], ['allow', null, 2], ['block', 't_block', 2], ['step_up', 't_step', 1], ['step_up', 't_step', 1], ['allow', null, 0]]);
    });
  }, 120_000);

  it('login: a new device is refused by a block rule, failed-attempt velocity freezes, a shadow rule only records', async () => {
    await withSecurityPlatform(dialect, async (t) => {
      const risk = await steppedUpStaff(t, 'risk@settle.test', 'risk');
      const rules = [
        { id: 'l_new_device', description: '', event: 'login', when: 'new_device', action: 'block', mode: 'active' },
        { id: 'l_velocity', description: '', event: 'login', when: 'failed_logins_1h >= 3', action: 'freeze', mode: 'active' },
        { id: 'l_watch', description: '', event: 'login', when: 'true', action: 'step_up', mode: 'shadow' },
      ];
      expect((await t.app.inject({ method: 'PUT', url: '/api/v1/admin/risk/rules', headers: risk.headers, payload: { rules } })).statusCode).toBe(200);
      const u = await signUp(t, 'lena@example.test'); // the first sign-in: its device is not "new"
      const login = (password: string, ua = 'lightMyRequest') => {
        t.clock.advance(1000);
        return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'user-agent': ua }, payload: { email: u.email, password } });
      };
      expect((await login(PW)).statusCode).toBe(200);
      const other = await login(PW, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0');
      expect([other.statusCode, other.json().code]).toEqual([403, 'risk_blocked']);
      for (let i = 0; i < 3; i++) expect((await login('wrong password')).statusCode).toBe(401);
      t.clock.advance(600_000); // past any sign-in throttle wait, within the hour
      const frozen = await login(PW);
      expect(frozen.statusCode, frozen.body).toBe(200);
      expect(frozen.json().user.status).toBe('frozen');
      const log = json<{ data: Decision[] }>(await t.app.inject({ method: 'GET', url: `/api/v1/admin/risk/decisions?subject=${u.id}`, headers: risk.headers })).data;
      expect(log.map((d) => [d.action, d.deciding_rule, d.facts.new_device, d.facts.failed_logins_1h])).toEqual([['freeze', 'l_velocity', false, 3], ['block', 'l_new_device', true, 0], ['allow', null, false, 0], ['allow', null, false, 0]]);
      for (const d of log) expect(d.fired).toContainEqual({ rule_id: 'l_watch', action: 'step_up', mode: 'shadow' });
    });
  }, 120_000);
});
