// buildApp(deps) -> a Fastify instance that never listens by itself: main.ts listens, tests use
// inject(). Everything cross-cutting lives here: request ids, problem+json errors, security
// headers, body limits, rate limits, idempotency, OpenAPI, health and metrics. Modules bring
// their routes as plugins (deps.routes), mounted under /api/v1.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import { pendingMigrations } from './db/migrate.ts';
import { drainRequest } from './http/drain.ts';
import { registerIdempotency } from './http/idempotency.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { SharedRateWindows } from './http/rate-limit-shared.ts';
import type { Metrics } from './ops/ops.ts';
import type { Clock } from './shared/clock.ts';
import { ProblemError, isProblemError } from './shared/errors.ts';
import { pickLocale, type Locale } from './shared/i18n.ts';
import { newId } from './shared/ids.ts';
import type { Principal } from './shared/principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type { RouteModule } from './http/typed-app.ts';
import type { RouteModule } from './http/typed-app.ts';

export interface AppDeps {
  config: Config;
  db: Db;
  clock: Clock;
  metrics: Metrics;
  /** Resolves the caller from the request (session cookie, Bearer token or API key). */
  authenticate?: (req: FastifyRequest) => Promise<Principal | null>;
  routes?: RouteModule[];
  /** Extra readiness checks (for example: chains reachable); each returns an error text or null. */
  readiness?: Array<() => Promise<string | null>>;
  /** A pino logger for request logs (main.ts); none in tests. */
  loggerInstance?: FastifyBaseLogger;
}

export type App = FastifyInstance;

const DRAIN_BYTES_MAX = 64 * 1_048_576;
const DRAIN_MS_MAX = 30_000;

const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;

const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', detail: 'The request body is larger than this route accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'Send the body as application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_body', detail: 'The body is empty but Content-Type says application/json.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_body', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'malformed_body', detail: 'Content-Length does not match the body.' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'The Content-Type header is not valid.' },
};

function toProblem(error: FastifyError): ProblemError {
  if (isProblemError(error)) return error;
  if (error.validation) {
    const errors = error.validation.map((v) => ({ path: v.instancePath || `/${(v.params as { missingProperty?: string })?.missingProperty ?? ''}`, message: v.message }));
    const where = error.validationContext ?? 'request';
    const first = errors[0];
    return new ProblemError(400, 'validation_failed', `The ${where} is not valid: ${first ? `${first.path} ${first.message}` : error.message}.`, { errors });
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) return new ProblemError(known.status, known.code, known.detail);
  // A parser's own SyntaxError (custom content-type parsers) is the client's fault; any other
  // error that merely mentions JSON is ours and stays a 500.
  if (error instanceof SyntaxError && error.statusCode === 400) return new ProblemError(400, 'malformed_body', 'The body is not valid JSON.');
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ProblemError(status, 'bad_request', error.message);
  return new ProblemError(500, 'internal', 'Something went wrong on our side. It has been logged; retry later or quote the request id to support.');
}

/** Problems speak the signed-in user's language, else the one the client asks for (Accept-Language). */
function problemLocale(req: FastifyRequest): Locale {
  return pickLocale(req.principal?.locale ?? null, req.headers['accept-language']);
}

async function readinessProblems(db: Db, checks: Array<() => Promise<string | null>>): Promise<string[]> {
  const problems: string[] = [];
  try {
    await sql`select 1`.execute(db.kysely);
    const pending = await pendingMigrations(db);
    if (pending.length) problems.push(`migrations not applied: ${pending.join(', ')}`);
  } catch (error) {
    problems.push(`database unreachable: ${(error as Error).message}`);
  }
  for (const check of checks) {
    const p = await check().catch((e: unknown) => String(e));
    if (p) problems.push(p);
  }
  return problems;
}

