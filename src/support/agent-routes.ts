// The agent console's routes (API.md part 2, "Agent routes"; roles agent, risk, admin): the
// queue by nearest SLA due time, a case with its internal notes, assign, reply or note, status,
// merge, phone cases and call logs. Every change is audited (support-agent.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { requirePrincipal } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import type { Support } from './support.ts';
import { AGENT_ROLES, CASE_STATUSES, type CaseStatus } from './support-rules.ts';
import { AgentMessageBody, auditMeta, CallBody, CaseListSchema, CaseSchema, IdParams, MessageSchema, PhoneCaseBody, Problem, QueueQuery, StatusSchema } from './support-schemas.ts';

export interface AgentRouteDeps {
  support: Support;
  clock: Clock;
}

const REFUSALS: Record<string, [number, string, string]> = {
  not_found: [404, 'not_found', 'No case with that id.'],
  case_closed: [409, 'case_closed', 'This case is closed or merged into another.'],
  not_staff: [422, 'assignee_not_staff', 'Cases are assigned to staff members only (roles agent, risk or admin).'],
  transition_invalid: [409, 'case_transition_invalid', 'The case cannot move from its status to that one.'],
  same_case: [422, 'merge_invalid', 'A case cannot be merged into itself.'],
  source_closed: [409, 'merge_invalid', 'This case is closed or already merged.'],
  target_closed: [409, 'merge_invalid', 'The target case is closed or merged; merge into a live case.'],
  different_customer: [422, 'merge_different_customer', 'Cases of two different customers are never merged.'],
};

export function refusal(reason: string): ProblemError {
  const [status, code, detail] = REFUSALS[reason] ?? [409, reason, reason];
  return new ProblemError(status, code, detail);
}

const staffAuth = { auth: AGENT_ROLES };
const sec = [{ bearer: [] }];

export function agentRoutes(deps: AgentRouteDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    queueRoutes(app, deps);
    changeRoutes(app, deps);
    phoneRoutes(app, deps);
  };
}

function parseStatuses(text: string | undefined): CaseStatus[] | null {
  if (!text) return null;
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => !(CASE_STATUSES as readonly string[]).includes(s));
  if (bad.length) throw problems.validation(`Unknown status: ${bad.join(', ')}; statuses are ${CASE_STATUSES.join(', ')}.`);
  return list as CaseStatus[];
}

function queueRoutes(app: TypedApp, { support }: AgentRouteDeps): void {
  app.get('/agent/cases', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'The queue, nearest SLA due time first (status: comma-separated; assignee: a staff id, "me" or "none")', security: sec, querystring: QueueQuery, response: { 200: CaseListSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const q = req.query;
    const assignee = q.assignee === 'me' ? me.user_id : (q.assignee ?? null);
    return support.queue({ statuses: parseStatuses(q.status), assignee, channel: q.channel ?? null, priority: q.priority ?? null }, q.cursor ?? null, q.limit);
  });

  app.get('/agent/cases/:id', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'A case with its internal notes and evidence', security: sec, params: IdParams, response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const c = await support.getCase(req.params.id, 'staff');
    if (!c) throw problems.notFound('case');
    return c;
  });
}

