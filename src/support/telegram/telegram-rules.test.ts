// Goal: the Telegram channel reads real Bot API Updates, checks the secret token, and does the
// right thing with each kind of sendMessage answer (429 retry_after honoured). Method: pure rules
// on Update JSON as the Bot API documents it.
import { describe, expect, it } from 'vitest';
import { ackText, readUpdate, replyText, secretMatches, sendOutcome } from './telegram-rules.ts';

const update = (message: Record<string, unknown>) => ({
  update_id: 10001,
  message: { message_id: 7, date: 1_765_000_000, chat: { id: 424242, type: 'private', first_name: 'Ann' }, from: { id: 424242, is_bot: false, first_name: 'Ann', last_name: 'Lee', language_code: 'zh-hans' }, ...message },
});

describe('telegram rules', () => {
  it('checks the secret token', () => {
    expect(secretMatches('s3cret-token-0123456789', 's3cret-token-0123456789')).toBe(true);
    expect(secretMatches('s3cret-token-012345678', 's3cret-token-0123456789')).toBe(false);
    expect(secretMatches(undefined, 's3cret-token-0123456789')).toBe(false);
    expect(secretMatches(['a', 'b'], 's3cret-token-0123456789')).toBe(false);
  });

  it('reads a person\'s message, with language and name', () => {
    expect(readUpdate(update({ text: '我的充值没到账' }))).toEqual({ kind: 'message', message: { chat_id: '424242', message_id: 7, text: '我的充值没到账', name: 'Ann Lee', locale: 'zh-CN' } });
    expect(readUpdate(update({ text: undefined, caption: 'receipt', photo: [{ file_id: 'x' }] }))).toMatchObject({ message: { text: '[photo] receipt' } });
  });

  it('ignores edits, bots and empty messages', () => {
    expect(readUpdate({ update_id: 1, edited_message: {} } as { message?: unknown })).toEqual({ kind: 'ignored', reason: 'not_a_message' });
    expect(readUpdate(update({ text: 'hi', from: { id: 1, is_bot: true } }))).toEqual({ kind: 'ignored', reason: 'from_a_bot' });
    expect(readUpdate(update({ text: '  ' }))).toEqual({ kind: 'ignored', reason: 'no_text' });
  });

  it('decides what a sendMessage answer means', () => {
    expect(sendOutcome(200, { ok: true, result: {} })).toEqual({ kind: 'sent' });
    expect(sendOutcome(429, { ok: false, error_code: 429, parameters: { retry_after: 3 } })).toEqual({ kind: 'retry_after', after_ms: 3000 });
    expect(sendOutcome(429, { ok: false, parameters: { retry_after: 99_999 } })).toEqual({ kind: 'retry_after', after_ms: 3_600_000 });
    expect(sendOutcome(429, null)).toEqual({ kind: 'retry' });
    expect(sendOutcome(502, null)).toEqual({ kind: 'retry' });
    expect(sendOutcome(200, { ok: false })).toEqual({ kind: 'retry' });
    expect(sendOutcome(403, { ok: false, description: 'Forbidden: bot was blocked by the user' })).toEqual({ kind: 'give_up', reason: '403 Forbidden: bot was blocked by the user' });
  });

  it('writes acknowledgements and replies in both languages within 4096 characters', () => {
    expect(ackText(1042, '2026年12月8日 10:00（北京时间）', 'zh-CN')).toContain('工单 #1042');
    expect(ackText(1042, null, 'en')).toBe('Thank you, we have opened case #1042. We will answer as soon as we can. Write here to add anything.');
    expect(replyText('x'.repeat(5000), 7, 'en')).toHaveLength(4096);
    expect(replyText('Found it.', 7, 'zh-CN')).toBe('Found it.\n\n—— Settle 客服，工单 #7');
  });
});
