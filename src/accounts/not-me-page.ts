// The pages of the "this wasn't me" link in new-device mail, as plain server-rendered HTML (no
// script, no outside resources). GET shows a confirmation with a button, because mail scanners
// and link previews fetch every link in a message: only the button's POST freezes.
import { translate, type Locale } from '../shared/i18n.ts';
import { notMePageMessages } from './accounts-messages.ts';

/** Headers for these pages: nothing may load or frame them, nothing may keep them. */
export const NOT_ME_PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
} as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(locale: Locale, title: string, inner: string): string {
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · Settle</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
button{font-size:1rem;padding:.7rem 1.2rem;border:0;border-radius:.4rem;background:#b3261e;color:#fff;cursor:pointer}
.note{color:#555;font-size:.9rem}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${inner}
</body></html>
`;
}

/** notMeConfirmPage('en', '/api/v1/auth/not-me', token) -> HTML with a POST form carrying the token. */
export function notMeConfirmPage(locale: Locale, action: string, token: string): string {
  const t = (k: keyof typeof notMePageMessages) => escapeHtml(translate(notMePageMessages, k, locale));
  return page(locale, translate(notMePageMessages, 'confirm_title', locale), `<p>${t('confirm_body')}</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">${t('confirm_button')}</button>
</form>
<p class="note">${t('confirm_ignore')}</p>`);
}

export function notMeDonePage(locale: Locale): string {
  return page(locale, translate(notMePageMessages, 'done_title', locale), `<p>${escapeHtml(translate(notMePageMessages, 'done_body', locale))}</p>`);
}

export function notMeExpiredPage(locale: Locale): string {
  return page(locale, translate(notMePageMessages, 'expired_title', locale), `<p>${escapeHtml(translate(notMePageMessages, 'expired_body', locale))}</p>`);
}
