// Risk rules as pure decisions: a rule set is data (API.md part 2, "Risk"), each rule's `when` a
// CEL expression over the event's facts, parsed and type-checked ONCE when the set is compiled
// (by @marcbachmann/cel-js: we never evaluate expressions ourselves). A decision evaluates every
// rule of the event in the fixed order of docs/decisions/0015-risk-rules-language-and-order.md — by action strength
// (freeze, block, review, step_up, allow), then in the set's own order — and the strongest action
// among the ACTIVE rules that fired wins; shadow rules fire and are recorded but change nothing.
import { Environment } from '@marcbachmann/cel-js';
import { assertNever } from '../shared/assert.ts';

export const RISK_EVENTS = ['login', 'withdrawal', 'transfer', 'p2p_order'] as const;
export type RiskEvent = (typeof RISK_EVENTS)[number];
/** Weakest first: the index is the strength (freeze > block > review > step_up > allow). */
export const RISK_ACTIONS = ['allow', 'step_up', 'review', 'block', 'freeze'] as const;
export type RiskAction = (typeof RISK_ACTIONS)[number];
export const RISK_MODES = ['active', 'shadow'] as const;
export type RiskMode = (typeof RISK_MODES)[number];

export interface RiskRule {
  id: string;
  description: string;
  event: RiskEvent;
  when: string;
  action: RiskAction;
  score?: number | undefined;
  mode: RiskMode;
}

/** Limits on a rule set: how many rules, how long an id, description and expression. */
export const RULES_MAX = 200;
export const RULE_ID_MAX = 64;
export const RULE_WHEN_MAX = 2000;
export const RULE_DESCRIPTION_MAX = 500;
/** Parse-time limits handed to CEL: no rule may grow without bound. */
const CEL_LIMITS = { maxAstNodes: 500, maxDepth: 32, maxListElements: 200, maxMapEntries: 50, maxCallArguments: 8 };

type FactType = 'double' | 'int' | 'string' | 'bool';

/** A fact rules may read: its CEL type and what it means. Every event has every fact (defaults when it does not apply). */
export interface FactSpec {
  name: string;
  type: FactType;
  description: string;
}

/** The facts of API.md, then the ones the server adds (listed at GET /admin/risk/facts). */
export const FACTS: readonly FactSpec[] = [
  { name: 'amount_usd', type: 'double', description: "The amount in US dollars (each asset's usd_price; stablecoins 1:1); 0 when the event moves no money or the asset has no price." },
  { name: 'asset', type: 'string', description: 'The asset code (USDT, ETH, …); empty when the event moves no money.' },
  { name: 'kyc_level', type: 'int', description: "The account's KYC level." },
  { name: 'account_age_s', type: 'int', description: 'Seconds since the account registered; -1 when unknown.' },
  { name: 'new_device', type: 'bool', description: 'The request comes from a device the account has not used before.' },
  { name: 'country', type: 'string', description: "The request's country (ISO 3166 alpha-2) when known from the IP, else empty." },
  { name: 'to_address_new', type: 'bool', description: 'Withdrawals: the account has never withdrawn to this address before.' },
  { name: 'count_1h', type: 'int', description: 'How many events of this kind the account made in the last hour (before this one); logins: failed sign-in attempts.' },
  { name: 'count_24h', type: 'int', description: 'The same over the last 24 hours.' },
  { name: 'sum_usd_1h', type: 'double', description: 'The US dollar total of those events in the last hour (before this one).' },
  { name: 'sum_usd_24h', type: 'double', description: 'The same over the last 24 hours.' },
  { name: 'to_address', type: 'string', description: 'Withdrawals: the destination address (lower case); empty otherwise. For in_list("blocked_addresses", to_address) and other lists.' },
  { name: 'user_id', type: 'string', description: 'The account the event belongs to (for in_list over lists of users).' },
  { name: 'over_review_above', type: 'bool', description: "Withdrawals: the amount is at or above the asset's review_above threshold (chains configuration, or the default per symbol)." },
  { name: 'credentials_changed_age_s', type: 'int', description: 'Seconds since the last password or email change; -1 when never (or unknown).' },
  { name: 'failed_logins_1h', type: 'int', description: 'Logins: failed sign-in attempts on the account in the last hour; 0 for other events.' },
];

