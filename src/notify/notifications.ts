// In-app notifications and their mail (issue 14, API.md part 2 "Notifications").
//
// notify() is the one way a notice reaches a user: called inside the transaction of the change it
// tells about (accounts' security notices) or of the outbox event it was produced from (payments'
// and maintenance notices, through the consumer below). It writes the row (kind, template,
// params: rendered in the reader's language when read), a `notification.created` outbox event
// (the live stream's source) and, when the user wants mail for the kind, a durable mail.send job
// in the recipient's language that is sent after commit. Security kinds are always on both.
//
// Producers: modules register, per outbox event type, a function from an event to the notices it
// causes (payments: deposit credited / held / released, withdrawal completed / failed, transfer
// received). The consumer reads the outbox through the one reader (jobs/outbox.ts) with its own
// cursor, a transaction per event; `source_key` (event id + kind + user) keeps a notice single
// even if an event were handled twice.
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import { consumeOutbox, emitEvent, intervalWorker, type OutboxRow } from '../jobs/jobs.ts';
import { isoTime, type Clock } from '../shared/clock.ts';
import type { Locale } from '../shared/i18n.ts';
import { newId } from '../shared/ids.ts';
import { enqueueMail } from './mail.ts';
import { checkPreferences, defaultChannels, effectivePreferences, isLocked, kindOf, render, renderRow, type Channels, type NoticeParams, type NotificationKind, type PreferencesCheck, type Template } from './notification-rules.ts';
import * as store from './notification-store.ts';

export const NOTIFICATIONS_CONSUMER = 'notify.notifications';
export const NOTIFICATION_CREATED = 'notification.created';
export const CONSUME_BATCH_MAX = 200;
export const PAGE_MAX = 100;
export const UNREAD_COUNT_MAX = 100;

export interface Recipient {
  id: string;
  email: string;
  locale: Locale;
}

export interface NoticeInput {
  template: Template;
  params: NoticeParams;
  /** A web path ('/payments/pay_…') or an absolute URL; mail makes a path absolute. */
  link: string | null;
  /** What produced it, once: '<event id>:<kind>:<user>'. */
  source_key?: string | null;
}

export interface NotifyEnv {
  clock: Clock;
  /** config.public_url: links in mail are absolute. */
  public_url: string;
}

export interface NotificationDto {
  id: string;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  created_at: string;
  read_at: string | null;
}

function absolute(public_url: string, link: string): string {
  return link.startsWith('/') ? `${public_url.replace(/\/$/, '')}${link}` : link;
}

async function channelsOf(ex: DbExecutor, user_id: string, kind: NotificationKind): Promise<Channels> {
  if (isLocked(kind)) return { in_app: true, email: true };
  return (await store.savedPreferences(ex, user_id)).get(kind) ?? defaultChannels(kind);
}

/**
 * Tells a user, in the caller's transaction: the in-app row and its live event, and the mail
 * (after commit) when they want it. -> the notification's id, or null when nothing was stored
 * (in-app turned off, or this source already notified).
 *   await notify(trx, { clock, public_url }, { id, email, locale }, { template: 'new_device', params, link })
 */
export async function notify(ex: DbExecutor, env: NotifyEnv, user: Recipient, input: NoticeInput): Promise<string | null> {
  const kind = kindOf(input.template);
  const channels = await channelsOf(ex, user.id, kind);
  const now = env.clock.now_ms();
  let id: string | null = null;
  if (channels.in_app) {
    const en = render(input.template, 'en', input.params);
    const row = { id: newId('ntf', now), user_id: user.id, kind, title: en.title, body: en.body, link: input.link, template: input.template, params: JSON.stringify(input.params), source_key: input.source_key ?? null, created_at_ms: now, read_at_ms: null };
    if (!(await store.insertNotification(ex, row))) return null;
    id = row.id;
    await emitEvent(ex, { type: NOTIFICATION_CREATED, aggregate_type: 'notification', aggregate_id: id, payload: { id, user_id: user.id, kind } }, env.clock);
  }
  if (channels.email) {
    const words = render(input.template, user.locale, input.params);
    const link = input.link ? absolute(env.public_url, input.link) : null;
    const text = link && !words.body.includes(link) ? `${words.body}\n\n${link}` : words.body;
    await enqueueMail(ex, { to: user.email, subject: words.title, text }, env.clock);
  }
  return id;
}

/** notificationDto(row, 'zh-CN'): the API shape, in that language. */
export function notificationDto(row: store.NotificationRow, locale: Locale): NotificationDto {
  const words = renderRow(row, locale);
  return { id: row.id, kind: row.kind, title: words.title, body: words.body, link: row.link, created_at: isoTime(row.created_at_ms), read_at: row.read_at_ms === null ? null : isoTime(row.read_at_ms) };
}

/** A user's latest notifications in a language (GET /me/notifications, the older route). */
export async function latestNotifications(ex: DbExecutor, user_id: string, locale: Locale, limit: number): Promise<NotificationDto[]> {
  const rows = await store.notificationsPage(ex, user_id, { unread: false, before_id: null, limit: Math.min(Math.max(1, limit), PAGE_MAX) });
  return rows.map((r) => notificationDto(r, locale));
}

