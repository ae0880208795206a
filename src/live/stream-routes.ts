// GET /api/v1/stream (API.md "Live updates"): the caller's own events as server-sent
// events (each family through its LiveReader). It polls the caller's event feed (user_events: the outbox rendered per user by the
// webhook dispatcher), so that it works whichever process wrote the event, and sends each
// payment as it is NOW, in the caller's language (`payment.updated`, `id:` the feed's seq).
// `Last-Event-ID` resumes after that seq; without it the stream starts at the present.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.ts';
import { ProblemError } from '../shared/errors.ts';
import { requireScope, type Principal } from '../shared/principal.ts';

/**
 * How one family of events (`payment.*`, `case.*`, `trade.*`, `notification.*`) reaches the
 * stream: `event` is the SSE `event:` name for a stored type (e.g. `payment.credited` ->
 * `payment.updated`), `read` the object as the caller may see it NOW (from the stored webhook
 * body `{type, data}`), or null when it is not theirs / gone. Modules register theirs in
 * platform.ts; a type with no reader is not streamed.
 */
export interface LiveReader {
  event(type: string): string;
  read(principal: Principal, body: { type: string; data: unknown }): Promise<unknown>;
}

export interface StreamDeps {
  db: Db;
  /** Readers by the event type's prefix before the first dot: `payment`, `case`, `trade`, … */
  readers: Record<string, LiveReader>;
  poll_ms?: number;
  heartbeat_ms?: number;
}

const BATCH_MAX = 100;
/** API.md: a comment line at least every 15 s. */
const HEARTBEAT_MS = 15_000;

async function latestSeq(db: Db, user_id: string): Promise<number> {
  const r = await db.kysely.selectFrom('user_events').select((eb) => eb.fn.max('seq').as('s')).where('user_id', '=', user_id).executeTakeFirst();
  return r?.s === null || r?.s === undefined ? 0 : Number(r.s);
}

function startCursor(req: FastifyRequest): number | null {
  const sent = req.headers['last-event-id'];
  return typeof sent === 'string' && /^\d{1,15}$/.test(sent) ? Number(sent) : null;
}

export function openStream(req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-request-id': req.id,
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  reply.raw.write('retry: 3000\n\n');
}

/** One SSE event line block: `event:`, `id:` (the cursor) and `data: {type, data}`. */
export function sseEvent(event: string, id: number, data: unknown): string {
  return `event: ${event}\nid: ${id}\ndata: ${JSON.stringify({ type: event, data })}\n\n`;
}

/**
 * The loop both streams share: opens the response, calls `poll(write, ended)` every poll_ms
 * (never two at once; a failed poll is logged and retried), writes a keep-alive comment every
 * heartbeat_ms, and ends on client close or server close (`open` holds the enders).
 */
export function runSseLoop(
  req: FastifyRequest,
  reply: FastifyReply,
  open: Set<() => void>,
  opts: { poll_ms: number; heartbeat_ms: number; poll: (write: (chunk: string) => void, ended: () => boolean) => Promise<void> },
): void {
  openStream(req, reply);
  let ended = false;
  let busy = false;
  const tick = async () => {
    if (busy || ended) return;
    busy = true;
    try {
      await opts.poll((chunk) => reply.raw.write(chunk), () => ended);
    } catch (error) {
      req.log.warn({ err: error }, 'stream poll failed');
    } finally {
      busy = false;
    }
  };
  const poller = setInterval(() => void tick(), opts.poll_ms);
  const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), opts.heartbeat_ms);
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(poller);
    clearInterval(heartbeat);
    open.delete(end);
    reply.raw.end();
  };
  open.add(end);
  req.raw.on('close', end);
  void tick();
}

export function streamRoutes(deps: StreamDeps): FastifyPluginAsync {
  const poll_ms = deps.poll_ms ?? 1000;
  const heartbeat_ms = deps.heartbeat_ms ?? HEARTBEAT_MS;
  return async (app) => {
    const open = new Set<() => void>();
    // Streams never end by themselves: closing the server ends them, or close() would wait.
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
    });
    app.get('/stream', {
      config: { auth: 'any' },
      schema: {
        tags: ['live'],
        summary: 'Your payments, cases, P2P orders and notifications as they change (text/event-stream; event: payment.updated | case.message | case.updated | trade.updated | notification.created with the full object, id: a cursor, Last-Event-ID resumes)',
        security: [{ bearer: [] }],
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 20 })) }),
      },
    }, async (req, reply) => {
      const me = requireScope(req.principal, 'payments:read');
      // EventSource always asks for text/event-stream; anything else gets an answer that ends.
      if (!String(req.headers.accept ?? '').includes('text/event-stream')) {
        throw new ProblemError(406, 'not_acceptable', 'This route answers text/event-stream only: open it with EventSource (Accept: text/event-stream).');
      }
      let cursor = startCursor(req) ?? (await latestSeq(deps.db, me.user_id));
      runSseLoop(req, reply, open, {
        poll_ms,
        heartbeat_ms,
        poll: async (write, ended) => {
          const rows = await deps.db.kysely.selectFrom('user_events').select(['seq', 'type', 'body']).where('user_id', '=', me.user_id).where('seq', '>', cursor).orderBy('seq').limit(BATCH_MAX).execute();
          for (const r of rows) {
            cursor = Number(r.seq);
            const reader = deps.readers[r.type.split('.')[0]!];
            if (!reader) continue;
            const data = await reader.read(me, JSON.parse(r.body) as { type: string; data: unknown });
            if (data === null || data === undefined || ended()) continue;
            write(sseEvent(reader.event(r.type), cursor, data));
          }
        },
      });
    });
  };
}
