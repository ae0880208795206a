// What the desk itself writes on cases (system messages), in en and zh-CN.
import { defineMessages, translate, type Locale } from '../shared/i18n.ts';

const M = defineMessages({
  chain_wait: {
    en: 'Settle answered at once: {message} {until}This case waits with the payment and will tell you when it moves; you do not need to do anything.',
    'zh-CN': 'Settle 自动回复：{message}{until}本工单会随这笔款项一起等待，款项一有进展就会通知您，您无需做任何事。',
  },
  until: { en: 'Expected by {eta}. ', 'zh-CN': '预计在 {eta} 前完成。' },
  moved_on: {
    en: 'The payment has moved on: it is now {status}. This case is resolved; write here if anything is still wrong.',
    'zh-CN': '这笔款项已有进展，当前状态：{status}。本工单已解决；如仍有问题，请直接在此回复。',
  },
  stuck_opened: {
    en: 'Your payment {payment_id} ({kind}, {status}) is taking longer than it should (expected about {expected_min} minutes). We opened this case ourselves and are looking into it; it resolves by itself when the payment moves on.',
    'zh-CN': '您的款项 {payment_id}（{kind}，{status}）处理时间超出预期（预计约 {expected_min} 分钟）。我们已主动为您创建此工单并正在处理；款项有进展时工单会自动解决。',
  },
  stuck_subject: { en: 'Your {kind} is taking longer than expected', 'zh-CN': '您的{kind}处理时间超出预期' },
});

/** chainWaitMessage('en', 'Waiting for 3 confirmations.', '2026-…Z') -> the automatic answer */
export function chainWaitMessage(locale: Locale, message: string, eta: string | null): string {
  const until = eta ? translate(M, 'until', locale, { eta }) : '';
  return translate(M, 'chain_wait', locale, { message, until });
}

export function movedOnMessage(locale: Locale, status: string): string {
  return translate(M, 'moved_on', locale, { status });
}

export function stuckMessages(locale: Locale, p: { payment_id: string; kind: string; status: string; expected_ms: number }): { subject: string; body: string } {
  return {
    subject: translate(M, 'stuck_subject', locale, { kind: p.kind }),
    body: translate(M, 'stuck_opened', locale, { payment_id: p.payment_id, kind: p.kind, status: p.status, expected_min: String(Math.round(p.expected_ms / 60_000)) }),
  };
}
