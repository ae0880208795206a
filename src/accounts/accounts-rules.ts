// Pure rules of who people are and how they sign in: the password policy (NIST SP 800-63B-4),
// the login throttle (Keycloak's model), device fingerprints, email addresses, and the types of
// identity documents. How an account stands (states, freezes, unfreeze requirements, staff
// ranks, KYC limits) is in standing-rules.ts. No I/O here: the shipped password blocklist is read
// by common-passwords.ts and handed in.
import { defineMessages } from '../shared/i18n.ts';

// ---------------------------------------------------------------- constants
export const PASSWORD_LENGTH_MIN = 8;
/** NIST asks that at least 64 be allowed; LIMITS.password_length_max caps it above that. */
export const PASSWORD_LENGTH_ALLOWED = 64;
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;
/** Sessions refresh last_seen only this often, so that reads do not write on every request. */
export const SESSION_TOUCH_MS = 60_000;
export const STEP_UP_WINDOW_MS = 15 * 60_000;
export const RECOVERY_CODES_COUNT = 10;
export const NOT_ME_TOKEN_TTL_MS = 7 * 24 * 3600_000;
/** A registration with a taken email mails its owner at most this often (no mail-bombing through the form). */
export const REGISTER_ATTEMPT_MAIL_MS = 3600_000;
export const IP_FAILURES_MAX = 100;
export const IP_WINDOW_MS = 15 * 60_000;
export const API_KEY_SCOPES = ['invoices:write', 'invoices:read', 'payments:read', 'webhooks:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

// ---------------------------------------------------------------- email
const EMAIL_RE = /^[^\s@"<>()\\,;:[\]]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** normalizeEmail(' Ann@Example.COM ') -> 'ann@example.com', or null when it is not an address. */
export function normalizeEmail(raw: string, length_max = 254): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length === 0 || email.length > length_max) return null;
  return EMAIL_RE.test(email) ? email : null;
}

// ---------------------------------------------------------------- passwords
/** parsePasswordList('# comment\npassword\n') -> Set { 'password' }: one password a line, `#` lines are comments. */
export function parsePasswordList(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l && !l.startsWith('#')));
}

export type PasswordVerdict =
  | { ok: true }
  | { ok: false; reason: 'too_short' | 'too_long' | 'common' | 'contains_email' | 'repetitive' };

/**
 * checkPassword('correct horse battery', 'ann@example.com', 256, commonPasswords()) -> { ok: true }
 * NIST 800-63B-4: length between 8 and (at least) 64, any characters, no composition rules,
 * refused when it is on a list of common or breached passwords or is context-specific.
 * Length counts Unicode code points after NFC normalisation.
 */
export function checkPassword(password: string, email: string | null, length_max: number, common: ReadonlySet<string>): PasswordVerdict {
  const normalized = password.normalize('NFC');
  const length = [...normalized].length;
  if (length < PASSWORD_LENGTH_MIN) return { ok: false, reason: 'too_short' };
  if (length > length_max) return { ok: false, reason: 'too_long' };
  const lower = normalized.toLowerCase();
  if (common.has(lower)) return { ok: false, reason: 'common' };
  if (/^(.)\1+$/u.test(normalized) || /^(?:0123456789|1234567890|abcdefgh)/.test(lower) && lower.length <= 12) return { ok: false, reason: 'repetitive' };
  if (email) {
    const local = email.split('@')[0] ?? '';
    if (lower === email || (local.length >= 4 && lower.includes(local)) || lower.includes('settle')) return { ok: false, reason: 'contains_email' };
  }
  return { ok: true };
}

export const passwordMessages = defineMessages({
  too_short: { en: 'Use at least 8 characters (12 or more is better; a phrase of several words works well).', 'zh-CN': '密码至少需要 8 个字符(建议 12 个以上,可以用几个词组成的短语)。' },
  too_long: { en: 'That password is longer than we accept ({max} characters).', 'zh-CN': '密码超过了允许的长度({max} 个字符)。' },
  common: { en: 'That password is on a list of common or leaked passwords; attackers try these first. Choose another.', 'zh-CN': '该密码在常见或已泄露的密码列表中,攻击者会优先尝试,请换一个。' },
  contains_email: { en: 'Do not use your email address or the name of this service in your password.', 'zh-CN': '密码中不要包含您的邮箱地址或本服务的名称。' },
  repetitive: { en: 'That password is a simple repetition or sequence; choose another.', 'zh-CN': '该密码是简单的重复或序列,请换一个。' },
});

// ---------------------------------------------------------------- throttle
export interface ThrottlePolicy {
  failures_before_wait: number;
  first_wait_s: number;
  wait_s_max: number;
  reset_after_s: number;
}

