// Mail out of the support desk. Every public agent or system message of a case whose customer has
// an address (the case's contact, or the registered user's) becomes one durable
// support.email.send job, enqueued in the transaction that moves this channel's outbox cursor
// past the `case.message` event, so a crash neither loses nor doubles a reply. The job sends
// through SETTLE_SMTP_URL with nodemailer: From the desk's address, a Message-ID fixed by the
// case message's id (a resend is the same mail), In-Reply-To / References of the thread and the
// [#number] tag in the subject, in the customer's language. Before sending it records the
// Message-ID as the case's reference, so the customer's answer threads back into the case.
import nodemailer from 'nodemailer';
import type { Db } from '../../db/database.ts';
import { consumeOutbox, enqueueJob, intervalWorker, type IntervalWorker, type JobHandler } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Locale } from '../../shared/i18n.ts';
import { EMAIL_REF_KIND, leavesByChannel, type CaseMessageEvent, type Desk } from '../channel-desk.ts';
import { replyText } from './email-messages.ts';
import { localeOfText, outboundMessageId, referencesFor, subjectWithTag } from './email-rules.ts';

export const EMAIL_SEND_JOB = 'support.email.send';
export const EMAIL_OUT_CONSUMER = 'support.email.out';
const EVENTS_PER_TICK_MAX = 100;
const THREAD_MAILS_MAX = 50;

/** One mail the desk sends (the job's payload: everything is decided before it is queued). */
export interface OutgoingMail {
  kind: 'ack' | 'reply';
  case_id: string;
  to: string;
  subject: string;
  text: string;
  message_id: string;
  in_reply_to: string | null;
  references: string[];
  /** RFC 3834: acknowledgements say they are automatic, so that other responders stay quiet. */
  auto_submitted: boolean;
}

export interface EmailOutboundDeps {
  db: Db;
  clock: Clock;
  desk: Desk;
  support_email: string;
  public_url: string;
  /** A registered user's address and language (accounts face), or null. */
  userOf(user_id: string): Promise<{ email: string; locale: Locale } | null>;
}

export interface SmtpSender {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** createSmtpSender('smtp://127.0.0.1:2525', 'support@example.com') */
export function createSmtpSender(smtp_url: string, support_email: string): SmtpSender {
  const transport = nodemailer.createTransport(smtp_url);
  return {
    async send(m) {
      await transport.sendMail({
        from: { name: 'Settle Support', address: support_email },
        to: m.to,
        subject: m.subject,
        text: m.text,
        messageId: m.message_id,
        ...(m.in_reply_to ? { inReplyTo: m.in_reply_to } : {}),
        ...(m.references.length ? { references: m.references } : {}),
        headers: m.auto_submitted ? { 'Auto-Submitted': 'auto-replied' } : {},
        textEncoding: 'base64',
      });
    },
    close: () => transport.close(),
  };
}

/** The support.email.send job: remembers the Message-ID for threading, then sends; failures retry. */
export function emailSendHandler(desk: Desk, sender: SmtpSender): JobHandler {
  return async (payload) => {
    const m = payload as OutgoingMail;
    if (!(await desk.findCaseByRef(EMAIL_REF_KIND, m.message_id))) {
      // A concurrent run may have recorded it first; either way the reference exists afterwards.
      await desk.addCaseRef(m.case_id, EMAIL_REF_KIND, m.message_id).catch(() => undefined);
    }
    await sender.send(m);
  };
}

/** The Message-IDs of a case's mail so far, oldest first: the customer's mails and ours. */
async function threadOf(deps: EmailOutboundDeps, ev: CaseMessageEvent): Promise<{ refs: string[]; last_inbound: string | null }> {
  const inbound = await deps.db.kysely
    .selectFrom('support_inbound_mails').select(['dedupe_key', 'received_at_ms'])
    .where('case_id', '=', ev.case_id).where('status', '=', 'processed')
    .orderBy('received_at_ms').limit(THREAD_MAILS_MAX).execute();
  const mails = inbound.filter((r) => r.dedupe_key.startsWith('email:<')).map((r) => ({ at: Number(r.received_at_ms), id: r.dedupe_key.slice('email:'.length) }));
  const full = await deps.desk.getCase(ev.case_id, 'staff');
  for (const m of full?.messages ?? []) {
    if (m.id !== ev.message.id && leavesByChannel(m) && Date.parse(m.at) <= Date.parse(ev.message.at)) mails.push({ at: Date.parse(m.at), id: outboundMessageId(m.id, deps.support_email) });
  }
  mails.sort((a, b) => a.at - b.at);
  const last_inbound = inbound.length ? inbound[inbound.length - 1]!.dedupe_key.slice('email:'.length) : null;
  return { refs: mails.map((m) => m.id), last_inbound: last_inbound?.startsWith('<') ? last_inbound : null };
}

/** The mail for one case message, or null when it does not leave by mail. */
export async function mailForMessage(deps: EmailOutboundDeps, ev: CaseMessageEvent): Promise<OutgoingMail | null> {
  const author = ev.message.author.type;
  if (!leavesByChannel(ev.message) || author === 'customer') return null;
  const user = ev.user_id ? await deps.userOf(ev.user_id) : null;
  const to = ev.contact.email ?? user?.email ?? null;
  if (!to) return null;
  const locale = user?.locale ?? localeOfText(ev.subject);
  const thread = await threadOf(deps, ev);
  const in_reply_to = thread.last_inbound ?? thread.refs[thread.refs.length - 1] ?? null;
  return {
    kind: 'reply', case_id: ev.case_id, to, auto_submitted: false,
    subject: subjectWithTag(ev.subject, ev.number),
    text: replyText(author, ev.message.body, ev.number, `${deps.public_url}/help/cases/${ev.case_id}`, locale),
    message_id: outboundMessageId(ev.message.id, deps.support_email),
    in_reply_to,
    references: referencesFor(thread.refs, in_reply_to),
  };
}

/** One pass over new `case.message` events: a send job per mail, in the event's transaction. */
export async function queueCaseMail(deps: EmailOutboundDeps): Promise<number> {
  return consumeOutbox<OutgoingMail | null>(
    deps.db, EMAIL_OUT_CONSUMER, EVENTS_PER_TICK_MAX, deps.clock.now_ms(),
    async (trx, event, mail) => {
      if (!mail) return;
      await enqueueJob(trx, EMAIL_SEND_JOB, mail, { unique_key: `${EMAIL_SEND_JOB}:${mail.message_id}`, max_attempts: 20 }, deps.clock);
    },
    // Reads (the user, the thread) go before the event's transaction: on SQLite it holds the one connection.
    async (event) => mailForMessage(deps, JSON.parse(event.payload) as CaseMessageEvent),
    { types: ['case.message'] },
  );
}

export function caseMailWorker(deps: EmailOutboundDeps, every_ms: number, onError: (e: unknown) => void): IntervalWorker {
  return intervalWorker('support.email.out', every_ms, () => queueCaseMail(deps), onError);
}
