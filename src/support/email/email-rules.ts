// What an inbound support mail is, as pure rules over facts read from it (email-inbound.ts reads
// them with mailparser): whether a machine sent it (auto-replies and bounces open no case and get
// no answer, RFC 3834), which case it threads into (our Message-IDs in In-Reply-To/References,
// the [#number] subject tag, tx hashes and payment ids it names), the part of its text a person
// wrote (quoted history and signatures trimmed), and the headers of the mails we send back.
// docs/decisions/0014-support-email-threading-and-trust.md says why each rule is as it is.

/** The facts of one inbound mail that the rules look at. Header names are lower case. */
export interface InboundFacts {
  /** SMTP MAIL FROM; '' for the null reverse-path of bounces, null when unknown. */
  envelope_from: string | null;
  /** The From header's address, lower case, or null. */
  from: string | null;
  /** Single-valued headers the rules read (auto-submitted, precedence, x-autoreply …), raw values. */
  headers: Readonly<Record<string, string>>;
  /** "multipart/report" etc., lower case, without parameters. */
  content_type: string;
  subject: string;
  text: string;
  message_id: string | null;
  in_reply_to: string | null;
  references: readonly string[];
}

export type AutomatedReason = 'auto_submitted' | 'precedence' | 'auto_reply_header' | 'delivery_report' | 'mailer_daemon' | 'null_sender';

const DAEMON_RE = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;

/**
 * Why a mail was sent by a machine (and must neither open a case nor get an answer), or null
 * when a person wrote it. RFC 3834 Auto-Submitted other than "no"; Precedence bulk, junk or list;
 * the X-Autoreply / X-Autorespond headers of older responders; multipart/report (delivery status
 * notifications and read receipts); a MAILER-DAEMON / postmaster sender or an empty return path.
 * automatedReason({ headers: { 'auto-submitted': 'auto-replied' }, … }) -> 'auto_submitted'
 */
