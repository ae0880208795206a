// Pure rules of accounts and account security: the password policy (NIST SP 800-63B-4), the
// login throttle (Keycloak's model), device fingerprints, account states and their transitions,
// freeze reasons with their texts and unfreeze requirements, and KYC limits. No I/O here: the
// shipped password blocklist is read by common-passwords.ts and handed in.
import { assertNever } from '../shared/assert.ts';
import { defineMessages, translate, type Locale } from '../shared/i18n.ts';
import type { Role, UserStatus } from '../shared/principal.ts';

// ---------------------------------------------------------------- constants
export const PASSWORD_LENGTH_MIN = 8;
/** NIST asks that at least 64 be allowed; LIMITS.password_length_max caps it above that. */
export const PASSWORD_LENGTH_ALLOWED = 64;
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;
/** Sessions refresh last_seen only this often, so that reads do not write on every request. */
export const SESSION_TOUCH_MS = 60_000;
export const STEP_UP_WINDOW_MS = 15 * 60_000;
export const COOLDOWN_MS = 24 * 3600_000;
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

// ---------------------------------------------------------------- states
export const USER_STATUSES: readonly UserStatus[] = ['active', 'restricted', 'frozen', 'closed'];
export type StatusAction = 'freeze' | 'unfreeze' | 'restrict' | 'lift_restriction' | 'close';

/**
 * The account state machine. nextStatus('active', 'freeze') -> 'frozen'; null means refused.
 * A frozen account stays frozen when restricted (the stronger state wins); closed is final.
 */
export function nextStatus(current: UserStatus, action: StatusAction): UserStatus | null {
  switch (current) {
    case 'active':
      switch (action) {
        case 'freeze': return 'frozen';
        case 'restrict': return 'restricted';
        case 'close': return 'closed';
        case 'unfreeze': case 'lift_restriction': return null;
        default: return assertNever(action, 'action');
      }
    case 'restricted':
      switch (action) {
        case 'freeze': return 'frozen';
        case 'lift_restriction': return 'active';
        case 'close': return 'closed';
        case 'restrict': case 'unfreeze': return null;
        default: return assertNever(action, 'action');
      }
    case 'frozen':
      // A restriction imposed or lifted while frozen is recorded beside the freeze
      // (users.restricted_at_ms) and leaves the account frozen; the unfreeze then lands on
      // `restricted` while a restriction stands (statusAfterUnfreeze).
      switch (action) {
        case 'freeze': return 'frozen';
        case 'unfreeze': return 'active';
        case 'close': return 'closed';
        case 'restrict': case 'lift_restriction': return 'frozen';
        default: return assertNever(action, 'action');
      }
    case 'closed':
      return null;
    default:
      return assertNever(current, 'status');
  }
}

/** Where an unfreeze lands: a restriction survives freezes and unfreezes; only its own lift ends it. */
export function statusAfterUnfreeze(restricted: boolean): UserStatus {
  return restricted ? 'restricted' : 'active';
}

export type Refusal = 'account_frozen' | 'account_restricted' | 'account_closed' | 'cooldown';
export type Permission = { ok: true } | { ok: false; code: Refusal; until_ms: number | null };

/** May this account send (internal transfers, trades)? Only an active one. */
export function sendPermission(status: UserStatus): Permission {
  switch (status) {
    case 'active': return { ok: true };
    case 'restricted': return { ok: false, code: 'account_restricted', until_ms: null };
    case 'frozen': return { ok: false, code: 'account_frozen', until_ms: null };
    case 'closed': return { ok: false, code: 'account_closed', until_ms: null };
    default: return assertNever(status, 'status');
  }
}

/** Withdrawals (and P2P selling) also wait out the 24 h cool-down after an unfreeze. */
export function withdrawPermission(status: UserStatus, cooldown_until_ms: number | null, now_ms: number): Permission {
  const send = sendPermission(status);
  if (!send.ok) return send;
  if (cooldown_until_ms !== null && cooldown_until_ms > now_ms) return { ok: false, code: 'cooldown', until_ms: cooldown_until_ms };
  return { ok: true };
}

/** May this account receive? Always, except closed; a frozen account's arrivals are held. */
export function receiveMode(status: UserStatus): 'credit' | 'hold' | 'refuse' {
  switch (status) {
    case 'active': case 'restricted': return 'credit';
    case 'frozen': return 'hold';
    case 'closed': return 'refuse';
    default: return assertNever(status, 'status');
  }
}

