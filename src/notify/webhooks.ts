// Outbound webhooks (Standard Webhooks) and the per-user event feed.
//
// Two loops, both bounded per tick:
// - the dispatcher reads the outbox in order (jobs/outbox.ts: a saved cursor that never
//   skips a not-yet-committed event), renders each event it knows through the renderer the
//   owning module registered (payments render `payment` events; notify imports no payments
//   code), appends it to the owner's feed, and fans it out as one message per subscribed
//   endpoint;
// - the deliverer sends due messages, signed, one at a time per (endpoint, payment): a failing
//   payment's messages wait behind their own head of line and never block other payments'.
//   Failures retry with exponential backoff (10 s doubling, capped at 6 h, 30 attempts: > 4
//   days); every attempt is logged with status and latency; staff or the owner can redeliver.
//
// Endpoint secrets are kept sealed (AES-256-GCM, src/shared/encryption.ts, the endpoint id as
// additional data) because delivery must sign with them again; the plain `whsec_…` is shown once,
// at creation. Rows written before sealing (a plain `whsec_…` in the column) still sign, and the
// worker seals them a bounded batch per tick (sealLegacySecrets), so no migration needs the key.
// A rotation shows the new secret once and keeps the old one signing next to it for
// ROTATION_OVERLAP_MS (webhook-signature carries both), so receivers switch without a gap.
// Creating, rotating and deleting endpoints are written to the audit log.
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { loadEncryptionKey, openText, sealText } from '../shared/encryption.ts';
import { newId } from '../shared/ids.ts';
import { consumeOutbox, type OutboxRow } from '../jobs/jobs.ts';
import { postWebhook } from './webhook-http.ts';
import { checkWebhookUrl, isPrivateAddress, matchesEvent, newWebhookSecret, retryDelayMs, signWebhook, type UrlRefusal } from './webhook-rules.ts';
import * as store from './webhook-store.ts';
import { intervalWorker } from '../jobs/jobs.ts';

export const DISPATCH_CONSUMER = 'notify.webhooks';
export const ENDPOINTS_PER_USER_MAX = 20;
export const DISPATCH_BATCH_MAX = 200;
export const DELIVERY_BATCH_MAX = 50;
export const DELIVERY_TIMEOUT_MS = 10_000;
/** A delivery's claim: the timeout, the DNS check and recording fit well inside it; a crashed sender's claim ends with it. */
export const CLAIM_MS = 6 * DELIVERY_TIMEOUT_MS;
export const RESPONSE_BYTES_MAX = 4096;
/** How long a replaced secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;
/** Legacy plain-text secrets sealed per worker tick. */
export const SEAL_BATCH_MAX = 100;
/** How a sealed secret starts in webhook_endpoints.secret; a plain one starts with `whsec_`. */
export const SEALED_PREFIX = 'enc:v1:';

function secretAad(endpoint_id: string): string {
  return `webhook_secret:${endpoint_id}`;
}

/** sealSecret(key, 'we_1', 'whsec_…') -> 'enc:v1:<base64 envelope>' */
export function sealSecret(key: Buffer, endpoint_id: string, secret: string): string {
  return `${SEALED_PREFIX}${sealText(key, secret, secretAad(endpoint_id))}`;
}

/** The signing secret of a stored row: opens a sealed one, passes a legacy plain one through. */
export function openSecret(key: Buffer, endpoint_id: string, stored: string): string {
  return stored.startsWith(SEALED_PREFIX) ? openText(key, stored.slice(SEALED_PREFIX.length), secretAad(endpoint_id)) : stored;
}

/**
 * Turns an outbox event into the owner's id and the `data` of the webhook body, or null to skip.
 * `feed_only`: the event goes to the owner's feed (and /stream) but is no webhook event type
 * (in-app notifications).
 */
export type EventRenderer = (event: OutboxRow) => Promise<{ user_id: string; data: unknown; feed_only?: boolean } | null>;

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  created_at_ms: number;
}

