// The risk staff routes (roles risk and admin; writes audited): the versioned rule set, the facts
// rules may read, the decision log, backtests over stored decisions, and the lists.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { requirePrincipal, type Role } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import { FACTS, FUNCTIONS, RISK_ACTIONS, RISK_EVENTS, RISK_MODES, RULES_MAX, type Risk } from './risk.ts';
import type { RuleError } from './risk-rules.ts';

const RISK_ROLES: readonly Role[] = ['risk', 'admin'];
const DECISIONS_PAGE_MAX = 200;
const BACKTEST_SPAN_MAX_MS = 366 * 24 * 3600_000;

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const RuleSchema = Type.Object({
  id: Type.String(),
  description: Type.String(),
  event: Type.Union(RISK_EVENTS.map((e) => Type.Literal(e))),
  when: Type.String(),
  action: Type.Union(RISK_ACTIONS.map((a) => Type.Literal(a))),
  score: Type.Optional(Type.Number()),
  mode: Type.Union(RISK_MODES.map((m) => Type.Literal(m))),
});
const RuleSetSchema = Type.Object({ version: Type.Integer(), rules: Type.Array(RuleSchema) });
// Rules come in loosely typed on purpose: an unknown event or action is a 422 naming the rule, not a bare 400.
const RulesInput = Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: RULES_MAX });
const FiredSchema = Type.Object({ rule_id: Type.String(), action: Type.String(), mode: Type.String() });
const DecisionSchema = Type.Object({
  id: Type.String(),
  at: Type.String(),
  event: Type.String(),
  subject_id: Type.String(),
  user_id: Type.String(),
  action: Type.String(),
  deciding_rule: Type.Union([Type.String(), Type.Null()]),
  rule_version: Type.Integer(),
  fired: Type.Array(FiredSchema),
  facts: Type.Record(Type.String(), Type.Unknown()),
});
const EntrySchema = Type.Object({ id: Type.String(), value: Type.String(), note: Type.Union([Type.String(), Type.Null()]), created_by: Type.Union([Type.String(), Type.Null()]), created_at: Type.String() });
const ListSchema = Type.Object({ name: Type.String(), version: Type.Integer(), entries: Type.Array(EntrySchema) });
const ListName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

function auditMeta(req: { ip: string; headers: { 'user-agent'?: string | undefined }; id: string }) {
  return { ip: req.ip ?? null, user_agent: req.headers['user-agent'] ?? null, request_id: String(req.id) };
}

/** 422 rule_invalid naming the (first) bad rule; every error is in `errors`. */
function ruleInvalid(errors: RuleError[]): ProblemError {
  const first = errors[0]!;
  return new ProblemError(422, 'rule_invalid', first.detail, { rule_id: first.rule_id, errors });
}

/** The risk staff routes: rules, facts, decisions, backtest, lists. */
export function riskRoutes(deps: { risk: Risk; clock: Clock }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    ruleRoutes(app, deps.risk);
    decisionRoutes(app, deps.risk);
    listRoutes(app, deps.risk);
  };
}

function ruleRoutes(app: TypedApp, risk: Risk): void {
  const auth = { auth: RISK_ROLES };
  app.get('/admin/risk/rules', { config: auth, schema: { tags: ['staff'], summary: 'The current risk rule set and its version (risk, admin)', security: [{ bearer: [] }], response: { 200: RuleSetSchema, '4xx': Problem } } }, async () => {
    const r = await risk.rules();
    return { version: r.version, rules: [...r.rules] };
  });

  app.put(
    '/admin/risk/rules',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'Replace the whole risk rule set: a new version (risk, admin; audited). 422 rule_invalid names the rule.',
        security: [{ bearer: [] }],
        body: Type.Object({ rules: RulesInput }, { additionalProperties: false }),
        response: { 200: RuleSetSchema, '4xx': Problem },
      },
    },
    async (req) => {
      const me = requirePrincipal(req.principal);
      const r = await risk.putRules(req.body.rules, me.user_id, auditMeta(req));
      if (!r.ok) throw ruleInvalid(r.errors);
      return { version: r.version, rules: [...r.rules] };
    },
  );

  app.get(
    '/admin/risk/facts',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'The facts and functions rules may use, the events, actions and modes (risk, admin)',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            facts: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), description: Type.String() })),
            functions: Type.Array(Type.Object({ name: Type.String(), signature: Type.String(), description: Type.String() })),
            events: Type.Array(Type.String()),
            actions: Type.Array(Type.String()),
            modes: Type.Array(Type.String()),
          }),
          '4xx': Problem,
        },
      },
    },
    async () => ({ facts: [...FACTS], functions: [...FUNCTIONS], events: [...RISK_EVENTS], actions: [...RISK_ACTIONS].reverse(), modes: [...RISK_MODES] }),
  );
}