export function automatedReason(m: InboundFacts): AutomatedReason | null {
  const auto = (m.headers['auto-submitted'] ?? '').trim().toLowerCase().split(/[;\s(]/)[0] ?? '';
  if (auto !== '' && auto !== 'no') return 'auto_submitted';
  const precedence = (m.headers.precedence ?? '').trim().toLowerCase();
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return 'precedence';
  if (m.headers['x-autoreply'] !== undefined || m.headers['x-autorespond'] !== undefined || m.headers['x-autoresponse'] !== undefined) return 'auto_reply_header';
  if (m.content_type === 'multipart/report') return 'delivery_report';
  if (m.envelope_from === '' || m.envelope_from === '<>') return 'null_sender';
  if ((m.envelope_from && DAEMON_RE.test(m.envelope_from)) || (m.from && DAEMON_RE.test(m.from))) return 'mailer_daemon';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Threading.

export const THREAD_REFS_MAX = 50;
export const NAMED_KEYS_MAX = 5;
const TX_HASH_RE = /(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{64}(?![0-9a-fA-F])/g;
const PAYMENT_ID_RE = /\bpay_[0-9a-hjkmnp-tv-z]{26,40}\b/g;
const CASE_TAG_RE = /\[#(\d{1,12})\]/;
const MSG_ID_RE = /<[^<>\s]{1,250}>/g;

export interface ThreadKeys {
  /** Message-IDs this mail answers (In-Reply-To first, then References newest first), "<…>". */
  replied_to: string[];
  /** The number of the `[#123]` subject tag, if any. */
  case_number: number | null;
  /** Transaction hashes named in the subject or text (lower case, first ones first). */
  tx_hashes: string[];
  /** Payment ids named in the subject or text. */
  payment_ids: string[];
}

function unique<T>(xs: Iterable<T>, max: number): T[] {
  const out: T[] = [];
  for (const x of xs) if (!out.includes(x) && out.length < max) out.push(x);
  return out;
}

/** "<a@b> <c@d>" or "a@b" -> ["<a@b>", "<c@d>"] / ["<a@b>"] */
export function messageIdsIn(value: string | null | undefined): string[] {
  if (!value) return [];
  const bracketed = value.match(MSG_ID_RE);
  if (bracketed) return bracketed;
  const bare = value.trim();
  return /^[^<>\s]{1,250}$/.test(bare) ? [`<${bare}>`] : [];
}

/**
 * The keys a mail can be threaded by, each checked against the sender's cases by the caller.
 * threadKeys({ subject: 'Re: [#1042] deposit', in_reply_to: '<c.1@settle>', … })
 *   -> { replied_to: ['<c.1@settle>'], case_number: 1042, tx_hashes: [], payment_ids: [] }
 */
export function threadKeys(m: Pick<InboundFacts, 'subject' | 'text' | 'in_reply_to' | 'references'>): ThreadKeys {
  const refs = [...m.references].flatMap((r) => messageIdsIn(r)).reverse();
  const replied_to = unique([...messageIdsIn(m.in_reply_to), ...refs], THREAD_REFS_MAX);
  const tag = CASE_TAG_RE.exec(m.subject);
  const searched = `${m.subject}\n${trimQuoted(m.text)}`;
  return {
    replied_to,
    case_number: tag ? Number(tag[1]) : null,
    tx_hashes: unique([...searched.matchAll(TX_HASH_RE)].map((x) => x[0].toLowerCase()), NAMED_KEYS_MAX),
    payment_ids: unique([...searched.matchAll(PAYMENT_ID_RE)].map((x) => x[0]), NAMED_KEYS_MAX),
  };
}

// ---------------------------------------------------------------------------------------------
// What the person wrote.

/** Lines that start the quoted history: everything from them on is the earlier thread. */
const HISTORY_STARTS: RegExp[] = [
  /^On .{1,300}wrote:\s*$/, // Gmail, Apple Mail, Thunderbird
  /^在.{1,300}写道[：:]\s*$/, // the same in Chinese clients
  /^-{2,}\s*(Original Message|原始邮件|Forwarded message|转发的邮件)\s*-{2,}\s*$/i,
  /^_{10,}\s*$/, // Outlook on the web's rule above the quoted header
];
/** Outlook's quoted header: a From line followed closely by a Sent (or Date) line. */
const OUTLOOK_FROM = /^\s*\*?(From|发件人)\s*[:：]/i;
const OUTLOOK_SENT = /^\s*\*?(Sent|Date|发送时间|日期)\s*[:：]/i;

function historyStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (HISTORY_STARTS.some((re) => re.test(line))) return i;
    // "On Mon, 7 Dec 2026 at 10:00, Ann <ann@example.com>" + "wrote:" on the next line.
    if (/^On .{1,300}$/.test(line) && /^.{0,200}wrote:\s*$/.test(lines[i + 1] ?? '') && !/^On .*wrote:/.test(lines[i + 1] ?? '')) return i;
    if (OUTLOOK_FROM.test(line) && lines.slice(i + 1, i + 4).some((l) => OUTLOOK_SENT.test(l))) return i;
  }
  return lines.length;
}

export const SHOWN_TEXT_CHARS_MAX = 20_000;

/**
 * The part of a mail's text its sender wrote: from the start of the quoted history (an
 * "On … wrote:" line, Chinese "在…写道：", Outlook's From/Sent block, "-----Original Message-----")
 * on, lines quoted with ">", and a signature after a "-- " line are left out. When that leaves
 * nothing (a mail that is only a quote), the whole text stays, so no mail becomes empty.
 * trimQuoted('Still waiting.\n\nOn Mon, Ann wrote:\n> hello') -> 'Still waiting.'
 */
export function trimQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const cut = lines.slice(0, historyStart(lines));
  const sig = cut.findIndex((l) => l === '-- ' || l === '--');
  const body = (sig >= 0 ? cut.slice(0, sig) : cut).filter((l) => !/^\s*>/.test(l));
  const shown = body.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  return (shown || text.trim()).slice(0, SHOWN_TEXT_CHARS_MAX);
}

// ---------------------------------------------------------------------------------------------
// Mail we send.

/**
 * The Message-ID of the mail that carries a case message: fixed by the message's id, so a send
 * job that runs twice sends the same mail (the receiver sees one message), and findable again
 * when the customer's reply names it in In-Reply-To.
 * outboundMessageId('msg_01jd…', 'support@example.com') -> '<msg_01jd….case@example.com>'
 */
export function outboundMessageId(message_id: string, support_email: string): string {
  const domain = support_email.split('@')[1] || 'localhost';
  return `<${message_id}.case@${domain}>`;
}

/** Subjects carry the case's tag once: subjectWithTag('Re: deposit', 1042) -> 'Re: [#1042] deposit' */
export function subjectWithTag(subject: string, number: number): string {
  const plain = subject.replace(/\[#\d{1,12}\]\s*/g, '').replace(/^((re|fwd?|aw|回复|答复|转发)\s*[:：]\s*)+/i, '').trim();
  return `Re: [#${number}] ${plain || '—'}`.slice(0, 250);
}

/** References of a reply: the thread so far (bounded, oldest first) and the mail it answers. */
export function referencesFor(thread: readonly string[], in_reply_to: string | null): string[] {
  const all = unique([...thread, ...(in_reply_to ? [in_reply_to] : [])], THREAD_REFS_MAX * 2);
  return all.slice(-THREAD_REFS_MAX);
}

/** Mails written in Chinese get answers in Chinese; anything else in English. */
export function localeOfText(text: string): 'en' | 'zh-CN' {
  const han = text.match(/[\u4e00-\u9fff]/g)?.length ?? 0;
  return han >= 2 ? 'zh-CN' : 'en';
}

/** A plain, bounded address check (the SMTP layer has already parsed it). */
export function normaliseAddress(address: string | null | undefined): string | null {
  const a = (address ?? '').trim().toLowerCase();
  return /^[^\s@<>]{1,64}@[^\s@<>]{1,190}$/.test(a) ? a : null;
}
