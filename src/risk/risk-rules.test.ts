// Goal: the risk rules decide as documented — every CEL operator and every fact reaches a rule,
// the evaluation order is fixed (strongest action first, then the set's order), the strongest
// active action wins, shadow rules are recorded and change nothing, bad rules are refused naming
// the rule, backtests count hits on a seeded history, and the default rules decide exactly as the
// withdrawal review rules they replace. Method: pure calls on compiled sets; the equivalence with
// the old code is a fast-check property over random facts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reviewRules, NEW_ACCOUNT_MS } from '../payments/withdrawals/withdrawal-rules.ts';
import {
  BLOCKED_ADDRESS_RULE, FACTS, backtest, compileRuleSet, completeFacts, decide, defaultRules,
  type CompiledRuleSet, type RiskLists, type RiskRule,
} from './risk-rules.ts';

const rule = (id: string, when: string, extra: Partial<RiskRule> = {}): RiskRule => ({ id, description: '', event: 'withdrawal', when, action: 'review', mode: 'active', ...extra });
const noLists: RiskLists = new Map();

function compiled(rules: RiskRule[], version = 1): CompiledRuleSet {
  const r = compileRuleSet(version, rules);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.set;
}

/** Whether one expression fires on the given facts. */
function fires(when: string, facts: Record<string, number | string | boolean> = {}, lists: RiskLists = noLists): boolean {
  return decide(compiled([rule('r', when)]), 'withdrawal', completeFacts(facts), lists).fired.some((x) => x.rule_id === 'r');
}

describe('CEL operators over facts', () => {
  const f = { amount_usd: 1500.5, count_1h: 4, asset: 'USDT', new_device: true, country: 'DE' };
  it.each([
    ['amount_usd == 1500.5', true], ['amount_usd != 1500.5', false], ['count_1h < 5', true], ['count_1h <= 4', true], ['count_1h > 4', false], ['count_1h >= 4', true],
    ['new_device && count_1h > 3', true], ['!new_device || count_1h > 10', false], ['!new_device', false], ['count_1h > 3 ? new_device : false', true],
    ['asset in ["USDT", "USDC"]', true], ['country in ["US", "GB"]', false], ['count_1h + 1 == 5', true], ['count_1h - 1 == 3', true], ['count_1h * 2 == 8', true],
    ['count_1h / 2 == 2', true], ['count_1h % 3 == 1', true], ['amount_usd * 2.0 > 3000.0', true], ['-count_1h < 0', true],
    ['asset.startsWith("US")', true], ['asset.endsWith("DT")', true], ['asset.contains("SD")', true], ['asset.matches("^U.*T$")', true], ['size(asset) == 4', true],
    ['int(amount_usd) == 1500', true], ['double(count_1h) > 3.5', true], ['amount_usd >= 1000', true], ['count_1h > 3.5', true], ['string(count_1h) == "4"', true],
    ['[1, 2, 3].exists(x, x == count_1h - 2)', true], ['[5, 6].all(x, x > count_1h)', true],
  ])('%s -> %s', (when, expected) => {
    expect(fires(when, f)).toBe(expected);
  });

  it('in_list reads the lists handed in, case-insensitively', () => {
    const lists: RiskLists = new Map([['blocked_addresses', new Set(['0xabc'])], ['watch', new Set(['usr_1'])]]);
    expect(fires('in_list("blocked_addresses", to_address)', { to_address: '0xABC' }, lists)).toBe(true);
    expect(fires('in_list("watch", user_id)', { user_id: 'usr_1' }, lists)).toBe(true);
    expect(fires('in_list("watch", user_id)', { user_id: 'usr_2' }, lists)).toBe(false);
    expect(fires('in_list("nope", user_id)', { user_id: 'usr_1' }, lists)).toBe(false);
  });

  it('reaches every fact, each with a value that fires and one that does not', () => {
    const cases: Record<string, { when: string; yes: number | string | boolean; no: number | string | boolean }> = {
      amount_usd: { when: 'amount_usd >= 100.0', yes: 100, no: 99.99 },
      asset: { when: 'asset == "ETH"', yes: 'ETH', no: 'USDT' },
      kyc_level: { when: 'kyc_level < 2', yes: 1, no: 2 },
      account_age_s: { when: 'account_age_s >= 0 && account_age_s < 3600', yes: 10, no: -1 },
      new_device: { when: 'new_device', yes: true, no: false },
      country: { when: 'country == "KP"', yes: 'KP', no: '' },
      to_address_new: { when: 'to_address_new', yes: true, no: false },
      count_1h: { when: 'count_1h >= 3', yes: 3, no: 2 },
      count_24h: { when: 'count_24h >= 10', yes: 10, no: 9 },
      sum_usd_1h: { when: 'sum_usd_1h > 5000.0', yes: 5000.01, no: 5000 },
      sum_usd_24h: { when: 'sum_usd_24h > 20000.0', yes: 20001, no: 1 },
      to_address: { when: 'to_address.startsWith("0xdead")', yes: '0xdead01', no: '0xbeef' },
      user_id: { when: 'user_id == "usr_x"', yes: 'usr_x', no: 'usr_y' },
      over_review_above: { when: 'over_review_above', yes: true, no: false },
      credentials_changed_age_s: { when: 'credentials_changed_age_s >= 0 && credentials_changed_age_s < 86400', yes: 5, no: -1 },
      failed_logins_1h: { when: 'failed_logins_1h >= 5', yes: 5, no: 4 },
    };
    expect(Object.keys(cases).sort()).toEqual(FACTS.map((x) => x.name).sort());
    for (const [name, c] of Object.entries(cases)) {
      expect([name, fires(c.when, { [name]: c.yes })]).toEqual([name, true]);
      expect([name, fires(c.when, { [name]: c.no })]).toEqual([name, false]);
    }
  });

  it('fills facts that do not apply with defaults (0, "", false, -1 for ages)', () => {
    expect(completeFacts({})).toMatchObject({ amount_usd: 0, asset: '', new_device: false, account_age_s: -1, credentials_changed_age_s: -1, count_1h: 0 });
  });
});