/** Who did it, for the audit log. */
export interface AuditMeta {
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

export type RotateResult = { ok: true; secret: string; previous_valid_until_ms: number } | { ok: false; reason: 'not_found' | 'conflict' };

export type CreateEndpointResult = { ok: true; endpoint: WebhookEndpoint; secret: string } | { ok: false; reason: UrlRefusal | 'too_many' };

export interface WebhooksDeps {
  db: Db;
  clock: Clock;
  config: Config;
  /** Resolves a host name to its addresses (tests may pin it); defaults to DNS. */
  resolve?: (host: string) => Promise<string[]>;
  /** Seals endpoint secrets; defaults to config.encryption_key, or the key generated into the data dir. */
  encryption_key?: Buffer;
  /** Sends one request, connecting only to `addresses` when given (the checked ones); defaults to postWebhook. */
  post?: (url: string, headers: Record<string, string>, body: string, timeout_ms: number, addresses: readonly string[] | null) => Promise<{ status: number }>;
}

async function dnsResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

function endpointFromRow(r: store.EndpointRow): WebhookEndpoint {
  return { id: r.id, url: r.url, events: JSON.parse(r.events) as string[], created_at_ms: Number(r.created_at_ms) };
}

/** What the webhook parts share: the stores, the sealing key and the outbound edges. */
interface WebhooksCtx {
  db: Db;
  clock: Clock;
  config: Config;
  key: Buffer;
  resolve: (host: string) => Promise<string[]>;
  post: NonNullable<WebhooksDeps['post']>;
  /** This process's name on the messages it claims. */
  claimer: string;
}

function createAudit(clock: Clock) {
  async function audit(ex: DbExecutor, action: string, user_id: string, meta: AuditMeta | null, details: Record<string, unknown>): Promise<void> {
    const now = clock.now_ms();
    await store.insertAudit(ex, {
      id: newId('aud', now), at_ms: now, actor_type: 'user', actor_id: user_id, action, subject_type: 'user', subject_id: user_id,
      ip: meta?.ip ?? null, user_agent: meta?.user_agent ?? null, request_id: meta?.request_id ?? null, details: JSON.stringify(details),
    });
  }

  return audit;
}

function createTargetCheck(allowPrivate: boolean, resolve: WebhooksCtx['resolve']) {
  /**
   * The addresses a URL may be reached at, or why it may not: with private URLs refused, its name
   * is resolved once here and every address must be public; the delivery then connects to exactly
   * these (no second resolution to rebind). null addresses: private URLs allowed, any resolution.
   */
  async function checkedTarget(text: string): Promise<{ refusal: UrlRefusal } | { addresses: string[] | null }> {
    const shape = checkWebhookUrl(text, allowPrivate);
    if (!shape.ok) return { refusal: shape.reason };
    if (allowPrivate) return { addresses: null };
    const addresses = await resolve(shape.url.hostname.replace(/^\[|\]$/g, '')).catch(() => [] as string[]);
    if (!addresses.length || addresses.some(isPrivateAddress)) return { refusal: 'private_address' };
    return { addresses };
  }

  async function urlRefusal(text: string): Promise<UrlRefusal | null> {
    const target = await checkedTarget(text);
    return 'refusal' in target ? target.refusal : null;
  }

  return { checkedTarget, urlRefusal };
}

/** Sends one message, signed, and records the attempt and what follows from it. */
function createDeliver(ctx: WebhooksCtx, checkedTarget: ReturnType<typeof createTargetCheck>['checkedTarget']) {
  const { db, clock, config, key, post, claimer } = ctx;

  async function deliver(m: store.MessageRow): Promise<void> {
    const now = clock.now_ms();
    // Claimed before it is sent: another process sending the same message skips it (issue 15).
    if (!(await store.claimMessage(db.kysely, m.id, m.attempts, claimer, now, now + CLAIM_MS))) return;
    const endpoint = await store.endpointById(db.kysely, m.endpoint_id);
    if (!endpoint || endpoint.deleted_at_ms !== null) {
      await store.finishClaimed(db.kysely, m.id, m.attempts, claimer, { status: 'dead', last_error: 'endpoint deleted' });
      return;
    }
    const timestamp_s = Math.floor(now / 1000);
    const t0 = process.hrtime.bigint();
    let status: number | null = null;
    let error: string | null = null;
    try {
      // A secret that does not open (another key, a row copied between endpoints) is logged on
      // the attempt and retried like any failure, never sent unsigned.
      const secrets: string[] = [];
      try {
        secrets.push(openSecret(key, endpoint.id, endpoint.secret));
        const until = endpoint.previous_secret_until_ms === null ? null : Number(endpoint.previous_secret_until_ms);
        if (endpoint.previous_secret && until !== null && until > now) secrets.push(openSecret(key, endpoint.id, endpoint.previous_secret));
      } catch {
        throw new Error('endpoint secret cannot be decrypted with this encryption key');
      }
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Settle-Webhooks/1',
        'webhook-id': m.id,
        'webhook-timestamp': String(timestamp_s),
        'webhook-signature': secrets.map((x) => signWebhook(x, m.id, timestamp_s, m.body)).join(' '),
      };
      // Checked again at delivery: a name that now resolves inside the network is refused.
      const target = await checkedTarget(endpoint.url);
      if ('refusal' in target) throw new Error(`url refused: ${target.refusal}`);
      status = (await post(endpoint.url, headers, m.body, DELIVERY_TIMEOUT_MS, target.addresses)).status;
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = (e as Error).message.slice(0, 500);
    }
    const latency_ms = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
    const attempts = m.attempts + 1;
    const ok = error === null;
    const dead = !ok && attempts >= config.limits.webhook_attempts_max;
    await db.transaction(async (trx) => {
      // The claim lost (expired, another sender took the message): that sender records its own attempt.
      const mine = await store.finishClaimed(trx, m.id, m.attempts, claimer, {
        attempts,
        status: ok ? 'delivered' : dead ? 'dead' : 'pending',
        last_status_code: status,
        last_error: error,
        delivered_at_ms: ok ? now : null,
        next_attempt_at_ms: ok || dead ? m.next_attempt_at_ms : now + retryDelayMs(attempts),
      });
      if (mine) await store.insertAttempt(trx, { message_id: m.id, n: attempts, at_ms: now, status_code: status, latency_ms, error });
    });
  }

