// The texts of the mail the support desk sends, in English and Chinese. They name the case and
// when to expect an answer, and link to the case page; they never carry balances, payments or
// any other account data (API.md: the sender of a mail is not proven, so the mail says nothing
// its reader could not already know).
import { defineMessages, translate, type Locale } from '../../shared/i18n.ts';
import { assertNever } from '../../shared/assert.ts';

export const EMAIL_TEXTS = defineMessages({
  ack_subject_prefix: { en: 'Received', 'zh-CN': '已收到' },
  ack_body: {
    en: 'Hello,\n\nwe have received your message and opened case #{number}: "{subject}".\n\n{expect}\n\nTo add anything, reply to this mail and keep [#{number}] in the subject. You can also follow the case at {link} after signing in.\n\nSettle support',
    'zh-CN': '您好：\n\n我们已收到您的来信，并为您建立了工单 #{number}：“{subject}”。\n\n{expect}\n\n如需补充，请直接回复本邮件，并保留标题中的 [#{number}]。登录后也可以在 {link} 查看工单进展。\n\nSettle 客服',
  },
  expect_by: { en: 'We will answer by {time}.', 'zh-CN': '我们会在 {time} 之前答复您。' },
  expect_unknown: { en: 'We will answer as soon as we can.', 'zh-CN': '我们会尽快答复您。' },
  reply_footer: {
    en: '—\nCase #{number}. Reply to this mail to answer (keep [#{number}] in the subject), or see the case at {link}.\nFor your safety, this mail never contains balances or account details, and nothing on your account changes because of a mail.',
    'zh-CN': '—\n工单 #{number}。直接回复本邮件即可答复（请保留标题中的 [#{number}]），也可以在 {link} 查看工单。\n为了您的安全，邮件中不会包含余额或账户信息，任何账户操作也不会仅凭一封邮件执行。',
  },
  system_update: {
    en: 'There is an update on your case #{number}. Please sign in to read it: {link}',
    'zh-CN': '您的工单 #{number} 有新的进展，请登录查看：{link}',
  },
});

/** How an instant is written for a reader: Beijing time for Chinese, UTC for English. */
export function formatReplyBy(iso: string, locale: Locale): string {
  const at = new Date(iso);
  switch (locale) {
    case 'zh-CN':
      return `${new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23' }).format(at)}（北京时间）`;
    case 'en':
      return `${new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)} UTC`;
    default:
      return assertNever(locale, 'locale');
  }
}

export interface AckFacts {
  number: number;
  subject: string;
  expected_reply_by: string | null;
  link: string;
}

/** The acknowledgement of a mail that opened a case: subject and text. */
export function ackMail(f: AckFacts, locale: Locale): { subject: string; text: string } {
  const expect = f.expected_reply_by ? translate(EMAIL_TEXTS, 'expect_by', locale, { time: formatReplyBy(f.expected_reply_by, locale) }) : translate(EMAIL_TEXTS, 'expect_unknown', locale);
  return {
    subject: `[#${f.number}] ${translate(EMAIL_TEXTS, 'ack_subject_prefix', locale)}: ${f.subject}`.slice(0, 250),
    text: translate(EMAIL_TEXTS, 'ack_body', locale, { number: f.number, subject: f.subject.slice(0, 200), expect, link: f.link }),
  };
}

/**
 * The text of a case message sent by mail: an agent's words as written with the footer; for a
 * system message (which may quote payments or the account), only a pointer to the case page.
 */
export function replyText(author: 'agent' | 'system', body: string, number: number, link: string, locale: Locale): string {
  const footer = translate(EMAIL_TEXTS, 'reply_footer', locale, { number, link });
  switch (author) {
    case 'agent':
      return `${body}\n\n${footer}`;
    case 'system':
      return `${translate(EMAIL_TEXTS, 'system_update', locale, { number, link })}\n\n${footer}`;
    default:
      return assertNever(author, 'author');
  }
}
