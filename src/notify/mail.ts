// Outgoing mail. Messages are saved as durable `mail.send` jobs in the same transaction as the
// state change that causes them (CONVENTIONS #5) and sent by the job through nodemailer to
// config.smtp_url. Without an SMTP URL (development and tests) a real SMTP server (smtp-server)
// is started in-process on 127.0.0.1 and keeps what it receives, in memory and as .eml files in
// the data dir, so that tests and the dev inbox read real delivered mail (no fake transport).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { DbExecutor } from '../db/database.ts';
import { enqueueJob, type JobHandler } from '../jobs/jobs.ts';
import { systemClock, type Clock } from '../shared/clock.ts';

export const MAIL_JOB = 'mail.send';
export const MAIL_FROM = 'Settle <no-reply@settle.local>';
const CAPTURED_MAX = 1000;
const MESSAGE_BYTES_MAX = 1_048_576;

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** await enqueueMail(trx, { to, subject, text }) — sent after commit by the mail.send job. */
export async function enqueueMail(ex: DbExecutor, msg: MailMessage, clock: Clock = systemClock): Promise<void> {
  await enqueueJob(ex, MAIL_JOB, msg, { max_attempts: 20 }, clock);
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
  close(): void;
}

/** createMailer('smtp://127.0.0.1:2525') */
export function createMailer(smtp_url: string): Mailer {
  const transport = nodemailer.createTransport(smtp_url);
  return {
    async send(msg) {
      // base64 keeps long links (the "this wasn't me" URL) on one logical line for readers.
      await transport.sendMail({ from: MAIL_FROM, to: msg.to, subject: msg.subject, text: msg.text, textEncoding: 'base64' });
    },
    close() {
      transport.close();
    },
  };
}

/** The mail.send job handler: one attempt sends one message; failures retry with backoff. */
export function mailJobHandler(mailer: Mailer): JobHandler {
  return async (payload) => {
    const msg = payload as MailMessage;
    await mailer.send(msg);
  };
}

export interface CapturedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  raw: string;
  received_at_ms: number;
}

export interface DevMailbox {
  /** smtp://127.0.0.1:<port> */
  url: string;
  messages: CapturedMail[];
  /** Messages sent to one address, oldest first. */
  to(address: string): CapturedMail[];
  close(): Promise<void>;
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeWords(s: string): string {
  // RFC 2047: white space between two adjacent encoded words is not part of the text.
  return s.replace(/(\?=)\s+(?==\?utf-8\?)/gi, '$1').replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')));
}

/** Parses the single-part text messages this platform sends (enough for a dev inbox and tests). */
export function parseMessage(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  const text = encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
  return { subject: decodeWords(headers.get('subject') ?? ''), text: text.replace(/\r\n/g, '\n') };
}

/** const box = await startDevMailbox(dir); … box.to('ann@example.com'); await box.close() */
export async function startDevMailbox(dir: string | null, clock: Clock = systemClock): Promise<DevMailbox> {
  const messages: CapturedMail[] = [];
  if (dir) mkdirSync(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MESSAGE_BYTES_MAX,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { subject, text } = parseMessage(raw);
        const mail: CapturedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          subject,
          text,
          raw,
          received_at_ms: clock.now_ms(),
        };
        messages.push(mail);
        if (messages.length > CAPTURED_MAX) messages.shift();
        if (dir) {
          try {
            writeFileSync(join(dir, `${Date.now()}-${messages.length}.eml`), raw);
          } catch {
            // The in-memory copy is what tests read; a full disk must not bounce the mail.
          }
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  // The dev mailbox alone never keeps a process alive (tests that forget to close it still exit).
  server.server.unref();
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address) => messages.filter((m) => m.to.includes(address.toLowerCase())),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