/** What an outbox event means for users: notices to send, each to one user. */
export type NoticeProducer = (event: OutboxRow) => Promise<Array<{ user_id: string } & NoticeInput>>;

export interface NotificationsDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'public_url'>;
  /** The user's address and language (accounts owns users), read in the caller's transaction. */
  recipient: (ex: DbExecutor, user_id: string) => Promise<Recipient | null>;
}

/** What the owner does with their notifications: read them, mark them, choose channels. */
function readerOps(db: Db, clock: Clock) {
  return {
    /** A page, newest first: list(user_id, 'en', { unread: true, limit: 20, cursor: null }). */
    async list(user_id: string, locale: Locale, q: { unread: boolean; limit: number; cursor: string | null }): Promise<{ data: NotificationDto[]; next_cursor: string | null }> {
      const limit = Math.min(Math.max(1, q.limit), PAGE_MAX);
      const rows = await store.notificationsPage(db.kysely, user_id, { unread: q.unread, before_id: q.cursor, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { data: page.map((r) => notificationDto(r, locale)), next_cursor: rows.length > limit ? page.at(-1)!.id : null };
    },

    /** Marks one read; null when it is not the user's (others' look missing). */
    async markRead(user_id: string, id: string, locale: Locale): Promise<NotificationDto | null> {
      if (!(await store.markRead(db.kysely, user_id, id, clock.now_ms()))) return null;
      const row = await store.notificationById(db.kysely, id);
      return row ? notificationDto(row, locale) : null;
    },

    async markAllRead(user_id: string): Promise<number> {
      return store.markAllRead(db.kysely, user_id, clock.now_ms());
    },

    async unreadCount(user_id: string): Promise<number> {
      return store.unreadCount(db.kysely, user_id, UNREAD_COUNT_MAX);
    },

    /** One notification as its owner sees it now (the live stream), or null. */
    async view(user_id: string, id: string, locale: Locale): Promise<NotificationDto | null> {
      const row = await store.notificationById(db.kysely, id);
      return row && row.user_id === user_id ? notificationDto(row, locale) : null;
    },

    async preferences(user_id: string): Promise<{ kinds: Record<NotificationKind, Channels & { locked: boolean }> }> {
      const eff = effectivePreferences(await store.savedPreferences(db.kysely, user_id));
      const kinds = {} as Record<NotificationKind, Channels & { locked: boolean }>;
      for (const [k, ch] of Object.entries(eff) as Array<[NotificationKind, Channels]>) kinds[k] = { ...ch, locked: isLocked(k) };
      return { kinds };
    },

    /** Saves choices, all or nothing: a locked kind turned off or an unknown kind changes nothing. */
    async setPreferences(user_id: string, kinds: Record<string, Channels>): Promise<PreferencesCheck> {
      const check = checkPreferences(kinds);
      if (!check.ok) return check;
      const now = clock.now_ms();
      await db.transaction(async (trx) => {
        for (const c of check.changes) await store.savePreference(trx, user_id, c.kind, c.in_app, c.email, now);
      });
      return check;
    },
  };
}

export function createNotifications(deps: NotificationsDeps) {
  const { db, clock } = deps;
  const env: NotifyEnv = { clock, public_url: deps.config.public_url };
  const producers = new Map<string, NoticeProducer>();

  const service = {
    env,

    /** The module owning an event type says what it means to users (registered in platform.ts). */
    registerProducer(types: readonly string[], produce: NoticeProducer): void {
      for (const t of types) producers.set(t, produce);
    },

    ...readerOps(db, clock),

    /** How a `notification` outbox event reaches the user's event feed (and so /stream), not webhooks. */
    feedRenderer() {
      return async (event: OutboxRow) => {
        const p = JSON.parse(event.payload) as { id: string; user_id: string; kind: string };
        return { user_id: p.user_id, data: { id: p.id, kind: p.kind }, feed_only: true };
      };
    },

    /** One pass of the producers' consumer over the outbox. Returns events read. */
    async consumeTick(): Promise<number> {
      const types = [...producers.keys()];
      if (!types.length) return 0;
      return consumeOutbox<Array<{ user_id: string } & NoticeInput>>(
        db, NOTIFICATIONS_CONSUMER, CONSUME_BATCH_MAX, clock.now_ms(),
        async (trx, event, notices) => {
          for (const n of notices ?? []) {
            const user = await deps.recipient(trx, n.user_id);
            if (!user) continue;
            await notify(trx, env, user, { ...n, source_key: n.source_key ?? `${event.id}:${kindOf(n.template)}:${n.user_id}` });
          }
        },
        // Producers read through the pool, before the event's transaction (SQLite has one connection).
        async (event) => (await producers.get(event.type)?.(event)) ?? [],
        { types },
      );
    },

    /** A Worker for platform.workers. */
    worker(poll_ms = 1000) {
      return intervalWorker('notify.notifications', poll_ms, () => service.consumeTick());
    },
  };
  return service;
}

export type Notifications = ReturnType<typeof createNotifications>;