function decisionRoutes(app: TypedApp, risk: Risk): void {
  const auth = { auth: RISK_ROLES };
  app.get(
    '/admin/risk/decisions',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'Stored risk decisions, newest first; subject: a payment, order or user id (risk, admin)',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { subject: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), limit: Type.Integer({ minimum: 1, maximum: DECISIONS_PAGE_MAX, default: 50 }), cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(DecisionSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), '4xx': Problem },
      },
    },
    async (req) => {
      const r = await risk.decisions({ subject: req.query.subject ?? null, cursor: req.query.cursor ?? null, limit: req.query.limit });
      return r as { data: Array<typeof r.data[number] & { fired: Array<{ rule_id: string; action: string; mode: string }>; facts: Record<string, unknown> }>; next_cursor: string | null };
    },
  );

  app.post(
    '/admin/risk/backtest',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'How often each rule of a candidate set would have fired over stored decisions between from and to (risk, admin)',
        security: [{ bearer: [] }],
        body: Type.Object({ rules: RulesInput, from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ results: Type.Array(Type.Object({ rule_id: Type.String(), hits: Type.Integer(), actions: Type.Record(Type.String(), Type.Integer()) })), events: Type.Integer() }),
          '4xx': Problem,
        },
      },
    },
    async (req) => {
      const from = Date.parse(req.body.from);
      const to = Date.parse(req.body.to);
      if (Number.isNaN(from) || Number.isNaN(to) || to <= from) throw problems.validation('from and to must be ISO 8601 times, from before to.');
      if (to - from > BACKTEST_SPAN_MAX_MS) throw new ProblemError(422, 'backtest_span_too_long', 'A backtest covers at most 366 days.');
      const r = await risk.backtest(req.body.rules, from, to);
      if (!r.ok) throw ruleInvalid(r.errors);
      return { results: r.results.map((x) => ({ rule_id: x.rule_id, hits: x.hits, actions: x.actions as Record<string, number> })), events: r.events };
    },
  );
}

function listRoutes(app: TypedApp, risk: Risk): void {
  const auth = { auth: RISK_ROLES };
  app.get('/admin/risk/lists', { config: auth, schema: { tags: ['staff'], summary: 'Risk lists and their newest entries (risk, admin)', security: [{ bearer: [] }], response: { 200: Type.Object({ data: Type.Array(ListSchema) }), '4xx': Problem } } }, async () => ({ data: await risk.lists() }));

  app.post(
    '/admin/risk/lists/:name/entries',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'Add a value to a list (the list is made on its first entry); audited (risk, admin)',
        security: [{ bearer: [] }],
        params: Type.Object({ name: ListName }),
        body: Type.Object({ value: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 200: EntrySchema, 201: EntrySchema, '4xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requirePrincipal(req.principal);
      const r = await risk.addEntry(req.params.name, req.body.value, req.body.note ?? null, me.user_id, auditMeta(req));
      return reply.code(r.created ? 201 : 200).send(r.entry);
    },
  );

  app.delete(
    '/admin/risk/lists/:name/entries/:id',
    {
      config: auth,
      schema: {
        tags: ['staff'],
        summary: 'Remove an entry from a list; audited (risk, admin)',
        security: [{ bearer: [] }],
        params: Type.Object({ name: ListName, id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 204: Type.Null(), '4xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requirePrincipal(req.principal);
      if (!(await risk.removeEntry(req.params.name, req.params.id, me.user_id, auditMeta(req)))) throw problems.notFound('list entry');
      return reply.code(204).send(null);
    },
  );
}
