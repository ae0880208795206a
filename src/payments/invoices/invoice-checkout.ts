// The payer's public checkout page: GET /checkout/{id} (route module with prefix '', no auth).
// Server-rendered HTML in zh-CN or en (?lang= first, then Accept-Language) with the amount, the
// address, a QR code of the EIP-681 payment request (SVG, drawn server-side by `qrcode`), a
// countdown to expiry and the live status, which a small static script polls from
// GET /api/v1/checkout/{id}/status. Nothing about the merchant (id, order, metadata) is shown.
//
// Security: the page carries its own CSP. Scripts and styles come only from this origin
// (/checkout/assets/*), so no inline script or style is needed; the QR code is inline SVG markup
// (presentation attributes, no style attributes).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import QRCode from 'qrcode';
import { defineMessages, pickLocale, translate, type Locale } from '../../shared/i18n.ts';
import { checkoutStatus, type CheckoutStatus } from './invoice-dto.ts';
import type { Invoices } from './invoices.ts';

export const CHECKOUT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const M = defineMessages({
  title: { en: 'Pay invoice', 'zh-CN': '支付账单' },
  send: { en: 'Send exactly {amount} {asset} to this address', 'zh-CN': '请向以下地址转账 {amount} {asset}' },
  network: { en: 'Network (chain id): {chain_id}', 'zh-CN': '网络(链 ID):{chain_id}' },
  address: { en: 'Address', 'zh-CN': '地址' },
  scan: { en: 'Scan with your wallet', 'zh-CN': '用钱包扫码支付' },
  uri: { en: 'Payment request (EIP-681)', 'zh-CN': '支付请求(EIP-681)' },
  expires: { en: 'Time left', 'zh-CN': '剩余时间' },
  paid: { en: 'Received so far: {paid} {asset}', 'zh-CN': '已收到:{paid} {asset}' },
  status_label: { en: 'Status', 'zh-CN': '状态' },
  st_new: { en: 'Waiting for your payment', 'zh-CN': '等待付款' },
  st_processing: { en: 'Payment received, confirming on the network', 'zh-CN': '已收到付款,正在网络上确认' },
  st_settled: { en: 'Paid. Thank you!', 'zh-CN': '已支付,谢谢!' },
  st_expired: { en: 'This invoice has expired', 'zh-CN': '此账单已过期' },
  st_invalid: { en: 'This invoice is no longer valid', 'zh-CN': '此账单已失效' },
  ex_paid_partial: { en: 'Partly paid: please send the rest before the time runs out.', 'zh-CN': '部分付款:请在到期前补足余款。' },
  ex_paid_over: { en: 'You paid more than was due; the merchant can refund the difference.', 'zh-CN': '您多付了款项,商户可以退还差额。' },
  ex_paid_late: { en: 'Your payment arrived after expiry. It is safe: the merchant received it and will accept or refund it.', 'zh-CN': '您的付款在过期后到达。款项安全:商户已收到,将决定接受或退款。' },
  ex_marked: { en: 'The merchant has closed this invoice.', 'zh-CN': '商户已处理此账单。' },
  not_found: { en: 'No such invoice.', 'zh-CN': '账单不存在。' },
});
type Key = keyof typeof M;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function statusText(s: CheckoutStatus, locale: Locale): { status: string; exception: string } {
  return { status: translate(M, `st_${s.status}` as Key, locale), exception: s.exception ? translate(M, `ex_${s.exception}` as Key, locale) : '' };
}