export type FactValue = number | string | boolean;
/** The facts of one event, by name; numbers for int and double alike (converted for CEL). */
export type RiskFacts = Record<string, FactValue>;

/** The functions rules may call besides CEL's own. */
export const FUNCTIONS = [{ name: 'in_list', signature: 'in_list(string, string): bool', description: 'Whether a value is an entry of a named list (lists: GET /admin/risk/lists); comparison is case-insensitive.' }] as const;

/**
 * Facts with every name present: the defaults (0, "", false, -1 for ages) filled in.
 * completeFacts({ amount_usd: 12 }) -> { amount_usd: 12, asset: '', kyc_level: 0, account_age_s: -1, … }
 */
export function completeFacts(partial: Partial<RiskFacts>): RiskFacts {
  const out: RiskFacts = {};
  for (const f of FACTS) {
    const v = partial[f.name];
    out[f.name] = v !== undefined ? v : f.type === 'string' ? '' : f.type === 'bool' ? false : f.name.endsWith('_age_s') ? -1 : 0;
  }
  return out;
}

// ------------------------------------------------------------------ validation and compiling

export type RuleProblem = 'invalid_id' | 'duplicate_id' | 'unknown_event' | 'unknown_action' | 'unknown_mode' | 'syntax' | 'unknown_fact' | 'unknown_function' | 'type' | 'not_bool' | 'too_long' | 'too_many';

export interface RuleError {
  rule_id: string | null;
  /** Position of the rule in the set (0-based). */
  index: number;
  problem: RuleProblem;
  detail: string;
}

/** One compiled rule: the CEL program made once, kept with its rule. */
interface CompiledRule {
  rule: RiskRule;
  program: (ctx: Record<string, unknown>) => unknown;
}

/** Lists for in_list: name -> set of lower-case values. */
export type RiskLists = ReadonlyMap<string, ReadonlySet<string>>;

export interface CompiledRuleSet {
  version: number;
  rules: readonly RiskRule[];
  /** By event, in evaluation order (strongest action first, then the set's order). */
  byEvent: ReadonlyMap<RiskEvent, readonly CompiledRule[]>;
  /** in_list reads the lists of the evaluation in progress (CEL calls are synchronous). */
  lists: { current: RiskLists };
}

const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;

function isOneOf<T extends string>(values: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (values as readonly string[]).includes(v);
}

/** The environment rules are checked against: every fact, in_list, parse limits. */
function environment(lists: { current: RiskLists }): Environment {
  let env = new Environment({ limits: CEL_LIMITS });
  for (const f of FACTS) env = env.registerVariable(f.name, f.type);
  return env.registerFunction('in_list(string, string): bool', (name: string, value: string) => lists.current.get(name)?.has(value.toLowerCase()) ?? false);
}

/** CEL's message mapped to what the rule author must fix. */
function celProblem(message: string): RuleProblem {
  if (/Unknown variable/i.test(message)) return 'unknown_fact';
  // "found no matching overload for 'bar(int)'" or "… for 'string.nope()'": an unknown name, or known with wrong arguments.
  const called = /no matching overload for '(?:[\w<>]+\.)?([a-zA-Z_]\w*)\(/i.exec(message)?.[1];
  if (called !== undefined) return FUNCTIONS.some((f) => f.name === called) || KNOWN_CEL_FUNCTIONS.has(called) ? 'type' : 'unknown_function';
  if (/Unknown function|is not a function/i.test(message)) return 'unknown_function';
  return 'type';
}
const KNOWN_CEL_FUNCTIONS = new Set(['size', 'int', 'uint', 'double', 'string', 'bool', 'bytes', 'dyn', 'type', 'matches', 'startsWith', 'endsWith', 'contains', 'timestamp', 'duration', 'has', 'all', 'exists', 'exists_one', 'map', 'filter']);