export interface ThrottleState {
  failures: number;
  window_started_at_ms: number;
  last_failure_at_ms: number;
  wait_until_ms: number;
}

/** Seconds to wait before the next attempt, or 0 when one may be made now. */
export function throttleRetryAfterS(state: ThrottleState | null, now_ms: number): number {
  if (!state || state.wait_until_ms <= now_ms) return 0;
  return Math.max(1, Math.ceil((state.wait_until_ms - now_ms) / 1000));
}

/**
 * The account state after one more failure (Keycloak's brute-force model): from the
 * `failures_before_wait`-th consecutive failure the account waits `first_wait_s`, doubling with
 * each further failure up to `wait_s_max`; the count forgets after `reset_after_s` of quiet.
 * accountFailure(null, 0, p) -> { failures: 1, wait_until_ms: 0, … }
 */
export function accountFailure(prev: ThrottleState | null, now_ms: number, p: ThrottlePolicy): ThrottleState {
  const fresh = !prev || now_ms - prev.last_failure_at_ms >= p.reset_after_s * 1000;
  const failures = fresh ? 1 : prev.failures + 1;
  let wait_until_ms = fresh ? 0 : prev.wait_until_ms;
  if (failures >= p.failures_before_wait) {
    const doublings = Math.min(failures - p.failures_before_wait, 30);
    const wait_s = Math.min(p.first_wait_s * 2 ** doublings, p.wait_s_max);
    wait_until_ms = now_ms + wait_s * 1000;
  }
  return { failures, window_started_at_ms: fresh ? now_ms : prev.window_started_at_ms, last_failure_at_ms: now_ms, wait_until_ms };
}

/** The IP state after one more failure: a fixed 15-minute window of 100 failures, far looser than per account. */
export function ipFailure(prev: ThrottleState | null, now_ms: number, failures_max = IP_FAILURES_MAX, window_ms = IP_WINDOW_MS): ThrottleState {
  const fresh = !prev || now_ms - prev.window_started_at_ms >= window_ms;
  const window_started_at_ms = fresh ? now_ms : prev.window_started_at_ms;
  const failures = fresh ? 1 : prev.failures + 1;
  const wait_until_ms = failures >= failures_max ? window_started_at_ms + window_ms : 0;
  return { failures, window_started_at_ms, last_failure_at_ms: now_ms, wait_until_ms };
}

// ---------------------------------------------------------------- devices
/** Browser or client family from a User-Agent: coarse on purpose (versions change every month). */
export function uaFamily(ua: string | null | undefined): string {
  const s = ua ?? '';
  const browser = /Edg\//.test(s) ? 'Edge' : /OPR\/|Opera/.test(s) ? 'Opera' : /Firefox\//.test(s) ? 'Firefox' : /Chrome\//.test(s) ? 'Chrome' : /Safari\//.test(s) ? 'Safari' : /curl\//i.test(s) ? 'curl' : s ? (s.split(/[/\s]/)[0] ?? 'other').slice(0, 32) : 'unknown';
  const os = /Windows/.test(s) ? 'Windows' : /Android/.test(s) ? 'Android' : /iPhone|iPad|iOS/.test(s) ? 'iOS' : /Mac OS X|Macintosh/.test(s) ? 'macOS' : /Linux/.test(s) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

/** The network of an address: IPv4 /24, IPv6 /48. networkOf('203.0.113.9') -> '203.0.113.0/24' */
export function networkOf(ip: string | null | undefined): string {
  const addr = (ip ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(addr);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (addr.includes(':')) {
    const [head = '', tail = ''] = addr.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = addr.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
    return `${groups.slice(0, 3).map((g) => (g || '0').toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/48`;
  }
  return 'unknown';
}

export function deviceFingerprint(ua: string | null | undefined, ip: string | null | undefined): { fingerprint: string; ua_family: string; network: string } {
  const ua_family = uaFamily(ua);
  const network = networkOf(ip);
  return { fingerprint: `${ua_family}|${network}`, ua_family, network };
}

// ---------------------------------------------------------------- uploads
export const KYC_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type KycContentType = (typeof KYC_CONTENT_TYPES)[number];

/** The type of a file by its first bytes (never by its name or declared type). */
export function sniffContentType(bytes: Uint8Array): KycContentType | null {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47 && b(4) === 0x0d && b(5) === 0x0a && b(6) === 0x1a && b(7) === 0x0a) return 'image/png';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45 && b(10) === 0x42 && b(11) === 0x50) return 'image/webp';
  if (b(0) === 0x25 && b(1) === 0x50 && b(2) === 0x44 && b(3) === 0x46 && b(4) === 0x2d) return 'application/pdf';
  return null;
}
