// Webhooks as pure rules: Standard Webhooks signatures, the retry schedule, event matching and
// the SSRF guard's address ranges.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { assert } from '../shared/assert.ts';

/**
 * A new endpoint secret: whsec_ + base64 of 32 random bytes, which the caller draws (a rules file
 * does no I/O): newWebhookSecret(randomBytes(32)) -> 'whsec_…'
 */
export function newWebhookSecret(random: Uint8Array): string {
  assert(random.length === 32, `a webhook secret takes 32 random bytes, got ${random.length}`);
  return `whsec_${Buffer.from(random).toString('base64')}`;
}

/**
 * The webhook-signature header value (Standard Webhooks): v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body"> keyed by the base64-decoded part of the secret after `whsec_`.
 * signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 *   -> 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function signWebhook(secret: string, id: string, timestamp_s: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp_s}.${body}`).digest('base64')}`;
}

/** Verifies a webhook-signature header (space-separated list of versioned signatures). */
export function verifyWebhook(secret: string, id: string, timestamp_s: number, body: string, header: string): boolean {
  const expected = Buffer.from(signWebhook(secret, id, timestamp_s, body));
  return header.split(' ').some((s) => {
    const got = Buffer.from(s);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

export const RETRY_BASE_MS = 10_000;
export const RETRY_DELAY_MS_MAX = 6 * 3600_000;

/**
 * Delay before attempt n+1 after n failed attempts: 10 s, 20 s, 40 s … capped at 6 h. With 30
 * attempts the schedule spans more than 4 days (≥ 3 days required).
 * retryDelayMs(1) -> 10 000
 */
export function retryDelayMs(failed_attempts: number): number {
  const exp = Math.min(30, Math.max(0, failed_attempts - 1));
  return Math.min(RETRY_DELAY_MS_MAX, RETRY_BASE_MS * 2 ** exp);
}

/** Total time from the first attempt to the last one. */
export function retrySpanMs(attempts_max: number): number {
  let total = 0;
  for (let n = 1; n < attempts_max; n++) total += retryDelayMs(n);
  return total;
}

/** matchesEvent(['payment.*'], 'payment.credited') -> true; '*' matches everything. */
export function matchesEvent(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}

export const EVENT_PATTERN_RE = /^(\*|[a-z_]+\.(\*|[a-z_]+))$/;

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
// 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) carry an IPv4 address inside: through a NAT64 or
// 6to4 gateway they reach it, internal ones included, so neither is a public destination.
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/** isPrivateAddress('10.1.2.3') -> true; handles IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isPrivateAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = isIP(ip);
  if (family === 4) return PRIVATE.check(ip, 'ipv4');
  if (family === 6) return PRIVATE.check(ip, 'ipv6');
  return true; // not an address: refuse
}

export type UrlRefusal = 'malformed' | 'scheme' | 'credentials' | 'private_address';

/** Shape checks before DNS: http(s) only (https unless private URLs are allowed), no user:pass@. */
export function checkWebhookUrl(text: string, allow_private: boolean): { ok: true; url: URL } | { ok: false; reason: UrlRefusal } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (url.protocol !== 'https:' && !(allow_private && url.protocol === 'http:')) return { ok: false, reason: 'scheme' };
  if (url.username || url.password) return { ok: false, reason: 'credentials' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allow_private && (isIP(host) ? isPrivateAddress(host) : host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal'))) return { ok: false, reason: 'private_address' };
  return { ok: true, url };
}
