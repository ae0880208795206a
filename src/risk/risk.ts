// The risk module's face: pure decisions over facts handed to it (the callers — payments,
// accounts through platform wiring — gather the facts), over the current versioned rule set and
// lists, each compiled or loaded once per version and cached; every decision is stored by the
// caller's transaction (record). Rules and order: risk-rules.ts and docs/decisions/0015.
//
//   const risk = createRisk({ db, clock });
//   const d = await risk.evaluate('withdrawal', { amount_usd: 12000, … });
//   await risk.record(trx, d, { subject_id: payment_id, user_id });
import type { Db, DbExecutor } from '../db/database.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import {
  backtest as runBacktest, compileRuleSet, completeFacts, decide, defaultRules, isRiskEvent,
  type BacktestResult, type CompiledRuleSet, type RiskDecision, type RiskEvent, type RiskFacts, type RiskLists, type RiskRule, type RuleError,
} from './risk-rules.ts';
import * as store from './risk-store.ts';

export {
  BLOCKED_ADDRESS_RULE, FACTS, FUNCTIONS, LEGACY_RULE_IDS, RISK_ACTIONS, RISK_EVENTS, RISK_MODES, RULES_MAX, completeFacts, defaultRules,
  type FiredRule, type RiskAction, type RiskDecision, type RiskEvent, type RiskFacts, type RiskRule,
} from './risk-rules.ts';

/** A decision with the complete facts it was taken on. */
export type Decided = RiskDecision & { facts: RiskFacts };

/** What payments and accounts use: evaluate facts, store the decision where the change commits. */
export interface RiskEngine {
  evaluate(event: RiskEvent, facts: Partial<RiskFacts>): Promise<Decided>;
  /** Stores the decision (in the caller's transaction when given one); returns its id. */
  record(ex: DbExecutor | null, d: Decided, about: { subject_id: string; user_id: string }): Promise<string>;
}

export interface DecisionDto {
  id: string;
  at: string;
  event: string;
  subject_id: string;
  user_id: string;
  action: string;
  deciding_rule: string | null;
  rule_version: number;
  fired: unknown;
  facts: unknown;
}

export interface ListDto {
  name: string;
  version: number;
  entries: Array<{ id: string; value: string; note: string | null; created_by: string | null; created_at: string }>;
}

export interface Risk extends RiskEngine {
  rules(): Promise<{ version: number; rules: readonly RiskRule[] }>;
  /** Replaces the whole set: the new version, or the rules' errors (nothing stored then). */
  putRules(rules: readonly unknown[], by: string, meta: AuditMeta | null): Promise<{ ok: true; version: number; rules: readonly RiskRule[] } | { ok: false; errors: RuleError[] }>;
  decisions(q: { subject: string | null; cursor: string | null; limit: number }): Promise<{ data: DecisionDto[]; next_cursor: string | null }>;
  backtest(rules: readonly unknown[], from_ms: number, to_ms: number): Promise<{ ok: true; results: BacktestResult[]; events: number } | { ok: false; errors: RuleError[] }>;
  lists(): Promise<ListDto[]>;
  addEntry(name: string, value: string, note: string | null, by: string, meta: AuditMeta | null): Promise<{ created: boolean; entry: ListDto['entries'][number] }>;
  removeEntry(name: string, id: string, by: string, meta: AuditMeta | null): Promise<boolean>;
}

export interface RiskDeps {
  db: Db;
  clock: Clock;
  /** The default rules' new-account window (version 1 only); null: that rule is shadow (off). */
  new_account_s?: number | null;
}

/** Limits: entries kept in memory for in_list, entries shown per list, events read by a backtest. */
export const LIST_ENTRIES_MAX = 100_000;
export const LIST_ENTRIES_SHOWN_MAX = 500;
export const BACKTEST_EVENTS_MAX = 50_000;