describe('order, strongest action and shadow', () => {
  const set = compiled([
    rule('allow_small', 'amount_usd < 10.0', { action: 'allow' }),
    rule('review_big', 'amount_usd >= 1000.0'),
    rule('step_new', 'new_device', { action: 'step_up' }),
    rule('block_huge', 'amount_usd >= 50000.0', { action: 'block' }),
    rule('review_again', 'amount_usd >= 1000.0'),
    rule('freeze_shadow', 'amount_usd >= 1000.0', { action: 'freeze', mode: 'shadow' }),
    rule('login_only', 'true', { event: 'login', action: 'block' }),
  ]);
  const run = (facts: Record<string, number | boolean>) => decide(set, 'withdrawal', completeFacts(facts), noLists);

  it('evaluates strongest action first, then in the set order, and only the event\'s rules', () => {
    const d = run({ amount_usd: 60000, new_device: true });
    expect(d.fired.map((x) => x.rule_id)).toEqual(['freeze_shadow', 'block_huge', 'review_big', 'review_again', 'step_new']);
    expect(d).toMatchObject({ action: 'block', deciding_rule: 'block_huge', rule_version: 1 });
  });

  it('lets the strongest active action win: review over step_up, step_up over allow', () => {
    expect(run({ amount_usd: 2000, new_device: true })).toMatchObject({ action: 'review', deciding_rule: 'review_big' });
    expect(run({ amount_usd: 5, new_device: true })).toMatchObject({ action: 'step_up', deciding_rule: 'step_new' });
    expect(run({ amount_usd: 5 })).toMatchObject({ action: 'allow', deciding_rule: 'allow_small' });
    expect(run({ amount_usd: 500 })).toMatchObject({ action: 'allow', deciding_rule: null, fired: [] });
  });

  it('records shadow rules without letting them change the action', () => {
    const d = run({ amount_usd: 2000 });
    expect(d.fired).toContainEqual({ rule_id: 'freeze_shadow', action: 'freeze', mode: 'shadow' });
    expect(d.action).toBe('review');
  });

  it('ranks freeze above block, and the built-in blocked_addresses check as a block', () => {
    const lists: RiskLists = new Map([['blocked_addresses', new Set(['0xbad'])]]);
    const s = compiled([rule('f', 'amount_usd > 100.0', { action: 'freeze' }), rule('b', 'true', { action: 'block' })]);
    expect(decide(s, 'withdrawal', completeFacts({ amount_usd: 200 }), noLists)).toMatchObject({ action: 'freeze', deciding_rule: 'f' });
    const listed = decide(compiled([rule('r', 'true')]), 'withdrawal', completeFacts({ to_address: '0xBAD' }), lists);
    expect(listed).toMatchObject({ action: 'block', deciding_rule: BLOCKED_ADDRESS_RULE });
    expect(listed.fired[0]).toEqual({ rule_id: BLOCKED_ADDRESS_RULE, action: 'block', mode: 'active' });
    expect(decide(s, 'withdrawal', completeFacts({ amount_usd: 200, to_address: '0xbad' }), lists)).toMatchObject({ action: 'freeze', deciding_rule: 'f' });
  });

  it('does not fire a rule whose evaluation fails at run time, and says so', () => {
    const d = decide(compiled([rule('div', 'count_1h / count_24h > 1', { action: 'block' })]), 'withdrawal', completeFacts({}), noLists);
    expect(d).toMatchObject({ action: 'allow', fired: [], errors: [{ rule_id: 'div', detail: expect.stringMatching(/division by zero/) }] });
  });
});

