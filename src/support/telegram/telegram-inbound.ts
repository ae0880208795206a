// POST /channels/telegram/webhook: the Bot API delivers each `Update` here with the secret token
// set by setWebhook in X-Telegram-Bot-Api-Secret-Token (checked in constant time; 401 otherwise;
// 404 while the channel is off). A chat's messages go into one open case per chat (channel
// `social`, contact.telegram_chat_id): the chat's row names its case, and moves to a new case
// once the old one is closed or merged. Filing is idempotent by chat and message id, and the
// route answers 200 only after it is stored, so the Bot API's own retries (it redelivers until it
// gets a 2xx) lose nothing and double nothing. A chat is no proven identity: it is never linked
// to a user and causes no account action.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Db } from '../../db/database.ts';
import { enqueueJob } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { ProblemError } from '../../shared/errors.ts';
import type { Locale } from '../../shared/i18n.ts';
import type { Desk, DeskCase } from '../channel-desk.ts';
import { formatReplyBy } from '../email/email-messages.ts';
import { threadKeys } from '../email/email-rules.ts';
import { ackText, readUpdate, secretMatches, type ChatMessage } from './telegram-rules.ts';
import { TELEGRAM_SEND_JOB, type TelegramSend } from './telegram-outbound.ts';

const UPDATE_BYTES_MAX = 256 * 1024;
const SUBJECT_CHARS_MAX = 80;

export interface TelegramInboundDeps {
  db: Db;
  clock: Clock;
  desk: Desk;
  /** null: the channel is off and the route answers 404. */
  webhook_secret: string | null;
}

async function chatRow(db: Db, chat_id: string) {
  return db.kysely.selectFrom('support_telegram_chats').selectAll().where('chat_id', '=', chat_id).executeTakeFirst();
}

async function saveChat(db: Db, chat_id: string, case_id: string, locale: Locale, now: number): Promise<void> {
  await db.transaction(async (trx) => {
    const updated = await trx.updateTable('support_telegram_chats').set({ case_id, locale, updated_at_ms: now }).where('chat_id', '=', chat_id).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) await trx.insertInto('support_telegram_chats').values({ chat_id, case_id, locale, updated_at_ms: now }).execute();
  });
}

/**
 * Files one chat message -> the case and whether this message opened it (a repeat of the
 * message, after a crash or a redelivery, finds what the first run wrote).
 */
export async function fileChatMessage(deps: TelegramInboundDeps, m: ChatMessage): Promise<{ case: DeskCase; opened: boolean }> {
  const { db, desk, clock } = deps;
  const dedupe_key = `telegram:${m.chat_id}:${m.message_id}`;
  const row = await chatRow(db, m.chat_id);
  let filed: { case: DeskCase; opened: boolean } | null = null;
  if (row) {
    const r = await desk.addCustomerMessage(row.case_id, { channel: 'social', body: m.text, dedupe_key, author_name: m.name });
    if (r) filed = { case: r.case, opened: false };
  }
  if (!filed) {
    const r = await desk.openOrJoinCase({
      channel: 'social', contact: { telegram_chat_id: m.chat_id, ...(m.name ? { name: m.name } : {}) },
      subject: m.text.split('\n')[0]!.slice(0, SUBJECT_CHARS_MAX), body: m.text, tx_hash: threadKeys({ subject: '', text: m.text, in_reply_to: null, references: [] }).tx_hashes[0] ?? null, dedupe_key,
    });
    const first = r.created ? null : (await desk.getCase(r.case.id, 'staff'))?.messages[0]?.id;
    filed = { case: r.case, opened: r.created || (r.message_id !== null && first === r.message_id) };
  }
  if (row?.case_id !== filed.case.id || row.locale !== m.locale) await saveChat(db, m.chat_id, filed.case.id, m.locale, clock.now_ms());
  if (filed.opened) {
    const time = filed.case.expected_reply_by ? formatReplyBy(filed.case.expected_reply_by, m.locale) : null;
    const send: TelegramSend = { chat_id: m.chat_id, text: ackText(filed.case.number, time, m.locale), attempt: 0 };
    await enqueueJob(db.kysely, TELEGRAM_SEND_JOB, send, { unique_key: `${TELEGRAM_SEND_JOB}:ack:${filed.case.id}`, max_attempts: 20 }, clock);
  }
  return filed;
}

export function telegramWebhookRoutes(deps: TelegramInboundDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/channels/telegram/webhook',
      {
        bodyLimit: UPDATE_BYTES_MAX,
        config: { auth: 'public' },
        schema: {
          tags: ['support'],
          summary: 'Telegram Bot API webhook (Update JSON; X-Telegram-Bot-Api-Secret-Token required)',
          headers: Type.Object({ 'x-telegram-bot-api-secret-token': Type.Optional(Type.String({ maxLength: 256 })) }),
          body: Type.Object({ update_id: Type.Integer(), message: Type.Optional(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: true }),
          response: { 200: Type.Object({ ok: Type.Boolean() }) },
        },
        // The secret is checked before the body is validated: a caller without it learns nothing.
        onRequest: async (req) => {
          if (deps.webhook_secret === null) throw new ProblemError(404, 'not_found', 'The Telegram channel is off.');
          if (!secretMatches(req.headers['x-telegram-bot-api-secret-token'], deps.webhook_secret)) throw new ProblemError(401, 'unauthenticated', 'X-Telegram-Bot-Api-Secret-Token is missing or wrong.');
        },
      },
      async (req) => {
        const reading = readUpdate(req.body);
        if (reading.kind === 'message') await fileChatMessage(deps, reading.message);
        return { ok: true };
      },
    );
  };
}