  return deliver;
}

/** The owner's side: endpoints and their secrets. */
function createEndpointOps(ctx: WebhooksCtx) {
  const { db, clock, key } = ctx;
  const audit = createAudit(clock);
  const { urlRefusal } = createTargetCheck(ctx.config.allow_private_webhook_urls, ctx.resolve);
  const ops = {
    async createEndpoint(user_id: string, url: string, events: string[], meta: AuditMeta | null = null): Promise<CreateEndpointResult> {
      const refusal = await urlRefusal(url);
      if (refusal) return { ok: false, reason: refusal };
      if ((await store.liveEndpointsOf(db.kysely, user_id, ENDPOINTS_PER_USER_MAX)).length >= ENDPOINTS_PER_USER_MAX) return { ok: false, reason: 'too_many' };
      const now = clock.now_ms();
      const secret = newWebhookSecret(randomBytes(32));
      const id = newId('we', now);
      const row = { id, user_id, url, events: JSON.stringify([...new Set(events)]), secret: sealSecret(key, id, secret), previous_secret: null, previous_secret_until_ms: null, created_at_ms: now, deleted_at_ms: null };
      await db.transaction(async (trx) => {
        await store.insertEndpoint(trx, row);
        await audit(trx, 'webhook_endpoint_created', user_id, meta, { endpoint_id: id, url, events: JSON.parse(row.events) as string[] });
      });
      return { ok: true, endpoint: endpointFromRow(row), secret };
    },

    async listEndpoints(user_id: string): Promise<WebhookEndpoint[]> {
      return (await store.liveEndpointsOf(db.kysely, user_id, ENDPOINTS_PER_USER_MAX)).map(endpointFromRow);
    },

    /** Owned endpoint or null (others' look like missing ones). */
    async ownEndpoint(user_id: string, id: string): Promise<store.EndpointRow | null> {
      const e = await store.endpointById(db.kysely, id);
      return e && e.user_id === user_id && e.deleted_at_ms === null ? e : null;
    },

    async deleteEndpoint(user_id: string, id: string, meta: AuditMeta | null = null): Promise<boolean> {
      const e = await ops.ownEndpoint(user_id, id);
      if (!e) return false;
      await db.transaction(async (trx) => {
        await store.deleteEndpoint(trx, id, clock.now_ms());
        await audit(trx, 'webhook_endpoint_deleted', user_id, meta, { endpoint_id: id, url: e.url });
      });
      return true;
    },

    /**
     * rotateSecret(user_id, endpoint_id) -> the new secret (shown once) and until when the old one
     * still signs next to it; not_found when the endpoint is not the caller's, conflict when
     * another rotation won the same moment.
     */
    async rotateSecret(user_id: string, id: string, meta: AuditMeta | null = null): Promise<RotateResult> {
      const e = await ops.ownEndpoint(user_id, id);
      if (!e) return { ok: false, reason: 'not_found' };
      const now = clock.now_ms();
      const secret = newWebhookSecret(randomBytes(32));
      // The old secret is re-sealed as it is (a legacy plain one gets sealed here too).
      const previous = sealSecret(key, id, openSecret(key, id, e.secret));
      const until = now + ROTATION_OVERLAP_MS;
      return db.transaction(async (trx): Promise<RotateResult> => {
        if (!(await store.rotateSecret(trx, id, e.secret, sealSecret(key, id, secret), previous, until))) return { ok: false, reason: 'conflict' };
        await audit(trx, 'webhook_secret_rotated', user_id, meta, { endpoint_id: id, url: e.url, previous_valid_until_ms: until });
        return { ok: true, secret, previous_valid_until_ms: until };
      });
    },
  };
  return ops;
}

