// Webhook endpoints (session or API key with webhooks:write), their messages and attempts,
// manual redelivery, and the caller's own event feed (GET /events?after=).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { requireScope } from '../shared/principal.ts';
import { EVENT_PATTERN_RE } from './webhook-rules.ts';
import type { AuditMeta, Webhooks } from './webhooks.ts';
import type { TypedApp } from '../http/typed-app.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Endpoint = Type.Object({ id: Type.String(), url: Type.String(), events: Type.Array(Type.String()), created_at: Type.String() });
const REFUSALS: Record<string, string> = {
  malformed: 'The url is not a valid URL.',
  scheme: 'The url must use https.',
  credentials: 'The url must not contain a user name or password.',
  private_address: 'The url points at a loopback or private address; webhooks only go to public hosts.',
  too_many: 'You have the maximum number of webhook endpoints; delete one first.',
};

function auditMeta(req: FastifyRequest): AuditMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, user_agent: typeof ua === 'string' ? ua.slice(0, 512) : null, request_id: req.id };
}

/** The webhooks plugin: endpoints, their messages and redelivery, and the event feed. */
export function webhookRoutes(deps: { webhooks: Webhooks }): FastifyPluginAsync {
  const { webhooks } = deps;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    endpointRoutes(app, webhooks);
    messageRoutes(app, webhooks);
    eventFeedRoutes(app, webhooks);
  };
}

/** Registering, listing, deleting an endpoint and rotating its secret. */
function endpointRoutes(app: TypedApp, webhooks: Webhooks): void {
  app.post(
    '/webhook-endpoints',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Register a webhook endpoint; the secret is shown once',
        security: [{ bearer: [] }],
        body: Type.Object(
          { url: Type.String({ minLength: 8, maxLength: 2000 }), events: Type.Array(Type.String({ pattern: EVENT_PATTERN_RE.source, maxLength: 64 }), { minItems: 1, maxItems: 50 }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), url: Type.String(), events: Type.Array(Type.String()), secret: Type.String(), created_at: Type.String() }), '4xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requireScope(req.principal, 'webhooks:write');
      const r = await webhooks.createEndpoint(me.user_id, req.body.url, req.body.events, auditMeta(req));
      if (!r.ok) throw new ProblemError(422, r.reason === 'too_many' ? 'too_many_endpoints' : 'invalid_webhook_url', REFUSALS[r.reason]!, { reason: r.reason });
      return reply.code(201).send({ id: r.endpoint.id, url: r.endpoint.url, events: r.endpoint.events, secret: r.secret, created_at: isoTime(r.endpoint.created_at_ms) });
    },
  );

  app.get(
    '/webhook-endpoints',
    { schema: { tags: ['webhooks'], summary: 'Your webhook endpoints', security: [{ bearer: [] }], response: { 200: Type.Object({ data: Type.Array(Endpoint) }), '4xx': Problem } } },
    async (req) => {
      const me = requireScope(req.principal, 'webhooks:write');
      return { data: (await webhooks.listEndpoints(me.user_id)).map((e) => ({ id: e.id, url: e.url, events: e.events, created_at: isoTime(e.created_at_ms) })) };
    },
  );

  app.delete(
    '/webhook-endpoints/:id',
    { schema: { tags: ['webhooks'], summary: 'Delete a webhook endpoint', security: [{ bearer: [] }], params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 204: Type.Null(), '4xx': Problem } } },
    async (req, reply) => {
      const me = requireScope(req.principal, 'webhooks:write');
      if (!(await webhooks.deleteEndpoint(me.user_id, req.params.id, auditMeta(req)))) throw problems.notFound('webhook endpoint');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Replace the signing secret; the new one is shown once, and the old one keeps signing next to it for 24 h',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Type.Object({ id: Type.String(), secret: Type.String(), previous_secret_expires_at: Type.String() }), '4xx': Problem },
      },
    },
    async (req) => {
      const me = requireScope(req.principal, 'webhooks:write');
      const r = await webhooks.rotateSecret(me.user_id, req.params.id, auditMeta(req));
      if (!r.ok && r.reason === 'not_found') throw problems.notFound('webhook endpoint');
      if (!r.ok) throw new ProblemError(409, 'rotation_conflict', 'The secret was rotated by another request at the same moment; rotate again if you need a secret you have seen.');
      return { id: req.params.id, secret: r.secret, previous_secret_expires_at: isoTime(r.previous_valid_until_ms) };
    },
  );
}

/** The messages sent to an endpoint with their attempts, and manual redelivery. */
function messageRoutes(app: TypedApp, webhooks: Webhooks): void {
  app.get(
    '/webhook-endpoints/:id/messages',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Messages sent to an endpoint, newest first, with every attempt',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                id: Type.String(),
                type: Type.String(),
                status: Type.String(),
                attempts: Type.Array(Type.Object({ n: Type.Integer(), at: Type.String(), status_code: Type.Union([Type.Integer(), Type.Null()]), latency_ms: Type.Integer(), error: Type.Union([Type.String(), Type.Null()]) })),
                next_attempt_at: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
          }),
          '4xx': Problem,
        },
      },
    },
    async (req) => {
      const me = requireScope(req.principal, 'webhooks:write');
      const list = await webhooks.messages(me.user_id, req.params.id, req.query.limit);
      if (!list) throw problems.notFound('webhook endpoint');
      return {
        data: list.map(({ message: m, attempts }) => ({
          id: m.id,
          type: m.type,
          status: m.status,
          attempts: attempts.map((a) => ({ n: a.n, at: isoTime(a.at_ms), status_code: a.status_code, latency_ms: a.latency_ms, error: a.error })),
          next_attempt_at: m.status === 'pending' ? isoTime(m.next_attempt_at_ms) : null,
        })),
      };
    },
  );

  app.post(
    '/webhook-messages/:id/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a message again now',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 202: Type.Object({ id: Type.String(), status: Type.String() }), '4xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requireScope(req.principal, 'webhooks:write');
      const m = await webhooks.redeliver(me.user_id, req.params.id);
      if (!m) throw problems.notFound('webhook message');
      return reply.code(202).send({ id: m.id, status: m.status });
    },
  );
}

/** The caller's own events in order (GET /events?after=), for catching up after downtime. */
function eventFeedRoutes(app: TypedApp, webhooks: Webhooks): void {
  app.get(
    '/events',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Your events in order, for catching up after downtime',
        security: [{ bearer: [] }],
        querystring: Type.Object({ after: Type.Integer({ minimum: 0, default: 0 }), limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Object({ id: Type.String(), seq: Type.Integer(), type: Type.String(), timestamp: Type.String(), data: Type.Unknown() })), next_cursor: Type.Integer() }), '4xx': Problem },
      },
    },
    async (req) => {
      const me = requireScope(req.principal, 'payments:read');
      const rows = await webhooks.feed(me.user_id, req.query.after, req.query.limit);
      return {
        data: rows.map((r) => {
          const body = JSON.parse(r.body) as { timestamp: string; data: unknown };
          return { id: r.event_id, seq: r.seq, type: r.type, timestamp: body.timestamp, data: body.data };
        }),
        next_cursor: rows.length ? rows[rows.length - 1]!.seq : req.query.after,
      };
    },
  );
}