// ---------------------------------------------------------------- freezes
export const FREEZE_REASONS = ['abnormal_login', 'abnormal_activity', 'unverified_identity', 'user_request', 'compliance'] as const;
export type FreezeReason = (typeof FREEZE_REASONS)[number];
export const UNFREEZE_REQUIREMENTS = ['identity_verified', 'password_changed', 'second_factor_rebound'] as const;
export type UnfreezeRequirement = (typeof UNFREEZE_REQUIREMENTS)[number];

/** What the user must have done (after the freeze) before staff may lift it. */
export function unfreezeRequirements(reason: FreezeReason): UnfreezeRequirement[] {
  switch (reason) {
    case 'abnormal_login': return ['password_changed', 'second_factor_rebound'];
    case 'abnormal_activity': return ['identity_verified'];
    case 'unverified_identity': return ['identity_verified'];
    case 'user_request': return ['password_changed'];
    case 'compliance': return ['identity_verified'];
    default: return assertNever(reason, 'reason');
  }
}

/** How many different staff members must approve. */
export function approvalsRequired(reason: FreezeReason): number {
  switch (reason) {
    case 'compliance': return 2;
    case 'abnormal_login': case 'abnormal_activity': case 'unverified_identity': case 'user_request': return 1;
    default: return assertNever(reason, 'reason');
  }
}

export interface UserFacts {
  password_changed_at_ms: number;
  totp_enabled: boolean;
  totp_bound_at_ms: number | null;
  identity_verified_at_ms: number | null;
  /** Latest KYC document upload, if any. */
  last_kyc_document_at_ms: number | null;
}

/** Whether a requirement is met for a freeze that began at `since_ms` (done at or after it). */
export function requirementMet(req: UnfreezeRequirement, facts: UserFacts, since_ms: number): boolean {
  switch (req) {
    case 'password_changed': return facts.password_changed_at_ms >= since_ms;
    case 'second_factor_rebound': return facts.totp_enabled && (facts.totp_bound_at_ms ?? -1) >= since_ms;
    case 'identity_verified': return (facts.identity_verified_at_ms ?? -1) >= since_ms || (facts.last_kyc_document_at_ms ?? -1) >= since_ms;
    default: return assertNever(req, 'requirement');
  }
}

export interface ActiveFreeze {
  reason: FreezeReason;
  created_at_ms: number;
}

/** The requirements of all active freezes together, each with whether it is met, and approvals needed. */
export function unfreezePlan(freezes: ActiveFreeze[], facts: UserFacts): { requirements: Array<{ code: UnfreezeRequirement; met: boolean }>; approvals_required: number } {
  const out = new Map<UnfreezeRequirement, boolean>();
  let approvals_required = 1;
  for (const f of freezes) {
    approvals_required = Math.max(approvals_required, approvalsRequired(f.reason));
    for (const r of unfreezeRequirements(f.reason)) out.set(r, (out.get(r) ?? true) && requirementMet(r, facts, f.created_at_ms));
  }
  return { requirements: [...out].map(([code, met]) => ({ code, met })), approvals_required };
}

export const freezeMessages = defineMessages({
  abnormal_login: {
    en: 'We froze your account because of a sign-in we could not confirm was you (a new device or place, or repeated failed attempts). Nothing can leave the account; incoming funds are kept safe as held.',
    'zh-CN': '由于检测到无法确认是您本人的登录(新设备或新地点,或多次失败的尝试),我们冻结了您的账户。资金无法转出;转入的资金会被安全地暂存(冻结余额)。',
  },
  abnormal_activity: {
    en: 'We froze your account because of unusual payment activity (for example several large transactions). Nothing can leave the account; incoming funds are held safely.',
    'zh-CN': '由于检测到异常的支付行为(例如多笔大额交易),我们冻结了您的账户。资金无法转出;转入的资金会被安全地暂存。',
  },
  unverified_identity: {
    en: 'Your account is frozen because your identity has not been verified yet.',
    'zh-CN': '由于您的身份信息尚未验证,您的账户已被冻结。',
  },
  user_request: {
    en: 'You froze your account yourself. Nothing can leave it until it is unfrozen; incoming funds are held safely.',
    'zh-CN': '您主动冻结了账户。解冻前资金无法转出;转入的资金会被安全地暂存。',
  },
  compliance: {
    en: 'Your account is frozen for a compliance review. Two members of our staff must approve lifting it.',
    'zh-CN': '您的账户因合规审查被冻结,解冻需要两名工作人员审批。',
  },
});

