// The Telegram channel as pure rules: the webhook's secret check (constant time), what a Bot API
// `Update` says (a person's message in a chat, or something the desk ignores), the texts the bot
// sends, and what to do with the Bot API's answer to sendMessage (done, retry after the time it
// names, retry with backoff, or give up).
import { createHash, timingSafeEqual } from 'node:crypto';
import { assertNever } from '../../shared/assert.ts';
import { defineMessages, translate, type Locale } from '../../shared/i18n.ts';

/**
 * Whether the X-Telegram-Bot-Api-Secret-Token header is the configured secret, in time that does
 * not depend on where they differ (both sides hashed first, so lengths do not leak either).
 */
export function secretMatches(header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const a = createHash('sha256').update(header).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

export const TELEGRAM_TEXT_CHARS_MAX = 4096;

/** A person's message in a chat, as the desk files it. */
export interface ChatMessage {
  chat_id: string;
  message_id: number;
  text: string;
  name: string | null;
  locale: Locale;
}

export type UpdateReading = { kind: 'message'; message: ChatMessage } | { kind: 'ignored'; reason: 'not_a_message' | 'from_a_bot' | 'no_text' };

interface TgUser { id?: number; is_bot?: boolean; first_name?: string; last_name?: string; username?: string; language_code?: string }
interface TgMessage { message_id?: number; from?: TgUser; chat?: { id?: number | string; type?: string }; text?: string; caption?: string; photo?: unknown; document?: { file_name?: string } }

/** Telegram's language_code ("zh-hans", "zh", "en-US" …) -> the desk's locale. */
export function localeOfLanguageCode(code: string | undefined): Locale {
  return (code ?? '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

/**
 * What an Update means for the desk. Only new messages count (edits, channel posts, callbacks
 * and the like are ignored); a photo or document without files kept is named in the text.
 * readUpdate({ update_id: 1, message: { message_id: 5, chat: { id: 42 }, text: 'hi', … } }) -> { kind: 'message', … }
 */
export function readUpdate(update: { message?: unknown }): UpdateReading {
  const m = update.message as TgMessage | undefined;
  if (!m || typeof m !== 'object' || m.chat?.id === undefined || typeof m.message_id !== 'number') return { kind: 'ignored', reason: 'not_a_message' };
  if (m.from?.is_bot) return { kind: 'ignored', reason: 'from_a_bot' };
  const parts = [m.text ?? m.caption ?? ''];
  if (m.photo) parts.unshift('[photo]');
  if (m.document) parts.unshift(`[document: ${String(m.document.file_name ?? 'file').slice(0, 100)}]`);
  const text = parts.filter(Boolean).join(' ').trim().slice(0, TELEGRAM_TEXT_CHARS_MAX);
  if (!text) return { kind: 'ignored', reason: 'no_text' };
  const name = [m.from?.first_name, m.from?.last_name].filter(Boolean).join(' ') || (m.from?.username ? `@${m.from.username}` : null);
  return { kind: 'message', message: { chat_id: String(m.chat.id), message_id: m.message_id, text, name: name ? name.slice(0, 100) : null, locale: localeOfLanguageCode(m.from?.language_code) } };
}

export const TELEGRAM_TEXTS = defineMessages({
  ack: {
    en: 'Thank you, we have opened case #{number}. {expect} Write here to add anything.',
    'zh-CN': '感谢来信，我们已为您建立工单 #{number}。{expect}如需补充，直接在这里发送即可。',
  },
  expect_by: { en: 'We will answer by {time}.', 'zh-CN': '我们会在 {time} 之前答复您。' },
  expect_unknown: { en: 'We will answer as soon as we can.', 'zh-CN': '我们会尽快答复您。' },
  signature: { en: '— Settle support, case #{number}', 'zh-CN': '—— Settle 客服，工单 #{number}' },
});

/** The acknowledgement of a case a chat opened; `time` is already written for the reader. */
export function ackText(number: number, time: string | null, locale: Locale): string {
  const expect = time ? translate(TELEGRAM_TEXTS, 'expect_by', locale, { time }) : translate(TELEGRAM_TEXTS, 'expect_unknown', locale);
  return translate(TELEGRAM_TEXTS, 'ack', locale, { number, expect });
}

/** An agent's or the system's message as the bot sends it, within Telegram's 4096 characters. */
export function replyText(body: string, number: number, locale: Locale): string {
  const signature = translate(TELEGRAM_TEXTS, 'signature', locale, { number });
  return `${body.slice(0, TELEGRAM_TEXT_CHARS_MAX - signature.length - 2)}\n\n${signature}`;
}

export const RETRY_AFTER_S_MAX = 3600;

export type SendOutcome = { kind: 'sent' } | { kind: 'retry_after'; after_ms: number } | { kind: 'retry' } | { kind: 'give_up'; reason: string };

/**
 * What an answer of sendMessage means. 429 names when to try again (parameters.retry_after,
 * honoured, bounded); 5xx and unreadable answers retry with backoff; other 4xx (chat not
 * found, bot blocked by the user) will not get better by trying again.
 * sendOutcome(429, { ok: false, parameters: { retry_after: 3 } }) -> { kind: 'retry_after', after_ms: 3000 }
 */
export function sendOutcome(status: number, body: unknown): SendOutcome {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { ok?: boolean; description?: string; parameters?: { retry_after?: number } };
  const klass = status >= 200 && status < 300 ? (b.ok === true ? 'ok' : 'bad_body') : status === 429 ? 'limited' : status >= 500 ? 'server' : 'client';
  switch (klass) {
    case 'ok':
      return { kind: 'sent' };
    case 'limited': {
      const s = Number(b.parameters?.retry_after);
      return Number.isFinite(s) && s > 0 ? { kind: 'retry_after', after_ms: Math.min(s, RETRY_AFTER_S_MAX) * 1000 } : { kind: 'retry' };
    }
    case 'server':
    case 'bad_body':
      return { kind: 'retry' };
    case 'client':
      return { kind: 'give_up', reason: `${status} ${String(b.description ?? '').slice(0, 200)}` };
    default:
      return assertNever(klass, 'answer class');
  }
}