/** Whether `Authorization: Bearer <expected>` was sent, compared in constant time; never with no token configured. */
function bearerMatches(header: string | undefined, expected: string | null): boolean {
  if (!expected || !header?.startsWith('Bearer ')) return false;
  const sent = createHash('sha256').update(header.slice(7)).digest();
  return timingSafeEqual(sent, createHash('sha256').update(expected).digest());
}

/** The security headers every answer carries (JSON answers also a strict CSP, and no caching under /api/). */
function securityHeaders(config: AppDeps['config']): (req: FastifyRequest, reply: FastifyReply) => void {
  return (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('x-frame-options')) reply.header('x-frame-options', 'DENY');
    if (config.public_url.startsWith('https://')) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.includes('json')) {
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
      if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    }
  };
}

/** The OpenAPI document (generated from the route schemas) and its browsable page at /docs. */
async function registerOpenApi(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Settle API', version: '1.0.0', description: 'Self-hosted crypto payments that are never silent. Errors are RFC 9457 problem+json with a stable `code`.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A session token from POST /auth/login, or a merchant API key sk_…' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}

/** Every refusal and failure, and every unknown route, answers problem+json in the caller's language. */
function registerErrorHandlers(app: App): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500) req.log.error({ err: error }, 'request failed');
    else req.log.info({ code: problem.code, status: problem.status }, 'request refused');
    for (const [k, v] of Object.entries(problem.headers)) reply.header(k, v);
    const locale = problemLocale(req);
    return reply.code(problem.status).header('content-language', locale).type('application/problem+json').send(problem.toBody(req.url, locale));
  });

  app.setNotFoundHandler((req, reply) => {
    const problem = new ProblemError(404, 'route_not_found', `No route ${req.method} ${req.url.split('?')[0]}. See /docs for the API.`);
    const locale = problemLocale(req);
    return reply.code(404).header('content-language', locale).type('application/problem+json').send(problem.toBody(req.url, locale));
  });
}

/** The operator's endpoints: liveness, readiness, metrics (behind the token) and the OpenAPI JSON. */
function registerOpsRoutes(app: App, deps: AppDeps): void {
  const { config, db, metrics } = deps;
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Readiness says ready or not; why not (a database error, a pending migration, an RPC URL
  // with its key) is for the operator's log, not for whoever can reach the port.
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    const problems = await readinessProblems(db, deps.readiness ?? []);
    if (problems.length) {
      req.log.warn({ problems }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' });
    }
    return { status: 'ready' };
  });
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!bearerMatches(req.headers.authorization, config.metrics_token)) {
      throw new ProblemError(401, 'metrics_token_required', 'Metrics need the operator\'s token: send SETTLE_METRICS_TOKEN as a Bearer token.');
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/**
 * Ajv's type coercion turns a query or path text such as `Infinity` or `1e400` into a number
 * that is not finite, and then skips `minimum`/`maximum` (they apply only to finite numbers), so
 * `?limit=Infinity` reached a handler (and the database) as Infinity: a 500. JSON bodies cannot
 * carry one (Ajv refuses a non-finite number there), so the query and params are checked here,
 * after validation, for every route: such a value is the client's mistake, a 400.
 */
function registerFiniteNumberGuard(app: App): void {
  app.addHook('preHandler', async (req) => {
    for (const [where, values] of [['querystring', req.query], ['params', req.params]] as const) {
      if (!values || typeof values !== 'object') continue;
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        const bad = typeof value === 'number' ? !Number.isFinite(value) : Array.isArray(value) && value.some((v) => typeof v === 'number' && !Number.isFinite(v));
        if (bad) throw new ProblemError(400, 'validation_failed', `The ${where} is not valid: /${name} must be a finite number.`, { errors: [{ path: `/${name}`, message: 'must be a finite number' }] });
      }
    }
  });
}

