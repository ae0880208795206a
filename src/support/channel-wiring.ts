// The support desk's channels, wired over the desk (support.ts): email (the inbound SMTP server
// when SETTLE_INBOUND_SMTP_PORT is set, the processing job, replies through SETTLE_SMTP_URL) and
// Telegram (the webhook route, replies through the Bot API). Each channel consumes `case.message`
// under its own outbox consumer and sends through its own durable jobs. platform.ts calls this
// once, after the desk is built.
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import { getPayment } from '../payments/payments.ts';
import type { Clock } from '../shared/clock.ts';
import type { Locale } from '../shared/i18n.ts';
import type { RouteModule } from '../http/typed-app.ts';
import type { Desk } from './channel-desk.ts';
import { EMAIL_PROCESS_JOB, startInboundSmtp, type InboundServer } from './email/email-inbound.ts';
import { createEmailProcessor } from './email/email-process.ts';
import { caseMailWorker, createSmtpSender, EMAIL_SEND_JOB, emailSendHandler, queueCaseMail } from './email/email-outbound.ts';
import { telegramWebhookRoutes } from './telegram/telegram-inbound.ts';
import { chatReplyWorker, queueChatReplies, TELEGRAM_SEND_JOB, telegramSendHandler } from './telegram/telegram-outbound.ts';

/** How often each channel looks for new case messages to send. */
export const CHANNEL_POLL_MS = 1000;

export interface ChannelWiringDeps {
  config: Config;
  db: Db;
  clock: Clock;
  jobs: JobRunner;
  desk: Desk;
  /** The platform's encryption key (raw mail is sealed with it until processed). */
  key: Buffer;
  /** Where mail leaves: SETTLE_SMTP_URL, or the development mailbox. */
  smtp_url: string;
  userIdByEmail(email: string): Promise<string | null>;
  userOf(user_id: string): Promise<{ email: string; locale: Locale } | null>;
  log?: (level: 'info' | 'warn', msg: string, data?: Record<string, unknown>) => void;
}

export interface SupportChannels {
  routes: RouteModule[];
  workers: Array<{ name: string; start(): void; stop(): Promise<void> }>;
  /** The inbound SMTP server, when SETTLE_INBOUND_SMTP_PORT is set (its port: 0 picks a free one). */
  inbound: InboundServer | null;
  /** One pass of both channels' outbox consumers (what the workers do each tick; tests call it). */
  pump(): Promise<void>;
  close(): Promise<void>;
}

/** const channels = await wireSupportChannels({ config, db, clock, jobs, desk: support, key, smtp_url, … }) */
export async function wireSupportChannels(deps: ChannelWiringDeps): Promise<SupportChannels> {
  const { config, db, clock, jobs, desk } = deps;
  const { support_email, inbound_smtp_port, inbound_smtp_host, telegram } = config.support_channels;
  const onError = (what: string) => (e: unknown) => deps.log?.('warn', `${what} failed`, { err: String(e) });

  const processor = createEmailProcessor({
    db, clock, key: deps.key, desk, support_email, public_url: config.public_url,
    userIdByEmail: deps.userIdByEmail, userOf: deps.userOf,
    paymentOwner: async (payment_id) => (await getPayment(db.kysely, payment_id))?.payment.user_id ?? null,
  });
  jobs.register(EMAIL_PROCESS_JOB, processor.handler);
  const sender = createSmtpSender(deps.smtp_url, support_email);
  jobs.register(EMAIL_SEND_JOB, emailSendHandler(desk, sender));
  jobs.register(TELEGRAM_SEND_JOB, telegramSendHandler({ db, clock, api_url: telegram.api_url, bot_token: telegram.bot_token, log: (msg, data) => deps.log?.('warn', msg, data) }));

  const mailOut = { db, clock, desk, support_email, public_url: config.public_url, userOf: deps.userOf };
  const chatOut = { db, clock, api_url: telegram.api_url, bot_token: telegram.bot_token };
  const workers = [
    caseMailWorker(mailOut, CHANNEL_POLL_MS, onError('support mail queueing')),
    chatReplyWorker(chatOut, CHANNEL_POLL_MS, onError('telegram reply queueing')),
  ];
  const routes: RouteModule[] = [{ name: 'telegram', plugin: telegramWebhookRoutes({ db, clock, desk, webhook_secret: telegram.webhook_secret }) }];
  const inbound = inbound_smtp_port === null
    ? null
    : await startInboundSmtp({ db, clock, key: deps.key, support_email, mail_bytes_max: config.limits.inbound_mail_bytes_max }, inbound_smtp_port, inbound_smtp_host);
  if (inbound) deps.log?.('info', 'support mail: listening', { port: inbound.port, address: support_email });
  return {
    routes,
    workers,
    inbound,
    async pump() {
      await queueCaseMail(mailOut);
      await queueChatReplies(chatOut);
    },
    async close() {
      await inbound?.close();
      sender.close();
    },
  };
}
