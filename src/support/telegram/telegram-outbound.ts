// Replies to Telegram chats. Every public agent or system message of a case with a
// contact.telegram_chat_id becomes one durable support.telegram.send job, enqueued in the
// transaction that moves this channel's outbox cursor past the `case.message` event. The job
// calls sendMessage at SETTLE_TELEGRAM_API_URL/bot<token>/sendMessage. A 429 is honoured to the
// second: the job completes and leaves its successor due at retry_after (its own unique key); 5xx
// and network failures retry with the job runner's backoff; other 4xx (the user blocked the
// bot, the chat is gone) give up. The Bot API has no idempotency key, so a crash between its
// 200 and the job's completion can send one message twice: at least once, never lost.
import type { Db } from '../../db/database.ts';
import { consumeOutbox, enqueueJob, intervalWorker, type IntervalWorker, type JobHandler } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { leavesByChannel, type CaseMessageEvent } from '../channel-desk.ts';
import { replyText, sendOutcome } from './telegram-rules.ts';

export const TELEGRAM_SEND_JOB = 'support.telegram.send';
export const TELEGRAM_OUT_CONSUMER = 'support.telegram.out';
const EVENTS_PER_TICK_MAX = 100;
const REQUEST_TIMEOUT_MS = 10_000;
/** sendMessage attempts in all, the 429 successors included. */
export const TELEGRAM_ATTEMPTS_MAX = 20;

/** The payload of a send job: everything is decided before it is queued. */
export interface TelegramSend {
  chat_id: string;
  text: string;
  /** How many 429 successors came before this job (bounded by TELEGRAM_ATTEMPTS_MAX). */
  attempt: number;
  /** Who the job is for, so that a successor's unique key is derived from it. */
  key?: string;
}

export interface TelegramOutboundDeps {
  db: Db;
  clock: Clock;
  api_url: string;
  bot_token: string | null;
  log?: (msg: string, data: Record<string, unknown>) => void;
}

export class TelegramRetry extends Error {
  override name = 'TelegramRetry';
}

/** The send job: one sendMessage call per attempt. */
export function telegramSendHandler(deps: TelegramOutboundDeps): JobHandler {
  return async (payload, ctx) => {
    const job = payload as TelegramSend;
    if (!deps.bot_token) throw new TelegramRetry('SETTLE_TELEGRAM_BOT_TOKEN is not set: replies wait until it is');
    const res = await fetch(`${deps.api_url}/bot${deps.bot_token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: job.chat_id, text: job.text }),
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    const body: unknown = await res.json().catch(() => null);
    const outcome = sendOutcome(res.status, body);
    switch (outcome.kind) {
      case 'sent':
        return;
      case 'retry':
        throw new TelegramRetry(`sendMessage answered ${res.status}`);
      case 'give_up':
        deps.log?.('telegram reply given up', { chat_id: job.chat_id, reason: outcome.reason });
        return;
      case 'retry_after': {
        if (job.attempt + 1 >= TELEGRAM_ATTEMPTS_MAX) throw new TelegramRetry('sendMessage rate-limited too often');
        const next: TelegramSend = { ...job, attempt: job.attempt + 1 };
        await ctx.commit(async (trx) => {
          await enqueueJob(trx, TELEGRAM_SEND_JOB, next, { run_at_ms: deps.clock.now_ms() + outcome.after_ms, unique_key: `${TELEGRAM_SEND_JOB}:${job.key ?? ctx.job.id}:${next.attempt}` }, deps.clock);
        });
        return;
      }
    }
  };
}

/** The send job for one case message, or null when it does not go to a chat. */
export function sendForMessage(ev: CaseMessageEvent, locale: string): TelegramSend | null {
  const chat_id = ev.contact.telegram_chat_id;
  if (!chat_id || !leavesByChannel(ev.message)) return null;
  return { chat_id, text: replyText(ev.message.body, ev.number, locale === 'zh-CN' ? 'zh-CN' : 'en'), attempt: 0, key: ev.message.id };
}

/** One pass over new `case.message` events: a send job per chat reply, in the event's transaction. */
export async function queueChatReplies(deps: TelegramOutboundDeps): Promise<number> {
  return consumeOutbox<{ send: TelegramSend | null }>(
    deps.db, TELEGRAM_OUT_CONSUMER, EVENTS_PER_TICK_MAX, deps.clock.now_ms(),
    async (trx, _event, prepared) => {
      const send = prepared?.send;
      if (send) await enqueueJob(trx, TELEGRAM_SEND_JOB, send, { unique_key: `${TELEGRAM_SEND_JOB}:${send.key}`, max_attempts: 20 }, deps.clock);
    },
    async (event) => {
      const ev = JSON.parse(event.payload) as CaseMessageEvent;
      if (!ev.contact.telegram_chat_id) return { send: null };
      const chat = await deps.db.kysely.selectFrom('support_telegram_chats').select('locale').where('chat_id', '=', ev.contact.telegram_chat_id).executeTakeFirst();
      return { send: sendForMessage(ev, chat?.locale ?? 'en') };
    },
    { types: ['case.message'] },
  );
}

export function chatReplyWorker(deps: TelegramOutboundDeps, every_ms: number, onError: (e: unknown) => void): IntervalWorker {
  return intervalWorker('support.telegram.out', every_ms, () => queueChatReplies(deps), onError);
}