/** An engine over a fixed rule set that stores nothing: the default rules where no risk store is wired (tests of a module alone). */
export function memoryRisk(rules: readonly RiskRule[]): RiskEngine {
  const compiled = compileRuleSet(1, rules);
  if (!compiled.ok) throw new Error(`memoryRisk: invalid rules: ${compiled.errors.map((e) => e.detail).join('; ')}`);
  const lists: RiskLists = new Map();
  return {
    evaluate: async (event, partial) => {
      const facts = completeFacts(partial);
      return { ...decide(compiled.set, event, facts, lists), facts };
    },
    record: async () => '',
  };
}

/** What the engine keeps per process: the compiled current set and the lists, each reloaded when its version changes. */
interface RiskCache {
  currentSet(): Promise<CompiledRuleSet>;
  currentLists(): Promise<RiskLists>;
  /** A set just stored by this process becomes the cached one. */
  adopt(set: CompiledRuleSet): void;
}

function riskCache(deps: RiskDeps): RiskCache {
  const { db, clock } = deps;
  let cached: CompiledRuleSet | null = null;
  let listCache: { key: string; lists: RiskLists } | null = null;
  return {
    async currentSet() {
      let version = await store.currentVersion(db.kysely);
      if (version === 0) {
        // The first use stores the default rules as version 1 (a concurrent first use inserts nothing).
        await store.insertRuleSet(db.kysely, { version: 1, rules: JSON.stringify(defaultRules({ new_account_s: deps.new_account_s ?? null })), created_by: null, created_at_ms: clock.now_ms() });
        version = 1;
      }
      if (cached?.version === version) return cached;
      const row = await store.ruleSet(db.kysely, version);
      if (!row) throw new Error(`risk rule set ${version} vanished`);
      const compiled = compileRuleSet(version, JSON.parse(row.rules) as unknown[]);
      // A stored set was valid when stored; one that no longer compiles is a programmer error (a fact removed).
      if (!compiled.ok) throw new Error(`stored risk rule set ${version} no longer compiles: ${compiled.errors.map((e) => e.detail).join('; ')}`);
      cached = compiled.set;
      return cached;
    },
    async currentLists() {
      const versions = await store.listVersions(db.kysely);
      const key = versions.map((v) => `${v.name}:${v.version}`).join(',');
      if (listCache?.key === key) return listCache.lists;
      const lists = new Map<string, Set<string>>(versions.map((v) => [v.name, new Set<string>()]));
      for (const e of await store.allEntries(db.kysely, LIST_ENTRIES_MAX)) lists.get(e.list_name)?.add(e.value);
      listCache = { key, lists };
      return lists;
    },
    adopt(set) {
      cached = set;
    },
  };
}

const entryDto = (e: store.ListEntryRow) => ({ id: e.id, value: e.value, note: e.note, created_by: e.created_by, created_at: isoTime(e.created_at_ms) });

/** const risk = createRisk({ db, clock, new_account_s: null }) — the stored, versioned engine. */
export function createRisk(deps: RiskDeps): Risk {
  const cache = riskCache(deps);
  return { ...engine(deps, cache), ...ruleAdmin(deps, cache), ...listAdmin(deps) };
}

/** Evaluate and record: what payments and accounts call on every event. */
function engine(deps: RiskDeps, cache: RiskCache): RiskEngine {
  const { db, clock } = deps;
  return {
    async evaluate(event, partial) {
      const [set, lists] = await Promise.all([cache.currentSet(), cache.currentLists()]);
      const facts = completeFacts(partial);
      return { ...decide(set, event, facts, lists), facts };
    },
    async record(ex, d, about) {
      const at = clock.now_ms();
      const id = newId('rdc', at);
      await store.insertDecision(ex ?? db.kysely, {
        id, at_ms: at, event: d.event, subject_id: about.subject_id, user_id: about.user_id, action: d.action, deciding_rule: d.deciding_rule,
        fired: JSON.stringify(d.fired), facts: JSON.stringify(d.errors.length ? { ...d.facts, _errors: d.errors } : d.facts), rule_version: d.rule_version,
      });
      return id;
    },
  };
}

