// The inbound SMTP server of the support desk (smtp-server), on SETTLE_INBOUND_SMTP_PORT. It
// accepts mail for SETTLE_SUPPORT_EMAIL only (other recipients are refused at RCPT TO: this is
// not a relay), bounded in size and connections, and answers 250 only after the mail is stored:
// the sealed raw bytes and the job that will process them commit in one transaction. A crash
// before that commit leaves the sending server without a 250, so it tries again; a crash after
// it leaves a job that runs on restart. The same Message-ID stored twice is one row.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Db, DbExecutor } from '../../db/database.ts';
import { enqueueJob } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { seal } from '../../shared/encryption.ts';
import { newId } from '../../shared/ids.ts';
import { messageIdsIn, normaliseAddress } from './email-rules.ts';

export const EMAIL_PROCESS_JOB = 'support.email.process';
const CLIENTS_MAX = 50;
const RECIPIENTS_MAX = 10;
const HEADER_SCAN_BYTES_MAX = 64 * 1024;

export interface InboundServerDeps {
  db: Db;
  clock: Clock;
  key: Buffer;
  support_email: string;
  mail_bytes_max: number;
  /** Called after each stored mail (tests, metrics); never decides anything. */
  onStored?: (id: string, duplicate: boolean) => void;
}

export interface InboundServer {
  port: number;
  close(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The AAD that binds a sealed raw mail to its row. */
export function rawMailAad(id: string): string {
  return `support_inbound_mail:${id}`;
}

/** The first Message-ID header of a raw mail (headers end at the first empty line), or null. */
export function rawMessageId(raw: Buffer): string | null {
  const head = raw.subarray(0, HEADER_SCAN_BYTES_MAX).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const unfolded = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(unfolded);
  return m ? (messageIdsIn(m[1]!.trim())[0] ?? null) : null;
}

/** email:<Message-ID>, or the mail's sha256 when it has none (the same bytes are one mail). */
export function inboundDedupeKey(raw: Buffer): string {
  const mid = rawMessageId(raw);
  return mid ? `email:${mid}` : `email:sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * Stores one accepted mail and its processing job in one transaction -> the row id and whether
 * the same mail (by dedupe key) was stored before, in which case nothing new is written.
 */
export async function storeInboundMail(db: Db, clock: Clock, key: Buffer, raw: Buffer, envelope_from: string): Promise<{ id: string; duplicate: boolean }> {
  const dedupe_key = inboundDedupeKey(raw);
  const existing = async (ex: DbExecutor) => ex.selectFrom('support_inbound_mails').select('id').where('dedupe_key', '=', dedupe_key).executeTakeFirst();
  const now = clock.now_ms();
  const id = newId('inm', now);
  const raw_enc = seal(key, raw, rawMailAad(id)).toString('base64');
  try {
    return await db.transaction(async (trx) => {
      const seen = await existing(trx);
      if (seen) return { id: seen.id, duplicate: true };
      await trx.insertInto('support_inbound_mails').values({
        id, dedupe_key, envelope_from, from_address: null, size: raw.length, raw_enc, status: 'received', reason: null, case_id: null, received_at_ms: now, processed_at_ms: null,
      }).execute();
      await enqueueJob(trx, EMAIL_PROCESS_JOB, { id }, { unique_key: `${EMAIL_PROCESS_JOB}:${id}`, max_attempts: 20 }, clock);
      return { id, duplicate: false };
    });
  } catch (error) {
    // Two sessions delivering the same mail at once: the unique key let one in; the other is a duplicate.
    const seen = await existing(db.kysely);
    if (seen) return { id: seen.id, duplicate: true };
    throw error;
  }
}

function readBounded(stream: SMTPServerDataStream, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(stream.sizeExceeded || size > max ? null : Buffer.concat(chunks)));
  });
}

/** const server = await startInboundSmtp({ db, clock, key, support_email, mail_bytes_max }, 2525, '127.0.0.1') */
export async function startInboundSmtp(deps: InboundServerDeps, port: number, host: string): Promise<InboundServer> {
  const server = new SMTPServer({
    name: deps.support_email.split('@')[1] || 'localhost',
    banner: 'Settle support desk',
    authOptional: true,
    // No TLS here: a deployment puts its MX (which does TLS, SPF and DKIM) in front and relays to this port.
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: deps.mail_bytes_max,
    maxClients: CLIENTS_MAX,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    logger: false,
    onRcptTo(address, session: SMTPServerSession, callback) {
      if (normaliseAddress(address.address) !== deps.support_email) return callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      if (session.envelope.rcptTo.length >= RECIPIENTS_MAX) return callback(smtpError(452, '4.5.3 too many recipients'));
      callback();
    },
    onData(stream, session, callback) {
      readBounded(stream, deps.mail_bytes_max).then(
        async (raw) => {
          if (!raw) return callback(smtpError(552, `5.3.4 message larger than ${deps.mail_bytes_max} bytes`));
          const envelope_from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const stored = await storeInboundMail(deps.db, deps.clock, deps.key, raw, envelope_from);
          deps.onStored?.(stored.id, stored.duplicate);
          callback();
        },
      ).catch(() => callback(smtpError(451, '4.3.0 could not store the message now; try again later')));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