/** Per request: id, principal and rate limit on the way in; security headers, drain and metrics on the way out. */
function registerRequestHooks(app: App, deps: AppDeps, setSecurityHeaders: ReturnType<typeof securityHeaders>): void {
  const { config, clock, metrics } = deps;
  const limiter = new RateLimiter(config.rate_limit.per_second, config.rate_limit.burst);
  // On PostgreSQL several API processes may answer one caller: their counts meet in the database.
  const shared = deps.db.dialect === 'postgres' ? new SharedRateWindows(deps.db, config.rate_limit.per_second, config.rate_limit.burst, () => clock.now_ms()) : null;
  if (shared) {
    shared.start();
    app.addHook('onClose', async () => shared.stop());
  }
  const started = new WeakMap<FastifyRequest, bigint>();

  app.addHook('onRequest', async (req, reply) => {
    started.set(req, process.hrtime.bigint());
    reply.header('x-request-id', req.id);
    if (deps.authenticate && req.url.startsWith('/api/')) req.principal = await deps.authenticate(req);
    if (req.url.startsWith('/api/')) {
      const caller = req.principal ? `u:${req.principal.user_id}` : `ip:${req.ip}`;
      limiter.take(caller, clock.now_ms());
      shared?.take(caller, clock.now_ms());
    }
  });

  // Graceful shutdown: a response finished while closing tells the client to hang up, so that a
  // keep-alive connection does not hold close() open until its idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    setSecurityHeaders(req, reply);
    // An answer given before the body was read (413, 401, 404 …) waits for the body's end, so
    // that the client reads the answer instead of a broken pipe.
    await drainRequest(req.raw, DRAIN_BYTES_MAX, DRAIN_MS_MAX);
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    const t0 = started.get(req);
    if (t0 !== undefined) metrics.httpDuration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - t0) / 1e9);
  });
}

/** const app = await buildApp(deps); const res = await app.inject({ method: 'GET', url: '/healthz' }) */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, db, clock } = deps;
  const setSecurityHeaders = securityHeaders(config);
  const app = Fastify({
    ...(deps.loggerInstance ? { loggerInstance: deps.loggerInstance } : { logger: false }),
    bodyLimit: config.limits.body_bytes_max,
    // req.ip (rate limits, login throttles, audit) is the forwarded client only when the peer is
    // a proxy the operator listed; otherwise X-Forwarded-For is ignored (a client could pick its own).
    trustProxy: config.trust_proxy.length ? config.trust_proxy : false,
    requestIdHeader: false,
    genReqId: (raw) => {
      const sent = raw.headers['x-request-id'];
      return typeof sent === 'string' && REQUEST_ID_RE.test(sent) ? sent : newId('req');
    },
    // Errors Fastify meets before routing (a URL with broken percent-encoding) get the same
    // problem+json as everything else.
    frameworkErrors: (error, req, reply: FastifyReply) => {
      const problem = error.code === 'FST_ERR_BAD_URL' ? new ProblemError(400, 'malformed_url', 'The URL is not valid: check its percent-encoding.') : toProblem(error);
      const locale = problemLocale(req);
      reply.header('x-request-id', req.id).header('content-language', locale).code(problem.status).type('application/problem+json');
      setSecurityHeaders(req, reply);
      void reply.send(problem.toBody(undefined, locale));
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', null);
  // The API speaks JSON only: without this, Fastify's default text/plain parser would let a
  // text body through to validation instead of answering 415.
  app.removeContentTypeParser('text/plain');
  await app.register(cookie);

  await registerOpenApi(app);

  registerRequestHooks(app, deps, setSecurityHeaders);

  registerFiniteNumberGuard(app);

  registerIdempotency(app, db, clock, (req) => (req.principal ? `user:${req.principal.user_id}` : `ip:${req.ip}`));

  registerErrorHandlers(app);

  registerOpsRoutes(app, deps);

  for (const mod of deps.routes ?? []) {
    await app.register(mod.plugin, { prefix: mod.prefix ?? '/api/v1' });
  }
  await app.ready();
  return app;
}