/** The staff side of rules: read, replace (audited), the decision log, backtests. */
function ruleAdmin(deps: RiskDeps, cache: RiskCache): Pick<Risk, 'rules' | 'putRules' | 'decisions' | 'backtest'> {
  const { db, clock } = deps;
  return {
    async rules() {
      const set = await cache.currentSet();
      return { version: set.version, rules: set.rules };
    },
    async putRules(rules, by, meta) {
      const current = await cache.currentSet();
      const compiled = compileRuleSet(current.version + 1, rules);
      if (!compiled.ok) return compiled;
      const version = compiled.set.version;
      const stored = await db.transaction(async (trx) => {
        const now = clock.now_ms();
        if (!(await store.insertRuleSet(trx, { version, rules: JSON.stringify(compiled.set.rules), created_by: by, created_at_ms: now }))) return false;
        await writeAudit(trx, { actor: { type: 'staff', id: by }, action: 'risk_rules_updated', subject: { type: 'risk_rule_set', id: String(version) }, meta, details: { version, rule_ids: compiled.set.rules.map((r) => r.id) } }, now);
        return true;
      });
      if (!stored) throw new ProblemError(409, 'rules_changed', 'Another change of the rules was saved at the same moment: reload them and try again.');
      cache.adopt(compiled.set);
      return { ok: true, version, rules: compiled.set.rules };
    },
    async decisions(q) {
      const rows = await store.listDecisions(db.kysely, { ...q, limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return {
        data: page.map((r) => ({ id: r.id, at: isoTime(r.at_ms), event: r.event, subject_id: r.subject_id, user_id: r.user_id, action: r.action, deciding_rule: r.deciding_rule, rule_version: r.rule_version, fired: JSON.parse(r.fired), facts: JSON.parse(r.facts) })),
        next_cursor: rows.length > q.limit ? page[page.length - 1]!.id : null,
      };
    },
    async backtest(rules, from_ms, to_ms) {
      const compiled = compileRuleSet(0, rules);
      if (!compiled.ok) return compiled;
      const rows = await store.decisionFacts(db.kysely, from_ms, to_ms, BACKTEST_EVENTS_MAX);
      const history = rows.filter((r) => isRiskEvent(r.event)).map((r) => ({ event: r.event as RiskEvent, facts: JSON.parse(r.facts) as RiskFacts }));
      return { ok: true, results: runBacktest(compiled.set, history, await cache.currentLists()), events: history.length };
    },
  };
}

/** The staff side of lists: read, add and remove entries (audited; each change bumps the list's version). */
function listAdmin(deps: RiskDeps): Pick<Risk, 'lists' | 'addEntry' | 'removeEntry'> {
  const { db, clock } = deps;
  return {
    async lists() {
      const versions = await store.listVersions(db.kysely);
      const out: ListDto[] = [];
      for (const v of versions) out.push({ name: v.name, version: v.version, entries: (await store.entriesOf(db.kysely, v.name, LIST_ENTRIES_SHOWN_MAX)).map(entryDto) });
      return out;
    },
    async addEntry(name, value, note, by, meta) {
      return db.transaction(async (trx) => {
        const now = clock.now_ms();
        if (!(await store.listExists(trx, name))) await store.insertList(trx, name, now);
        const r = await store.insertEntry(trx, { id: newId('rle', now), list_name: name, value: value.trim().toLowerCase(), note, created_by: by, created_at_ms: now });
        if (r.created) {
          await store.bumpList(trx, name);
          await writeAudit(trx, { actor: { type: 'staff', id: by }, action: 'risk_list_entry_added', subject: { type: 'risk_list', id: name }, meta, details: { entry_id: r.entry.id, value: r.entry.value, note } }, now);
        }
        return { created: r.created, entry: entryDto(r.entry) };
      });
    },
    async removeEntry(name, id, by, meta) {
      return db.transaction(async (trx) => {
        const now = clock.now_ms();
        const gone = await store.deleteEntry(trx, name, id);
        if (!gone) return false;
        await store.bumpList(trx, name);
        await writeAudit(trx, { actor: { type: 'staff', id: by }, action: 'risk_list_entry_removed', subject: { type: 'risk_list', id: name }, meta, details: { entry_id: id, value: gone.value } }, now);
        return true;
      });
    },
  };
}