/** The page, as a string (tests read it; the route sends it). */
export async function renderCheckout(s: CheckoutStatus, locale: Locale): Promise<string> {
  const t = (k: Key, p: Record<string, string | number> = {}) => esc(translate(M, k, locale, p));
  const qr = await QRCode.toString(s.payment_uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
  const st = statusText(s, locale);
  // Texts for the script, so that the page updates in the page's language without a round trip.
  const texts: Record<string, string> = {};
  for (const k of Object.keys(M) as Key[]) if (k.startsWith('st_') || k.startsWith('ex_')) texts[k] = translate(M, k, locale);
  texts.paid = translate(M, 'paid', locale);
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${t('title')}</title>
<link rel="stylesheet" href="/checkout/assets/checkout.css">
<script src="/checkout/assets/checkout.js" defer></script>
</head>
<body>
<main id="checkout" data-id="${esc(s.id)}" data-expires-at="${esc(s.expires_at)}" data-asset="${esc(s.asset)}" data-texts="${esc(JSON.stringify(texts))}">
<h1>${t('title')}</h1>
<p class="amount">${t('send', { amount: s.amount_due, asset: s.asset })}</p>
<p class="network">${t('network', { chain_id: s.chain_id })}</p>
<div class="qr" role="img" aria-label="${t('scan')}">${qr}</div>
<p><strong>${t('address')}</strong><br><code id="address">${esc(s.address)}</code></p>
<details><summary>${t('uri')}</summary><code id="uri">${esc(s.payment_uri)}</code></details>
<p><strong>${t('expires')}</strong>: <span id="countdown">--:--</span></p>
<p><strong>${t('status_label')}</strong>: <span id="status" data-status="${esc(s.status)}">${esc(st.status)}</span></p>
<p id="exception">${esc(st.exception)}</p>
<p id="paid">${t('paid', { paid: s.amount_paid, asset: s.asset })}</p>
</main>
</body>
</html>
`;
}

/** Polls the status every 5 s and counts down; served as a file so the CSP needs no 'unsafe-inline'. */
export const CHECKOUT_JS = `'use strict';
(function () {
  var root = document.getElementById('checkout');
  if (!root) return;
  var id = root.getAttribute('data-id');
  var asset = root.getAttribute('data-asset');
  var expires = Date.parse(root.getAttribute('data-expires-at'));
  var texts = JSON.parse(root.getAttribute('data-texts'));
  var done = false;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    document.getElementById('countdown').textContent = (h ? h + ':' : '') + pad(m) + ':' + pad(s);
  }
  function show(st) {
    var el = document.getElementById('status');
    el.textContent = texts['st_' + st.status] || st.status;
    el.setAttribute('data-status', st.status);
    document.getElementById('exception').textContent = st.exception ? (texts['ex_' + st.exception] || st.exception) : '';
    document.getElementById('paid').textContent = texts.paid.replace('{paid}', st.amount_paid).replace('{asset}', asset);
    done = st.status === 'settled' || st.status === 'invalid';
  }
  function poll() {
    if (done) return;
    fetch('/api/v1/checkout/' + encodeURIComponent(id) + '/status', { headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) { if (st) show(st); })
      .catch(function () { /* the next poll retries */ });
  }
  tick();
  setInterval(tick, 1000);
  setInterval(poll, 5000);
})();
`;

export const CHECKOUT_CSS = `body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f6f8;color:#111}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin-top:0}.amount{font-size:1.1rem;font-weight:600}.qr svg{width:100%;max-width:16rem;height:auto;display:block;margin:1rem auto}
code{word-break:break-all;font-size:.9rem}#status[data-status=settled]{color:#0a7d32}#status[data-status=expired],#status[data-status=invalid]{color:#b3261e}
`;

export function checkoutPage(deps: { invoices: Invoices }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/checkout/:id',
      {
        schema: {
          tags: ['invoices'],
          summary: 'The payer\'s checkout page (HTML, zh-CN or en)',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          querystring: Type.Object({ lang: Type.Optional(Type.String({ maxLength: 10 })) }, { additionalProperties: false }),
          produces: ['text/html'],
        },
      },
      async (req, reply) => {
        const locale = pickLocale(req.query.lang ?? null, req.headers['accept-language']);
        reply.header('content-security-policy', CHECKOUT_CSP).header('cache-control', 'no-store').header('content-language', locale).type('text/html; charset=utf-8');
        const r = /^inv_[0-9a-z]+$/.test(req.params.id) ? await deps.invoices.get(req.params.id) : null;
        if (!r) return reply.code(404).send(`<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>404</title></head><body><p>${esc(translate(M, 'not_found', locale))}</p></body></html>`);
        return reply.send(await renderCheckout(checkoutStatus(deps.invoices, r), locale));
      },
    );
    app.get('/checkout/assets/checkout.js', { schema: { hide: true } }, async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=300').type('text/javascript; charset=utf-8').send(CHECKOUT_JS),
    );
    app.get('/checkout/assets/checkout.css', { schema: { hide: true } }, async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(CHECKOUT_CSS),
    );
  };
}