function shapeError(r: Partial<RiskRule>, index: number, seen: Set<string>): RuleError | null {
  const id = typeof r.id === 'string' ? r.id : null;
  const err = (problem: RuleProblem, detail: string): RuleError => ({ rule_id: id, index, problem, detail });
  if (id === null || id.length === 0 || id.length > RULE_ID_MAX || !ID_PATTERN.test(id)) return err('invalid_id', `Rule ${index + 1}: an id is 1 to ${RULE_ID_MAX} characters of a-z, 0-9, _ . - starting with a letter or digit.`);
  if (seen.has(id)) return err('duplicate_id', `Rule ${id}: another rule has the same id.`);
  if (!isOneOf(RISK_EVENTS, r.event)) return err('unknown_event', `Rule ${id}: event must be one of ${RISK_EVENTS.join(', ')}.`);
  if (!isOneOf(RISK_ACTIONS, r.action)) return err('unknown_action', `Rule ${id}: action must be one of ${RISK_ACTIONS.join(', ')}.`);
  if (!isOneOf(RISK_MODES, r.mode)) return err('unknown_mode', `Rule ${id}: mode must be active or shadow.`);
  if (typeof r.when !== 'string' || r.when.length === 0 || r.when.length > RULE_WHEN_MAX) return err('too_long', `Rule ${id}: when is 1 to ${RULE_WHEN_MAX} characters.`);
  if (typeof r.description === 'string' && r.description.length > RULE_DESCRIPTION_MAX) return err('too_long', `Rule ${id}: the description is at most ${RULE_DESCRIPTION_MAX} characters.`);
  return null;
}

/** Parses and type-checks one rule's `when`: the program, or what is wrong with it. */
function compileWhen(env: Environment, rule: RiskRule, index: number): CompiledRule | RuleError {
  const err = (problem: RuleProblem, detail: string): RuleError => ({ rule_id: rule.id, index, problem, detail: `Rule ${rule.id}: ${detail}` });
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(rule.when);
  } catch (e) {
    return err('syntax', `the expression does not parse: ${firstLine(e)}`);
  }
  const checked = parsed.check();
  if (!checked.valid) {
    const message = firstLine(checked.error);
    return err(celProblem(message), message);
  }
  if (checked.type !== 'bool') return err('not_bool', `the expression must be true or false, not ${checked.type}.`);
  return { rule, program: (ctx) => parsed(ctx) };
}

function firstLine(e: unknown): string {
  return String((e as Error | undefined)?.message ?? e).split('\n')[0]!.slice(0, 300);
}

/**
 * Validates and compiles a whole rule set, once; the first error of each bad rule is returned
 * (nothing is compiled then).
 * compileRuleSet(3, [{ id: 'big', event: 'withdrawal', when: 'amount_usd >= 5000.0', action: 'review', mode: 'active', description: '' }])
 *   -> { ok: true, set: { version: 3, … } }
 */
export function compileRuleSet(version: number, input: readonly unknown[]): { ok: true; set: CompiledRuleSet } | { ok: false; errors: RuleError[] } {
  if (input.length > RULES_MAX) return { ok: false, errors: [{ rule_id: null, index: RULES_MAX, problem: 'too_many', detail: `A rule set has at most ${RULES_MAX} rules.` }] };
  const lists = { current: new Map() as RiskLists };
  const env = environment(lists);
  const errors: RuleError[] = [];
  const compiled: CompiledRule[] = [];
  const seen = new Set<string>();
  input.forEach((raw, index) => {
    const r = (raw ?? {}) as Partial<RiskRule>;
    const bad = shapeError(r, index, seen);
    if (typeof r.id === 'string') seen.add(r.id);
    if (bad) return void errors.push(bad);
    const rule: RiskRule = { id: r.id!, description: r.description ?? '', event: r.event!, when: r.when!, action: r.action!, mode: r.mode!, ...(r.score !== undefined ? { score: r.score } : {}) };
    const c = compileWhen(env, rule, index);
    if ('problem' in c) errors.push(c);
    else compiled.push(c);
  });
  if (errors.length) return { ok: false, errors };
  return { ok: true, set: { version, rules: compiled.map((c) => c.rule), byEvent: orderByEvent(compiled), lists } };
}

