// Pure rules of how an account stands: its states and their transitions, what each state may do
// (send, withdraw, receive), freeze reasons with their texts and the requirements and approvals
// that lift them, the cool-down after an unfreeze, which staff may act on whom, and KYC limits.
// The acts that apply them are in standing.ts and unfreeze-requests.ts.
import { assertNever } from '../shared/assert.ts';
import { defineMessages, translate, type Locale } from '../shared/i18n.ts';
import type { Role, UserStatus } from '../shared/principal.ts';

/** Withdrawals stay blocked this long after an unfreeze. */
export const COOLDOWN_MS = 24 * 3600_000;

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
