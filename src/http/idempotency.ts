// One idempotency mechanism for every money-moving route, with Stripe's semantics:
// same key + same body -> the stored response again (`Idempotent-Replayed: true`);
// same key + other body -> 422 idempotency_key_reused; same key while the first is still
// running -> 409 idempotency_key_in_use. Results (4xx included) are kept 24 h, scoped per
// caller. Not stored: 400 validation errors, 409 in_use, 401 (sign-in or step-up missing: the
// request never ran, and the client retries with the same key once it has confirmed), 429
// (throttled, never ran), and 5xx (the key is released so that the client can retry; handlers derive their record ids from the
// key, so a retry after a crash finds the work already done instead of doing it twice).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/database.ts';
import { groupCommit } from '../db/group-commit.ts';
import { precompile } from '../db/precompiled.ts';
import type { IdempotencyTable } from '../db/schema.ts';
import { ProblemError } from '../shared/errors.ts';
import type { Clock } from '../shared/clock.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** How long an in-flight key stays locked before a crashed request's key may be taken over. */
export const IDEMPOTENCY_LOCK_MS = 60_000;
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Money-moving route: Idempotency-Key required, responses stored and replayed. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    idempotency: { scope: string; key: string } | null;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(method: string, route: string, params: unknown, body: unknown): string {
  return createHash('sha256').update(`${method} ${route}\n${canonical(params)}\n${canonical(body ?? null)}`).digest('hex');
}

// The statements every money-moving request runs, compiled once for this database
// (db/precompiled.ts): claiming the key, reading it back, storing the answer, releasing it.
function idempotencyQueries(db: Db) {
  return {
    claim: precompile<[scope: string, key: string, hash: string, locked_until_ms: number, created_at_ms: number, expires_at_ms: number], unknown>(db, (k, p) =>
      k.insertInto('idempotency_keys').values({ scope: p(0), key: p(1), request_hash: p(2), state: 'in_flight', response_status: null, response_body: null, locked_until_ms: p(3), created_at_ms: p(4), expires_at_ms: p(5) }),
    ),
    find: precompile<[scope: string, key: string], Selectable<IdempotencyTable>>(db, (k, p) => k.selectFrom('idempotency_keys').selectAll().where('scope', '=', p(0)).where('key', '=', p(1))),
    complete: precompile<[status: number, body: string, scope: string, key: string], unknown>(db, (k, p) =>
      k.updateTable('idempotency_keys').set({ state: 'done', response_status: p(0), response_body: p(1) }).where('scope', '=', p(2)).where('key', '=', p(3)),
    ),
    release: precompile<[scope: string, key: string], unknown>(db, (k, p) => k.deleteFrom('idempotency_keys').where('scope', '=', p(0)).where('key', '=', p(1)).where('state', '=', 'in_flight')),
  };
}
type IdempotencyQueries = ReturnType<typeof idempotencyQueries>;

// Every write of this bookkeeping goes through the database's group commit: on SQLite, the keys
// of concurrent requests share one commit (one fsync) instead of one each.
async function claimKey(db: Db, q: IdempotencyQueries, scope: string, key: string, hash: string, now: number): Promise<boolean> {
  return groupCommit(db).write(async (ex) => {
    try {
      await q.claim.execute(ex, [scope, key, hash, now + IDEMPOTENCY_LOCK_MS, now, now + IDEMPOTENCY_TTL_MS]);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return false;
    }
  });
}

async function releaseKey(db: Db, q: IdempotencyQueries, scope: string, key: string): Promise<void> {
  await groupCommit(db).write((ex) => q.release.execute(ex, [scope, key]));
}

async function findKey(db: Db, q: IdempotencyQueries, scope: string, key: string): Promise<Selectable<IdempotencyTable> | undefined> {
  return (await q.find.execute(db.kysely, [scope, key])).rows[0];
}

function isValidationProblem(body: string): boolean {
  try {
    return (JSON.parse(body) as { code?: unknown }).code === 'validation_failed';
  } catch {
    return false;
  }
}

/** Registers the hooks; `scopeOf` names the caller (user id), called after authentication. */
export function registerIdempotency(app: FastifyInstance, db: Db, clock: Clock, scopeOf: (req: FastifyRequest) => string): void {
  app.decorateRequest('idempotency', null);
  const q = idempotencyQueries(db);

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.routeOptions.config?.idempotent) return;
    const key = req.headers['idempotency-key'];
    if (key === undefined) throw new ProblemError(400, 'idempotency_key_required', 'This request moves money: send an Idempotency-Key header (for example a UUID) so that a retry cannot run it twice.');
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw new ProblemError(400, 'idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
    const scope = scopeOf(req);
    const hash = requestHash(req.method, req.routeOptions.url ?? req.url, req.params, req.body);
    const now = clock.now_ms();
    // Two rounds at most: a key whose 24 h have passed is deleted and then claimed afresh.
    let row: Awaited<ReturnType<typeof findKey>>;
    for (let round = 0; round < 2 && !row; round++) {
      if (await claimKey(db, q, scope, key, hash, now)) {
        req.idempotency = { scope, key };
        return;
      }
      const found = await findKey(db, q, scope, key);
      if (found && found.expires_at_ms > now) row = found;
      else await groupCommit(db).write((ex) => ex.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('expires_at_ms', '<=', now).execute());
    }
    if (!row) throw new ProblemError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry shortly.', {}, { 'retry-after': '1' });
    if (row.request_hash !== hash) throw new ProblemError(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request. Use a new key for a new request.');
    if (row.state === 'done') {
      reply.header('idempotent-replayed', 'true');
      reply.code(row.response_status ?? 200);
      reply.type(row.response_status && row.response_status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8');
      return reply.send(row.response_body ?? '');
    }
    // In flight. A lock past its time means the first request died with its process: take it over.
    const taken = await groupCommit(db).write((ex) =>
      ex
        .updateTable('idempotency_keys')
        .set({ locked_until_ms: now + IDEMPOTENCY_LOCK_MS })
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('state', '=', 'in_flight')
        .where('locked_until_ms', '<', now)
        .executeTakeFirst(),
    );
    if (Number(taken.numUpdatedRows) !== 1) {
      throw new ProblemError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry shortly.', {}, { 'retry-after': '1' });
    }
    req.idempotency = { scope, key };
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const idem = req.idempotency;
    if (!idem) return payload;
    req.idempotency = null;
    if (reply.statusCode >= 500 || reply.statusCode === 401 || reply.statusCode === 429) {
      await releaseKey(db, q, idem.scope, idem.key);
      return payload;
    }
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : String(payload);
    if (reply.statusCode === 400 && isValidationProblem(body)) {
      // A request that failed validation never ran: release the key so a corrected retry may use it.
      await releaseKey(db, q, idem.scope, idem.key);
      return payload;
    }
    // Durable before the client sees the answer, so that a retry always finds it.
    await groupCommit(db).write((ex) => q.complete.execute(ex, [reply.statusCode, body, idem.scope, idem.key]));
    return payload;
  });
}

/** Deletes expired keys; run by a periodic job. */
export async function purgeExpiredIdempotencyKeys(db: Db, now_ms: number): Promise<number> {
  const res = await db.kysely.deleteFrom('idempotency_keys').where('expires_at_ms', '<', now_ms).executeTakeFirst();
  return Number(res.numDeletedRows);
}