type EndpointOps = ReturnType<typeof createEndpointOps>;

/** The owner's view of what was sent: messages with their attempts, redelivery, the event feed. */
function createMessageOps(ctx: WebhooksCtx, ownEndpoint: EndpointOps['ownEndpoint']) {
  const { db, clock } = ctx;
  return {
    async messages(user_id: string, endpoint_id: string, limit: number) {
      if (!(await ownEndpoint(user_id, endpoint_id))) return null;
      const list = await store.messagesOf(db.kysely, endpoint_id, limit);
      return Promise.all(list.map(async (m) => ({ message: m, attempts: await store.attemptsOf(db.kysely, m.id) })));
    },

    /** Queues a message again (also a dead one), for now. */
    async redeliver(user_id: string, message_id: string): Promise<store.MessageRow | null> {
      const m = await store.messageById(db.kysely, message_id);
      if (!m || m.user_id !== user_id) return null;
      await store.updateMessage(db.kysely, m.id, { status: 'pending', next_attempt_at_ms: clock.now_ms() });
      return (await store.messageById(db.kysely, m.id)) ?? null;
    },

    async feed(user_id: string, after: number, limit: number) {
      return store.userEventsAfter(db.kysely, user_id, after, limit);
    },
  };
}

/** The worker's side: sealing legacy secrets, outbox -> messages, and sending due messages. */
function createLoops(ctx: WebhooksCtx, renderers: Map<string, EventRenderer>) {
  const { db, clock, key } = ctx;
  const { checkedTarget } = createTargetCheck(ctx.config.allow_private_webhook_urls, ctx.resolve);
  const deliver = createDeliver(ctx, checkedTarget);
  let legacySealed = false;
  return {
    /** Seals up to `limit` endpoint secrets still stored in plain text. Returns how many. */
    async sealLegacySecrets(limit = SEAL_BATCH_MAX): Promise<number> {
      // New rows are always sealed: once a pass finds none left, later ticks skip the scan.
      if (legacySealed) return 0;
      let sealed = 0;
      const rows = await store.plainSecretEndpoints(db.kysely, limit);
      for (const r of rows) {
        if (await store.replaceSecret(db.kysely, r.id, r.secret, sealSecret(key, r.id, r.secret))) sealed++;
      }
      if (rows.length === 0) legacySealed = true;
      return sealed;
    },

    /** Outbox -> feed + messages. Returns events read. */
    async dispatchTick(): Promise<number> {
      const now = clock.now_ms();
      const render = async (event: OutboxRow) => (await renderers.get(event.aggregate_type)?.(event)) ?? null;
      return consumeOutbox(db, DISPATCH_CONSUMER, DISPATCH_BATCH_MAX, now, async (trx, event, rendered) => {
        if (!rendered) return;
        const body = JSON.stringify({ type: event.type, timestamp: new Date(Number(event.created_at_ms)).toISOString(), data: rendered.data });
        await store.insertUserEvent(trx, { seq: event.seq, user_id: rendered.user_id, event_id: event.id, type: event.type, body, created_at_ms: Number(event.created_at_ms) });
        if (rendered.feed_only) return;
        for (const e of await store.liveEndpointsOf(trx, rendered.user_id, ENDPOINTS_PER_USER_MAX)) {
          if (!matchesEvent(JSON.parse(e.events) as string[], event.type)) continue;
          await store.insertMessage(trx, { id: newId('msg', now), endpoint_id: e.id, user_id: rendered.user_id, event_id: event.id, event_seq: event.seq, type: event.type, ordering_key: `${event.aggregate_type}:${event.aggregate_id}`, body, status: 'pending', attempts: 0, next_attempt_at_ms: now, last_status_code: null, last_error: null, created_at_ms: now, delivered_at_ms: null });
        }
      }, render);
    },

    /** Sends due messages: heads of line only; different lines in parallel. Returns attempts made. */
    async deliverTick(): Promise<number> {
      const due = await store.dueMessages(db.kysely, clock.now_ms(), DELIVERY_BATCH_MAX);
      const lines = new Map<string, store.MessageRow>();
      for (const m of due) {
        const line = `${m.endpoint_id} ${m.ordering_key}`;
        if (lines.has(line)) continue;
        if ((await store.headOfLine(db.kysely, m.endpoint_id, m.ordering_key)) !== m.event_seq) continue;
        lines.set(line, m);
      }
      await Promise.all([...lines.values()].map((m) => deliver(m)));
      return lines.size;
    },
  };
}