function changeRoutes(app: TypedApp, { support }: AgentRouteDeps): void {
  app.post('/agent/cases/:id/assign', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Assign a case (to yourself when assignee_id is absent)', security: sec, params: IdParams, body: Type.Object({ assignee_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }), response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const r = await support.assign(req.params.id, me.user_id, req.body?.assignee_id ?? null, auditMeta(req));
    if (!r.ok) throw refusal(r.reason);
    return (await support.getCase(r.case.id, 'staff'))!;
  });

  app.post('/agent/cases/:id/messages', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Reply to the customer, or add an internal note (internal: true, never shown to the customer)', security: sec, params: IdParams, body: AgentMessageBody, response: { 201: Type.Object({ message: MessageSchema, case: CaseSchema }), '4xx': Problem } },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    if (!(await support.attachmentsUsable(req.body.attachment_ids ?? [], me.user_id, req.params.id))) throw new ProblemError(422, 'attachment_invalid', 'Every attachment_ids entry must be a file you uploaded that is not on another case.');
    const r = await support.addAgentMessage(req.params.id, me.user_id, { body: req.body.body, internal: req.body.internal === true, attachment_ids: req.body.attachment_ids ?? [] }, auditMeta(req));
    if (!r.ok) throw refusal(r.reason);
    return reply.code(201).send({ message: r.message, case: (await support.getCase(req.params.id, 'staff'))! });
  });

  app.post('/agent/cases/:id/status', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Change a case\'s status (along the transition table)', security: sec, params: IdParams, body: Type.Object({ status: StatusSchema }, { additionalProperties: false }), response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const r = await support.setStatus(req.params.id, me.user_id, req.body.status, auditMeta(req));
    if (!r.ok) throw refusal(r.reason);
    return (await support.getCase(r.case.id, 'staff'))!;
  });

  app.post('/agent/cases/:id/evidence/refresh', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Capture the case\'s evidence again (payment, diagnosis with the chain\'s view, account standing); older snapshots stay', security: sec, params: IdParams, response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const c = await support.refreshEvidence(req.params.id, me.user_id, auditMeta(req));
    if (!c) throw problems.notFound('case');
    return c;
  });

  app.post('/agent/cases/:id/merge', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Merge this case into another of the same customer (messages, evidence and references move; this one closes)', security: sec, params: IdParams, body: Type.Object({ into_case_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }), response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const r = await support.merge(req.params.id, req.body.into_case_id, me.user_id, auditMeta(req));
    if (!r.ok) throw refusal(r.reason);
    return (await support.getCase(r.case.id, 'staff'))!;
  });
}

function phoneRoutes(app: TypedApp, { support }: AgentRouteDeps): void {
  app.post('/agent/cases', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Open a case for a caller (channel phone; joins their live case about the same hash, payment or trade: 200)', security: sec, body: PhoneCaseBody, response: { 200: CaseSchema, 201: CaseSchema, '4xx': Problem } },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    const b = req.body;
    if (!b.user_id && !b.contact?.email && !b.contact?.name) throw problems.validation('Name the caller: user_id, or contact with an email or a name.');
    const r = await support.openOrJoinCase({ channel: 'phone', user_id: b.user_id ?? null, contact: b.contact ?? {}, subject: b.subject, body: b.body, tx_hash: b.tx_hash ?? null, payment_id: b.payment_id ?? null, trade_id: b.trade_id ?? null, author: { type: 'agent', id: me.user_id } });
    await support.auditCase(r.case.id, me.user_id, 'support_phone_case_opened', auditMeta(req), { created: r.created });
    return reply.code(r.created ? 201 : 200).send((await support.getCase(r.case.id, 'staff'))!);
  });

  app.post('/agent/cases/:id/calls', {
    config: staffAuth,
    schema: { tags: ['agent'], summary: 'Log a phone call on a case (a message with channel phone)', security: sec, params: IdParams, body: CallBody, response: { 201: Type.Object({ message: MessageSchema, case: CaseSchema }), '4xx': Problem } },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    if (!(await support.attachmentsUsable(req.body.attachment_ids ?? [], me.user_id, req.params.id))) throw new ProblemError(422, 'attachment_invalid', 'Every attachment_ids entry must be a file you uploaded that is not on another case.');
    const r = await support.logCall(req.params.id, me.user_id, { ...req.body, attachment_ids: req.body.attachment_ids ?? [] }, auditMeta(req));
    if (!r.ok) throw refusal(r.reason);
    return reply.code(201).send({ message: r.message, case: (await support.getCase(req.params.id, 'staff'))! });
  });
}
