// Goal: machine mail is recognised, threads are found by every key the contract names, and what
// a person wrote is cut from the quoted history the way real clients quote (Gmail, Apple Mail,
// Outlook, Chinese clients). Method: call the pure rules on facts and texts written as those
// clients write them.
import { describe, expect, it } from 'vitest';
import { automatedReason, localeOfText, messageIdsIn, outboundMessageId, referencesFor, subjectWithTag, threadKeys, trimQuoted, type InboundFacts } from './email-rules.ts';

const person: InboundFacts = {
  envelope_from: 'ann@example.com', from: 'ann@example.com', headers: {}, content_type: 'text/plain',
  subject: 'Where is my deposit?', text: 'Hello', message_id: '<a1@example.com>', in_reply_to: null, references: [],
};
const HASH = `0x${'ab'.repeat(32)}`;

describe('automatedReason', () => {
  it('lets a person through', () => {
    expect(automatedReason(person)).toBeNull();
    expect(automatedReason({ ...person, headers: { 'auto-submitted': 'no' } })).toBeNull();
    expect(automatedReason({ ...person, headers: { precedence: 'first-class' } })).toBeNull();
  });

  it('recognises auto-replies, bulk mail and bounces', () => {
    expect(automatedReason({ ...person, headers: { 'auto-submitted': 'auto-replied' } })).toBe('auto_submitted');
    expect(automatedReason({ ...person, headers: { 'auto-submitted': 'Auto-Generated (vacation)' } })).toBe('auto_submitted');
    for (const p of ['bulk', 'junk', 'list', 'Bulk ']) expect(automatedReason({ ...person, headers: { precedence: p } })).toBe('precedence');
    expect(automatedReason({ ...person, headers: { 'x-autoreply': 'yes' } })).toBe('auto_reply_header');
    expect(automatedReason({ ...person, content_type: 'multipart/report' })).toBe('delivery_report');
    expect(automatedReason({ ...person, envelope_from: '' })).toBe('null_sender');
    expect(automatedReason({ ...person, envelope_from: 'MAILER-DAEMON@mx.example.com' })).toBe('mailer_daemon');
    expect(automatedReason({ ...person, from: 'postmaster@example.com' })).toBe('mailer_daemon');
  });
});

describe('threadKeys', () => {
  it('reads In-Reply-To, References, the subject tag, tx hashes and payment ids', () => {
    const keys = threadKeys({
      subject: 'Re: [#1042] deposit', in_reply_to: '<m2@settle>', references: ['<m0@settle>', '<m1@settle>'],
      text: `It is ${HASH.toUpperCase().replace('0X', '0x')} and pay_01jd3k5m7n8p9q0r1s2t3v4w5x.\nAgain ${HASH}.`,
    });
    expect(keys).toEqual({ replied_to: ['<m2@settle>', '<m1@settle>', '<m0@settle>'], case_number: 1042, tx_hashes: [HASH], payment_ids: ['pay_01jd3k5m7n8p9q0r1s2t3v4w5x'] });
  });

  it('ignores hashes that are too long or only quoted, and reads bare Message-IDs', () => {
    const keys = threadKeys({ subject: 'help', in_reply_to: null, references: [], text: `0x${'a'.repeat(65)}\n\nOn Mon, Ann wrote:\n> ${HASH}` });
    expect(keys.tx_hashes).toEqual([]);
    expect(keys.case_number).toBeNull();
    expect(messageIdsIn('abc@host')).toEqual(['<abc@host>']);
    expect(messageIdsIn('<a@h> <b@h>')).toEqual(['<a@h>', '<b@h>']);
    expect(messageIdsIn('')).toEqual([]);
  });
});

describe('trimQuoted', () => {
  it('cuts Gmail / Apple Mail history, also when "wrote:" wraps', () => {
    expect(trimQuoted('Still waiting.\n\nOn Mon, Dec 7, 2026 at 10:00 AM Settle <support@localhost> wrote:\n> We are looking.\n> Thanks')).toBe('Still waiting.');
    expect(trimQuoted('Still waiting.\n\nOn Mon, 7 Dec 2026 at 10:00, Settle Support <support@localhost>\nwrote:\n\n> hi')).toBe('Still waiting.');
  });

  it('cuts Chinese clients\' history', () => {
    expect(trimQuoted('还没到账。\n\n在 2026年12月7日周一 10:00，Settle <support@localhost> 写道：\n> 我们正在处理。')).toBe('还没到账。');
  });

  it('cuts Outlook blocks and Original Message rules', () => {
    const outlook = 'Any news?\r\n\r\n________________________________\r\nFrom: Settle <support@localhost>\r\nSent: Monday, December 7, 2026 10:00\r\nTo: Ann\r\nSubject: [#1] x\r\n\r\nWe are looking.';
    expect(trimQuoted(outlook)).toBe('Any news?');
    expect(trimQuoted('Any news?\n\nFrom: Settle <support@localhost>\nSent: Monday\nTo: Ann\n\nOld')).toBe('Any news?');
    expect(trimQuoted('Any news?\n\n发件人: Settle <support@localhost>\n发送时间: 2026年12月7日\n\n旧邮件')).toBe('Any news?');
    expect(trimQuoted('Any news?\n-----Original Message-----\nold')).toBe('Any news?');
    // A "From:" line the person wrote themselves, without a Sent line, stays.
    expect(trimQuoted('From: my wallet to yours, nothing arrived.')).toBe('From: my wallet to yours, nothing arrived.');
  });

  it('drops > lines and the signature, but never returns an empty text', () => {
    expect(trimQuoted('> old\nNew line\n> older\n\n-- \nAnn\nCEO')).toBe('New line');
    expect(trimQuoted('> only a quote')).toBe('> only a quote');
  });
});

describe('mail we send', () => {
  it('tags subjects once, fixes Message-IDs by message id and bounds References', () => {
    expect(subjectWithTag('Where is my deposit?', 1042)).toBe('Re: [#1042] Where is my deposit?');
    expect(subjectWithTag('Re: RE: [#1042] Where is my deposit?', 1042)).toBe('Re: [#1042] Where is my deposit?');
    expect(subjectWithTag('回复：充值', 7)).toBe('Re: [#7] 充值');
    expect(outboundMessageId('msg_1', 'help@settle.example')).toBe('<msg_1.case@settle.example>');
    expect(referencesFor(['<a>', '<b>'], '<b>')).toEqual(['<a>', '<b>']);
    expect(referencesFor(Array.from({ length: 80 }, (_, i) => `<m${i}>`), '<x>')).toHaveLength(50);
  });

  it('answers Chinese mail in Chinese', () => {
    expect(localeOfText('我的充值没有到账')).toBe('zh-CN');
    expect(localeOfText('My deposit is missing')).toBe('en');
  });
});