export function createWebhooks(deps: WebhooksDeps) {
  const { config } = deps;
  const ctx: WebhooksCtx = {
    db: deps.db,
    clock: deps.clock,
    config,
    key: deps.encryption_key ?? loadEncryptionKey(config.encryption_key, config.data_dir),
    resolve: deps.resolve ?? dnsResolve,
    post: deps.post ?? ((url, headers, body, timeout_ms, addresses) => postWebhook(url, headers, body, timeout_ms, addresses, RESPONSE_BYTES_MAX)),
    claimer: newId('whc'),
  };
  const renderers = new Map<string, EventRenderer>();
  const endpoints = createEndpointOps(ctx);
  const service = {
    /** The module owning an aggregate type registers how its events look to the outside. */
    registerRenderer(aggregate_type: string, render: EventRenderer): void {
      renderers.set(aggregate_type, render);
    },

    ...endpoints,
    ...createMessageOps(ctx, endpoints.ownEndpoint),
    ...createLoops(ctx, renderers),

    /** A Worker for platform.workers. */
    worker(poll_ms = 1000) {
      return intervalWorker('notify.webhooks', poll_ms, () => service.sealLegacySecrets().then(() => service.dispatchTick()).then(() => service.deliverTick()));
    },
  };
  return service;
}

export type Webhooks = ReturnType<typeof createWebhooks>;
