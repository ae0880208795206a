// Goal: the pure rules of how an account stands — the state machine and what each state may do,
// who may lift what, freeze texts, unfreeze requirements and approvals, KYC limits, and who among
// staff may act on whom.
// Method: plain unit tests plus a fast-check property over the state machine.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FREEZE_REASONS, USER_STATUSES, approvalsRequired, explainFreeze, kycLimits, liftRankRequired, nextStatus, ownDetails, statusAfterUnfreeze, staffMayActOn, unfreezePlan, withdrawPermission, sendPermission, type StatusAction } from './standing-rules.ts';

describe('account states', () => {
  it('follows the transition table', () => {
    expect(nextStatus('active', 'freeze')).toBe('frozen');
    expect(nextStatus('restricted', 'freeze')).toBe('frozen');
    expect(nextStatus('frozen', 'unfreeze')).toBe('active');
    expect(nextStatus('active', 'unfreeze')).toBeNull();
    // A restriction while frozen is kept beside the freeze; the account stays frozen (issue 16).
    expect(nextStatus('frozen', 'restrict')).toBe('frozen');
    expect(nextStatus('restricted', 'lift_restriction')).toBe('active');
    expect([statusAfterUnfreeze(true), statusAfterUnfreeze(false)]).toEqual(['restricted', 'active']);
  });
  it('lifting needs a role at least the imposer\'s, and risk for restrictions and compliance freezes', () => {
    expect(liftRankRequired([{ kind: 'user_request', by_roles: null }])).toBe(0);
    expect(liftRankRequired([{ kind: 'abnormal_activity', by_roles: ['agent'] }])).toBe(1);
    expect(liftRankRequired([{ kind: 'abnormal_activity', by_roles: ['risk'] }])).toBe(2);
    expect(liftRankRequired([{ kind: 'compliance', by_roles: null }])).toBe(2);
    expect(liftRankRequired([{ kind: 'restriction', by_roles: ['agent'] }, { kind: 'user_request', by_roles: ['admin'] }])).toBe(3);
  });
  it('keeps staff notes out of the user\'s own log', () => {
    expect(ownDetails({ reason: 'compliance', note: 'SAR', sessions_ended: 1 })).toEqual({ reason: 'compliance', sessions_ended: 1 });
  });
  it('closed is final and every answer is a known status (property)', () => {
    const actions: StatusAction[] = ['freeze', 'unfreeze', 'restrict', 'lift_restriction', 'close'];
    fc.assert(
      fc.property(fc.constantFrom(...USER_STATUSES), fc.constantFrom(...actions), (status, action) => {
        const next = nextStatus(status, action);
        if (status === 'closed') return next === null;
        return next === null || USER_STATUSES.includes(next);
      }),
    );
  });
  it('restricted and frozen cannot send; the cool-down blocks only withdrawals', () => {
    expect(sendPermission('active')).toEqual({ ok: true });
    expect(sendPermission('restricted')).toMatchObject({ ok: false, code: 'account_restricted' });
    expect(sendPermission('frozen')).toMatchObject({ ok: false, code: 'account_frozen' });
    expect(withdrawPermission('active', 2000, 1000)).toEqual({ ok: false, code: 'cooldown', until_ms: 2000 });
    expect(withdrawPermission('active', 2000, 2000)).toEqual({ ok: true });
  });
});

describe('freezes', () => {
  it('every reason has words in both languages and a way out', () => {
    for (const reason of FREEZE_REASONS) {
      for (const locale of ['en', 'zh-CN'] as const) {
        const e = explainFreeze(reason, locale);
        expect(e.message.length).toBeGreaterThan(10);
        expect(e.what_to_do.length).toBeGreaterThanOrEqual(2);
      }
    }
    expect(explainFreeze('abnormal_login', 'zh-CN').message).toContain('冻结');
  });
  it('joins the requirements of all active freezes; compliance needs two approvals', () => {
    const facts = { password_changed_at_ms: 50, totp_enabled: true, totp_bound_at_ms: 200, identity_verified_at_ms: null, last_kyc_document_at_ms: null };
    const plan = unfreezePlan([{ reason: 'abnormal_login', created_at_ms: 100 }, { reason: 'compliance', created_at_ms: 150 }], facts);
    expect(plan.approvals_required).toBe(2);
    expect(plan.requirements).toEqual([
      { code: 'password_changed', met: false },
      { code: 'second_factor_rebound', met: true },
      { code: 'identity_verified', met: false },
    ]);
    expect(approvalsRequired('user_request')).toBe(1);
  });
});

describe('KYC', () => {
  it('limits grow with the level, in USD cents', () => {
    expect(kycLimits(0)).toEqual({ reference: 'USD', decimals: 2, daily_withdrawal_minor: 100_000n, single_transfer_minor: 50_000n });
    expect(kycLimits(2).daily_withdrawal_minor).toBeGreaterThan(kycLimits(1).daily_withdrawal_minor);
    expect(kycLimits(1).single_transfer_minor).toBeGreaterThan(kycLimits(0).single_transfer_minor);
  });
});

describe('staff act only below their own role, unless admin', () => {
  it('refuses equal and higher targets for agents and risk; admins act on anyone', () => {
    expect(staffMayActOn(['user', 'agent'], ['user'])).toBe(true);
    expect(staffMayActOn(['user', 'agent'], ['user', 'merchant'])).toBe(true);
    expect(staffMayActOn(['user', 'agent'], ['user', 'agent'])).toBe(false);
    expect(staffMayActOn(['user', 'agent'], ['user', 'admin'])).toBe(false);
    expect(staffMayActOn(['user', 'risk'], ['user', 'agent'])).toBe(true);
    expect(staffMayActOn(['user', 'risk'], ['user', 'risk'])).toBe(false);
    expect(staffMayActOn(['user', 'risk'], ['user', 'agent', 'admin'])).toBe(false);
    expect(staffMayActOn(['user', 'admin'], ['user', 'admin'])).toBe(true);
    // A target's highest role counts, and so does the actor's.
    expect(staffMayActOn(['user', 'agent', 'risk'], ['user', 'agent'])).toBe(true);
  });
});