export const requirementMessages = defineMessages({
  identity_verified: { en: 'Verify your identity: upload an identity document (Account → Verification).', 'zh-CN': '验证身份:上传身份证件(账户 → 身份验证)。' },
  password_changed: { en: 'Change your password.', 'zh-CN': '修改您的密码。' },
  second_factor_rebound: { en: 'Set up two-factor authentication again with a new authenticator secret.', 'zh-CN': '使用新的密钥重新绑定双重验证(2FA)。' },
});

/** The words a user sees about a freeze: why, and what to do. */
export function explainFreeze(reason: FreezeReason, locale: Locale): { reason: FreezeReason; message: string; what_to_do: string[] } {
  return {
    reason,
    message: translate(freezeMessages, reason, locale),
    what_to_do: [
      ...unfreezeRequirements(reason).map((r) => translate(requirementMessages, r, locale)),
      locale === 'zh-CN' ? '然后提交解冻申请;工作人员审核后即可解冻。解冻后 24 小时内不能提现。' : 'Then ask to be unfrozen; staff review the request. Withdrawals stay blocked for 24 hours after an unfreeze.',
    ],
  };
}

// ---------------------------------------------------------------- roles and KYC
/**
 * What staff write for staff — the note of a freeze, an unfreeze approval, a restriction's lift —
 * is left out of the user's own security log (issue 16); the event itself stays, and staff read
 * the note in /admin/audit.
 */
const STAFF_ONLY_DETAILS: ReadonlySet<string> = new Set(['note']);

/** An audit row's details as the user sees them in their own security log. ownDetails({ reason: 'compliance', note: 'SAR' }) -> { reason: 'compliance' } */
export function ownDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([k]) => !STAFF_ONLY_DETAILS.has(k)));
}

/** Who may do what among staff actions. */
export const STAFF_ACTIONS = {
  read_users: ['agent', 'risk', 'admin'],
  freeze: ['agent', 'risk', 'admin'],
  freeze_compliance: ['risk', 'admin'],
  restrict: ['risk', 'admin'],
  unfreeze: ['agent', 'risk', 'admin'],
  audit: ['risk', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

/** How far each role reaches: staff may act on accounts strictly below their highest role. */
export const ROLE_RANK: Record<Role, number> = { user: 0, merchant: 0, agent: 1, risk: 2, admin: 3 };

export function roleRank(roles: readonly Role[]): number {
  return Math.max(0, ...roles.map((r) => ROLE_RANK[r]));
}

/**
 * May a staff member with `actor` roles take a staff action (freeze, unfreeze, restrict, KYC)
 * on an account with `target` roles? Only on lower ranks, unless the actor is an admin.
 * staffMayActOn(['agent'], ['admin']) -> false; staffMayActOn(['risk'], ['user', 'agent']) -> true
 */
export function staffMayActOn(actor: readonly Role[], target: readonly Role[]): boolean {
  return actor.includes('admin') || roleRank(actor) > roleRank(target);
}

/** Something staff lift: a restriction, or a freeze with its reason; `by_roles` are the imposer's (null: not staff, or unknown). */
export interface Imposed {
  kind: 'restriction' | FreezeReason;
  by_roles: readonly Role[] | null;
}

/**
 * The lowest rank that may lift all of `imposed`: at least the imposer's own, and at least risk
 * for a restriction or a compliance freeze (only risk and admin impose those).
 * liftRankRequired([{ kind: 'compliance', by_roles: ['risk'] }]) -> 2; a user's own freeze -> 0
 */
export function liftRankRequired(imposed: readonly Imposed[]): number {
  let rank = 0;
  for (const i of imposed) {
    const floor = i.kind === 'restriction' || i.kind === 'compliance' ? ROLE_RANK.risk : 0;
    rank = Math.max(rank, floor, i.by_roles ? roleRank(i.by_roles) : 0);
  }
  return rank;
}

export interface KycLimits {
  /** Amounts are in a reference unit: US dollar cents (stablecoins count 1:1). Null = no limit. */
  reference: 'USD';
  decimals: 2;
  daily_withdrawal_minor: bigint;
  single_transfer_minor: bigint;
}

/** kycLimits(0) -> { daily_withdrawal_minor: 100000n (1,000 USD), single_transfer_minor: 50000n } */
export function kycLimits(level: number): KycLimits {
  const table: Record<number, [bigint, bigint]> = {
    0: [1_000_00n, 500_00n],
    1: [20_000_00n, 10_000_00n],
    2: [250_000_00n, 100_000_00n],
  };
  const [daily, single] = table[Math.max(0, Math.min(2, Math.floor(level)))]!;
  return { reference: 'USD', decimals: 2, daily_withdrawal_minor: daily, single_transfer_minor: single };
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
