// GET /api/v1/agent/stream (API.md "Live updates"): staff see the queue's case events as they
// happen — every `case.*` event of the outbox, internal notes included — as server-sent events
// (`case.message` with the message, `case.updated` with the case as staff see it; `id:` the
// outbox seq; `Last-Event-ID` resumes after it). It reads the outbox with the one reader
// (jobs' nextOutboxBatch), so on PostgreSQL an event whose transaction commits late is not skipped.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.ts';
import { nextOutboxBatch } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { requirePrincipal } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import { AGENT_ROLES, type Support } from '../support/support.ts';
import { runSseLoop, sseEvent } from './stream-routes.ts';

export interface AgentStreamDeps {
  db: Db;
  clock: Clock;
  support: Pick<Support, 'summary'>;
  poll_ms?: number;
  heartbeat_ms?: number;
}

const BATCH_MAX = 200;
const HEARTBEAT_MS = 15_000;

async function latestOutboxSeq(db: Db): Promise<number> {
  const r = await db.kysely.selectFrom('outbox_events').select((eb) => eb.fn.max('seq').as('s')).executeTakeFirst();
  return r?.s === null || r?.s === undefined ? 0 : Number(r.s);
}

async function render(support: AgentStreamDeps['support'], type: string, payload: string): Promise<{ event: string; data: unknown } | null> {
  const p = JSON.parse(payload) as { case_id: string; message?: unknown };
  if (type === 'case.message') return p.message ? { event: 'case.message', data: p.message } : null;
  const c = await support.summary(p.case_id);
  return c ? { event: type === 'case.sla_breached' ? 'case.sla_breached' : 'case.updated', data: c } : null;
}

export function agentStreamRoutes(deps: AgentStreamDeps): FastifyPluginAsync {
  const poll_ms = deps.poll_ms ?? 1000;
  const heartbeat_ms = deps.heartbeat_ms ?? HEARTBEAT_MS;
  return async (app) => {
    const open = new Set<() => void>();
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
    });
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    app.get('/agent/stream', {
      config: { auth: AGENT_ROLES },
      schema: {
        tags: ['agent'],
        summary: 'The queue\'s case events as they happen (text/event-stream; event: case.message | case.updated | case.sla_breached; internal notes included)',
        security: [{ bearer: [] }],
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 20 })) }),
      },
    }, async (req, reply) => {
      requirePrincipal(req.principal);
      if (!String(req.headers.accept ?? '').includes('text/event-stream')) {
        throw new ProblemError(406, 'not_acceptable', 'This route answers text/event-stream only: open it with EventSource (Accept: text/event-stream).');
      }
      const sent = req.headers['last-event-id'];
      let cursor = typeof sent === 'string' && /^\d{1,15}$/.test(sent) ? Number(sent) : await latestOutboxSeq(deps.db);
      const reader = `agent-stream:${req.id}`;
      runSseLoop(req, reply, open, {
        poll_ms,
        heartbeat_ms,
        poll: async (write, ended) => {
          for (const r of await nextOutboxBatch(deps.db.kysely, reader, cursor, BATCH_MAX)) {
            cursor = r.seq;
            if (r.aggregate_type !== 'case') continue;
            const out = await render(deps.support, r.type, r.payload);
            if (!out || ended()) continue;
            write(sseEvent(out.event, cursor, out.data));
          }
        },
      });
    });
  };
}