describe('invalid rules are refused naming the rule', () => {
  const problemOf = (rules: unknown[]) => {
    const r = compileRuleSet(1, rules);
    return r.ok ? null : r.errors.map((e) => [e.rule_id, e.problem]);
  };
  it.each([
    [[rule('a', 'amount_usd +')], [['a', 'syntax']]],
    [[rule('a', 'balance > 1')], [['a', 'unknown_fact']]],
    [[rule('a', 'risky(asset)')], [['a', 'unknown_function']]],
    [[rule('a', 'asset.shout() == "X"')], [['a', 'unknown_function']]],
    [[rule('a', 'in_list(1, 2)')], [['a', 'type']]],
    [[rule('a', 'amount_usd + "x" == 1')], [['a', 'type']]],
    [[rule('a', 'amount_usd')], [['a', 'not_bool']]],
    [[rule('a', 'true'), rule('a', 'false')], [['a', 'duplicate_id']]],
    [[{ ...rule('a', 'true'), event: 'deposit' }], [['a', 'unknown_event']]],
    [[{ ...rule('a', 'true'), action: 'ban' }], [['a', 'unknown_action']]],
    [[{ ...rule('a', 'true'), mode: 'off' }], [['a', 'unknown_mode']]],
    [[rule('Bad Id', 'true')], [['Bad Id', 'invalid_id']]],
    [[rule('ok', 'true'), rule('b', 'x.y')], [['b', 'unknown_fact']]],
  ])('%j', (rules, expected) => {
    expect(problemOf(rules)).toEqual(expected);
  });
  it('names the rule in the detail', () => {
    const r = compileRuleSet(1, [rule('velocity', 'count_1h > ')]);
    expect(r.ok ? null : r.errors[0]!.detail).toMatch(/^Rule velocity: /);
  });
});

describe('backtest', () => {
  it('counts hits and the decisions they belong to over a seeded history', () => {
    const set = compiled([rule('big', 'amount_usd >= 1000.0'), rule('huge', 'amount_usd >= 10000.0', { action: 'block' }), rule('night', 'count_1h >= 3', { mode: 'shadow', action: 'freeze' })]);
    const history = [
      ...Array.from({ length: 7 }, (_, i) => ({ event: 'withdrawal' as const, facts: { amount_usd: 100 * i } })), // 0..600: nothing
      ...Array.from({ length: 3 }, () => ({ event: 'withdrawal' as const, facts: { amount_usd: 2000 } })), // big
      ...Array.from({ length: 2 }, () => ({ event: 'withdrawal' as const, facts: { amount_usd: 20000, count_1h: 5 } })), // big + huge (block) + night
      { event: 'login' as const, facts: { amount_usd: 50000 } }, // other event: no rule
    ];
    expect(backtest(set, history, noLists)).toEqual([
      { rule_id: 'big', hits: 5, actions: { review: 3, block: 2 } },
      { rule_id: 'huge', hits: 2, actions: { block: 2 } },
      { rule_id: 'night', hits: 2, actions: { freeze: 2 } },
    ]);
  });
});

describe('default rules', () => {
  it('compile, and keep new_account off (shadow) unless a window is given', () => {
    expect(defaultRules({ new_account_s: null }).map((r) => [r.id, r.mode])).toEqual([['large_amount', 'active'], ['new_account', 'shadow'], ['new_address_after_credential_change', 'active']]);
    expect(defaultRules({ new_account_s: 3600 })[1]).toMatchObject({ mode: 'active', when: 'account_age_s >= 0 && account_age_s < 3600' });
  });

  it('decide as the withdrawal review rules they replace (the same rules, in the same order)', () => {
    const NOW = 1_800_000_000_000;
    const on = compiled(defaultRules({ new_account_s: NEW_ACCOUNT_MS / 1000 }));
    const ago = fc.option(fc.integer({ min: 0, max: 3 * 86400_000 }), { nil: null });
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 30_000n }), fc.option(fc.bigInt({ min: 1n, max: 30_000n }), { nil: null }), ago, ago, fc.boolean(), (amount, threshold, created, changed, used) => {
        const legacy = reviewRules({ now_ms: NOW, amount_minor: amount, threshold_minor: threshold, account_created_at_ms: created === null ? null : NOW - created, credentials_changed_at_ms: changed === null ? null : NOW - changed, address_used_before: used, new_account_ms: NEW_ACCOUNT_MS });
        const facts = completeFacts({
          over_review_above: threshold !== null && amount >= threshold,
          account_age_s: created === null ? -1 : Math.floor(created / 1000),
          credentials_changed_age_s: changed === null ? -1 : Math.floor(changed / 1000),
          to_address_new: !used,
        });
        const d = decide(on, 'withdrawal', facts, noLists);
        expect(d.fired.map((x) => x.rule_id)).toEqual(legacy);
        expect(d.action).toBe(legacy.length ? 'review' : 'allow');
      }),
      { numRuns: 500 },
    );
  });
});
