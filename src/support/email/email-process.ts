// The support.email.process job: turns one stored inbound mail into a case message. Machine mail
// (auto-replies, bounces) is marked ignored and does nothing else. A person's mail joins the
// case it threads into — by a Message-ID Settle sent, by the [#number] tag, by a tx hash or
// payment id it names — but only a case of the same sender (the same address, or the registered
// user that address belongs to); otherwise it opens a case. The sender is never proven: a
// registered address links the case to its user marked unverified, and nothing on the account
// changes because of a mail (docs/decisions/0014-support-email-threading-and-trust.md).
//
// Idempotent: the message's dedupe key is the mail's (its Message-ID), so a job that runs again
// after a crash finds the message it wrote and only finishes what was left (the row's status
// and the acknowledgement, whose job has a unique key).
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Db } from '../../db/database.ts';
import { enqueueJob, type JobHandler } from '../../jobs/jobs.ts';
import type { Clock } from '../../shared/clock.ts';
import { open } from '../../shared/encryption.ts';
import type { Locale } from '../../shared/i18n.ts';
import { EMAIL_REF_KIND, type Desk, type DeskCase } from '../channel-desk.ts';
import { rawMailAad } from './email-inbound.ts';
import { ackMail } from './email-messages.ts';
import { EMAIL_SEND_JOB, type OutgoingMail } from './email-outbound.ts';
import { automatedReason, localeOfText, normaliseAddress, outboundMessageId, threadKeys, trimQuoted, type InboundFacts } from './email-rules.ts';

export const ATTACHMENTS_PER_MAIL_MAX = 10;
const SUBJECT_CHARS_MAX = 200;

export interface EmailProcessDeps {
  db: Db;
  clock: Clock;
  key: Buffer;
  desk: Desk;
  support_email: string;
  public_url: string;
  /** The registered user an address belongs to (accounts face), or null. */
  userIdByEmail(email: string): Promise<string | null>;
  /** A registered user's address and language (accounts face), or null. */
  userOf(user_id: string): Promise<{ email: string; locale: Locale } | null>;
  /** Whose payment an id is (payments face), or null when there is none. */
  paymentOwner(payment_id: string): Promise<string | null>;
}

/** The rules' view of a parsed mail. */
export function factsOf(mail: ParsedMail, envelope_from: string): InboundFacts {
  const headers: Record<string, string> = {};
  for (const line of mail.headerLines) {
    const value = line.line.slice(line.line.indexOf(':') + 1).trim();
    if (headers[line.key] === undefined) headers[line.key] = value;
  }
  const ct = mail.headers.get('content-type') as { value?: string } | string | undefined;
  const refs = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : [mail.references];
  return {
    envelope_from,
    from: normaliseAddress(mail.from?.value[0]?.address),
    headers,
    content_type: (typeof ct === 'string' ? ct : (ct?.value ?? 'text/plain')).toLowerCase(),
    subject: (mail.subject ?? '').trim(),
    text: mail.text ?? '',
    message_id: mail.messageId ?? null,
    in_reply_to: mail.inReplyTo ?? null,
    references: refs,
  };
}

/** Whether a case belongs to a mail's sender: its contact address, or the user that address is. */
function ownedBy(c: DeskCase, from: string, user_id: string | null): boolean {
  return c.contact.email?.toLowerCase() === from || (user_id !== null && c.user_id === user_id);
}

/** The live case of the sender this mail threads into by Message-ID or subject tag, or null. */
async function threadedCase(desk: Desk, facts: InboundFacts, from: string, user_id: string | null): Promise<DeskCase | null> {
  const keys = threadKeys(facts);
  const found: Array<DeskCase | null> = [];
  for (const ref of keys.replied_to) found.push(await desk.findCaseByRef(EMAIL_REF_KIND, ref));
  if (keys.case_number !== null) found.push(await desk.findCaseByNumber(keys.case_number));
  for (const c of found) {
    if (!c || !ownedBy(c, from, user_id)) continue;
    const live = c.merged_into ? await desk.getCase(c.merged_into, 'staff') : c;
    if (live && live.status !== 'closed' && live.merged_into === null) return live;
  }
  return null;
}

async function storeAttachments(desk: Desk, mail: ParsedMail): Promise<string[]> {
  if (!desk.storeAttachment) return [];
  const ids: string[] = [];
  for (const a of mail.attachments.slice(0, ATTACHMENTS_PER_MAIL_MAX)) {
    const id = await desk.storeAttachment({ bytes: a.content, filename: a.filename ?? 'attachment', declared_type: a.contentType });
    if (id) ids.push(id);
  }
  return ids;
}