/** The fixed evaluation order: per event, strongest action first, then the set's own order. */
function orderByEvent(compiled: CompiledRule[]): Map<RiskEvent, CompiledRule[]> {
  const out = new Map<RiskEvent, CompiledRule[]>(RISK_EVENTS.map((e) => [e, []]));
  for (const c of compiled) out.get(c.rule.event)!.push(c);
  for (const list of out.values()) list.sort((a, b) => strength(b.rule.action) - strength(a.rule.action)); // stable: the set's order within an action
  return out;
}

export function strength(a: RiskAction): number {
  return RISK_ACTIONS.indexOf(a);
}

/** The stronger of two actions. */
export function stronger(a: RiskAction, b: RiskAction): RiskAction {
  return strength(a) >= strength(b) ? a : b;
}

// ------------------------------------------------------------------ evaluation

export interface FiredRule {
  rule_id: string;
  action: RiskAction;
  mode: RiskMode;
}

export interface RiskDecision {
  event: RiskEvent;
  action: RiskAction;
  /** Every rule that fired, in evaluation order, shadow ones included. */
  fired: FiredRule[];
  /** The active rule whose action won (null when nothing active fired): explains the decision to staff. */
  deciding_rule: string | null;
  /** Rules whose evaluation failed at run time (they did not fire). */
  errors: Array<{ rule_id: string; detail: string }>;
  rule_version: number;
}

/** The facts as CEL wants them: ints as bigint, doubles as numbers. */
function celContext(facts: RiskFacts): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  for (const f of FACTS) {
    const v = facts[f.name];
    switch (f.type) {
      case 'int':
        ctx[f.name] = BigInt(Math.trunc(Number(v ?? 0)));
        break;
      case 'double':
        ctx[f.name] = Number(v ?? 0);
        break;
      case 'string':
        ctx[f.name] = String(v ?? '');
        break;
      case 'bool':
        ctx[f.name] = v === true;
        break;
      default:
        assertNever(f.type, 'fact type');
    }
  }
  return ctx;
}

/**
 * Evaluates every rule of the event over complete facts (completeFacts) and the lists.
 * decide(set, 'withdrawal', completeFacts({ amount_usd: 9000 }), lists)
 *   -> { action: 'review', fired: [{ rule_id: 'big', action: 'review', mode: 'active' }], deciding_rule: 'big', … }
 */
export function decide(set: CompiledRuleSet, event: RiskEvent, facts: RiskFacts, lists: RiskLists): RiskDecision {
  const ctx = celContext(facts);
  const fired: FiredRule[] = [];
  const errors: RiskDecision['errors'] = [];
  let action: RiskAction = 'allow';
  let deciding_rule: string | null = null;
  set.lists.current = lists;
  try {
    for (const c of set.byEvent.get(event) ?? []) {
      let hit: unknown;
      try {
        hit = c.program(ctx);
      } catch (e) {
        errors.push({ rule_id: c.rule.id, detail: firstLine(e) });
        continue;
      }
      if (hit !== true) continue;
      fired.push({ rule_id: c.rule.id, action: c.rule.action, mode: c.rule.mode });
      if (c.rule.mode === 'active' && deciding_rule === null) {
        // The first active rule in evaluation order has the strongest action of all that fire.
        action = c.rule.action;
        deciding_rule = c.rule.id;
      }
    }
  } finally {
    set.lists.current = EMPTY_LISTS;
  }
  // The built-in list check: a withdrawal to a listed address is blocked (403 address_blocked),
  // unless a freeze rule asks for more.
  const to = String(facts.to_address ?? '').toLowerCase();
  if (event === 'withdrawal' && to !== '' && lists.get('blocked_addresses')?.has(to)) {
    fired.unshift({ rule_id: BLOCKED_ADDRESS_RULE, action: 'block', mode: 'active' });
    if (strength(action) < strength('block')) {
      action = 'block';
      deciding_rule = BLOCKED_ADDRESS_RULE;
    }
  }
  return { event, action, fired, deciding_rule, errors, rule_version: set.version };
}

const EMPTY_LISTS: RiskLists = new Map();
/** The id under which the built-in blocked_addresses check appears among fired rules. */
export const BLOCKED_ADDRESS_RULE = 'list:blocked_addresses';

// ------------------------------------------------------------------ backtest

export interface BacktestResult {
  rule_id: string;
  hits: number;
  actions: Partial<Record<RiskAction, number>>;
}

/**
 * How often each rule of a candidate set would have fired over past events' facts, and what the
 * decision would have been (`actions` counts the decisions those hits belong to, per winning
 * action, so a rule outvoted by a stronger one shows it).
 * backtest(set, [{ event: 'withdrawal', facts }]) -> [{ rule_id: 'big', hits: 1, actions: { review: 1 } }]
 */
export function backtest(set: CompiledRuleSet, history: Iterable<{ event: RiskEvent; facts: RiskFacts }>, lists: RiskLists): BacktestResult[] {
  const results = new Map<string, BacktestResult>(set.rules.map((r) => [r.id, { rule_id: r.id, hits: 0, actions: {} }]));
  for (const h of history) {
    const d = decide(set, h.event, completeFacts(h.facts), lists);
    for (const f of d.fired) {
      const r = results.get(f.rule_id)!;
      r.hits += 1;
      // A shadow rule's would-be action is its own; an active one's is the decision's.
      const a = f.mode === 'shadow' ? f.action : d.action;
      r.actions[a] = (r.actions[a] ?? 0) + 1;
    }
  }
  return [...results.values()];
}

// ------------------------------------------------------------------ default rules

/** The withdrawal review rules that were code before the risk engine (withdrawal-rules.ts), as version 1. */
export const LEGACY_RULE_IDS = ['large_amount', 'new_account', 'new_address_after_credential_change'] as const;

/**
 * The default rule set (version 1): today's withdrawal review rules as data, same behaviour.
 * `new_account` is off unless a window is given: off means shadow (it records, changes nothing).
 * defaultRules({ new_account_s: null })[1] -> { id: 'new_account', mode: 'shadow', … }
 */
export function defaultRules(opts: { new_account_s: number | null }): RiskRule[] {
  const window_s = opts.new_account_s ?? 24 * 3600;
  return [
    { id: 'large_amount', description: "A withdrawal at or above the asset's review_above threshold waits for staff review.", event: 'withdrawal', when: 'over_review_above', action: 'review', mode: 'active' },
    {
      id: 'new_account',
      description: 'A withdrawal from an account registered less than the new-account window ago waits for review (off by default: shadow).',
      event: 'withdrawal',
      when: `account_age_s >= 0 && account_age_s < ${Math.trunc(window_s)}`,
      action: 'review',
      mode: opts.new_account_s === null ? 'shadow' : 'active',
    },
    {
      id: 'new_address_after_credential_change',
      description: 'A withdrawal to a never-used address within 24 hours of a password or email change waits for review.',
      event: 'withdrawal',
      when: 'to_address_new && credentials_changed_age_s >= 0 && credentials_changed_age_s < 86400',
      action: 'review',
      mode: 'active',
    },
  ];
}

/** The lists that exist from the start. */
export const DEFAULT_LISTS = ['blocked_addresses'] as const;
export const LIST_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export function isRiskEvent(v: unknown): v is RiskEvent {
  return isOneOf(RISK_EVENTS, v);
}