/** Joins the threaded case or opens (or merges into) one -> the case and whether this mail opened it. */
async function fileMail(deps: EmailProcessDeps, mail: ParsedMail, facts: InboundFacts, from: string, dedupe_key: string): Promise<{ case: DeskCase; opened: boolean }> {
  const { desk } = deps;
  const user_id = await deps.userIdByEmail(from);
  const body = trimQuoted(facts.text) || '(no text)';
  const name = mail.from?.value[0]?.name || undefined;
  const attachment_ids = await storeAttachments(desk, mail);
  const threaded = await threadedCase(desk, facts, from, user_id);
  if (threaded) {
    const r = await desk.addCustomerMessage(threaded.id, { channel: 'email', body, attachment_ids, dedupe_key, author_id: user_id, author_name: name ?? null });
    if (r) {
      if (facts.message_id && !(await desk.findCaseByRef(EMAIL_REF_KIND, facts.message_id))) await desk.addCaseRef(r.case.id, EMAIL_REF_KIND, facts.message_id).catch(() => undefined);
      return { case: r.case, opened: false };
    }
  }
  const keys = threadKeys(facts);
  // A payment id counts only when it is the sender's own payment: evidence of someone else's never lands in a mail case.
  let payment_id: string | null = null;
  for (const p of keys.payment_ids) if (user_id && (await deps.paymentOwner(p)) === user_id) payment_id ??= p;
  const r = await desk.openOrJoinCase({
    channel: 'email', user_id, unverified: user_id !== null, contact: { email: from, ...(name ? { name } : {}) },
    subject: (facts.subject || body.split('\n')[0] || '(no subject)').slice(0, SUBJECT_CHARS_MAX), body,
    tx_hash: keys.tx_hashes[0] ?? null, payment_id, attachment_ids, dedupe_key,
    external_ref: facts.message_id ? { kind: EMAIL_REF_KIND, ref: facts.message_id } : null,
  });
  if (r.created) return { case: r.case, opened: true };
  // A repeat (the job ran before and crashed): this mail opened the case if its message is the case's first.
  const full = r.message_id ? await desk.getCase(r.case.id, 'staff') : null;
  return { case: r.case, opened: full?.messages[0]?.id === r.message_id };
}

/** The acknowledgement of a case opened by mail, in the sender's language. */
async function ackFor(deps: EmailProcessDeps, c: DeskCase, facts: InboundFacts, to: string): Promise<OutgoingMail> {
  const locale = (c.user_id ? (await deps.userOf(c.user_id))?.locale : null) ?? localeOfText(`${facts.subject}\n${facts.text}`);
  const { subject, text } = ackMail({ number: c.number, subject: c.subject, expected_reply_by: c.expected_reply_by, link: `${deps.public_url}/help/cases/${c.id}` }, locale);
  return {
    kind: 'ack', case_id: c.id, to, subject, text, auto_submitted: true,
    message_id: outboundMessageId(`ack_${c.id}`, deps.support_email), in_reply_to: facts.message_id, references: facts.message_id ? [facts.message_id] : [],
  };
}

/** The support.email.process job's handler. */
export function createEmailProcessor(deps: EmailProcessDeps) {
  const { db, clock } = deps;
  const handler: JobHandler = async (payload, ctx) => {
    const { id } = payload as { id: string };
    const row = await db.kysely.selectFrom('support_inbound_mails').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.status !== 'received' || row.raw_enc === null) return;
    const raw = open(deps.key, Buffer.from(row.raw_enc, 'base64'), rawMailAad(id));
    const mail = await simpleParser(raw, { skipHtmlToText: false, maxHtmlLengthToParse: 2_000_000 });
    const facts = factsOf(mail, row.envelope_from);
    const from = facts.from ?? normaliseAddress(row.envelope_from);
    const machine = automatedReason(facts);
    const ignored = machine ?? (from === null ? 'no_sender' : from === deps.support_email ? 'own_address' : null);
    const finish = { raw_enc: null, from_address: from, processed_at_ms: clock.now_ms() };
    if (ignored !== null || from === null) {
      await ctx.commit(async (trx) => {
        await trx.updateTable('support_inbound_mails').set({ ...finish, status: 'ignored', reason: ignored }).where('id', '=', id).execute();
      });
      return;
    }
    const filed = await fileMail(deps, mail, facts, from, row.dedupe_key);
    const ack = filed.opened ? await ackFor(deps, filed.case, facts, from) : null;
    await ctx.commit(async (trx) => {
      await trx.updateTable('support_inbound_mails').set({ ...finish, status: 'processed', case_id: filed.case.id }).where('id', '=', id).execute();
      if (ack) await enqueueJob(trx, EMAIL_SEND_JOB, ack, { unique_key: `${EMAIL_SEND_JOB}:ack:${filed.case.id}`, max_attempts: 20 }, clock);
    });
  };
  return { handler };
}
