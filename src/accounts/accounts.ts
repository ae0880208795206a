// The accounts module's face: the only file other modules import. It owns who people are
// (register, login, sessions, API keys, TOTP, step-up), how their account stands (active,
// restricted, frozen, closed; KYC level and limits; the cool-down after an unfreeze) and the
// unfreeze workflow. Every security event is written to the core audit_log with
// subject_type 'user' in the same transaction as the change; account.frozen / account.unfrozen
// go to the outbox so that payments can hold and release balances.
//
// Where each part lives (each a set of functions over the shared context, accounts-context.ts):
//   sign-in.ts          register, login (sign-in-throttle.ts: the brake on guessing)
//   registration-throttle.ts  registrations per IP, before any argon2 hash
//   new-device.ts       new-device alerts and the "this wasn't me" link
//   authenticate.ts     the hook that resolves every request's caller (docs/decisions/0005-accounts-security.md)
//   sessions.ts         sessions: issued, listed, ended
//   step-up.ts          the privileged window of a session
//   second-factor.ts    checking a TOTP or recovery code; totp.ts: binding the authenticator
//   api-keys.ts         merchant API keys
//   profile.ts          a user's own account: language, password, email, notifications, security log
//   email-verification.ts confirming an email address with a mailed code (before it receives transfers)
//   kyc-documents.ts    identity documents, encrypted
//   standing.ts         how an account stands and the acts that change it (freeze, restrict, KYC level)
//   unfreeze-requests.ts the unfreeze workflow: requests and approvals
// Their pure rules: accounts-rules.ts (passwords, throttle, devices) and standing-rules.ts (states,
// freezes, unfreeze requirements, staff ranks, KYC limits); their queries: accounts-store.ts.
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { loadEncryptionKey } from '../shared/encryption.ts';
import { API_KEY_SCOPES, type ApiKeyScope, type ThrottleState } from './accounts-rules.ts';
import { FREEZE_REASONS, STAFF_ACTIONS, kycLimits, receiveMode, sendPermission, withdrawPermission, type FreezeReason, type KycLimits, type Permission } from './standing-rules.ts';
import * as store from './accounts-store.ts';
import { bindContext, type AccountsContext } from './accounts-context.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.ts';
import { authenticate, cookieOptions } from './authenticate.ts';
import { commonPasswords } from './common-passwords.ts';
import { listKycDocuments, readKycDocument, uploadKycDocument } from './kyc-documents.ts';
import { notMe, notMeLocale } from './new-device.ts';
import { changeEmail, changePassword, findUserIdByEmail, getUser, notifications, securityEvents, searchUsers, setLocale, staffView } from './profile.ts';
import { endSession, grantStepUpForTests, issueSessionForTests, listSessions, logout } from './sessions.ts';
import { createUserWithRoles, login, register } from './sign-in.ts';
import { resendEmailCode, verifyEmailCode } from './email-verification.ts';
import { canSend, canWithdraw, freeze, restrict, setKycLevel, staffFreeze, standing, transferParties } from './standing.ts';
import { requireStepUp, stepUp, stepUpFactors } from './step-up.ts';
import { totpDisable, totpEnable, totpSetup } from './totp.ts';
import { approveUnfreeze, listUnfreezeRequests, requestUnfreeze, staffUnfreeze } from './unfreeze-requests.ts';
import type { LoginRiskHook } from './login-risk.ts';
export type { LoginRiskHook } from './login-risk.ts';

export { kycLimits, sendPermission, withdrawPermission, receiveMode, FREEZE_REASONS, API_KEY_SCOPES, STAFF_ACTIONS };
export type { KycLimits, Permission, FreezeReason, ApiKeyScope, ThrottleState };
export { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from './authenticate.ts';
export { pruneAccountRows, type AccountsRetention } from './accounts-retention.ts';
export { metaOf, type Actor, type RequestMeta, type UserDto } from './accounts-context.ts';
export type { AccountStanding, TransferParties } from './standing.ts';

export interface AccountsDeps {
  db: Db;
  config: Config;
  clock: Clock;
  /** Defaults to config.encryption_key, or a key generated into the data dir. */
  encryption_key?: Buffer;
  /** The risk engine's decision at sign-in (platform wires it to risk; login-risk.ts). */
  loginRisk?: LoginRiskHook;
}

/** const accounts = createAccounts({ db, config, clock }); app hook: accounts.authenticate */
export function createAccounts(deps: AccountsDeps) {
  const { db, config, clock } = deps;
  const ctx: AccountsContext = {
    db, config, clock,
    key: deps.encryption_key ?? loadEncryptionKey(config.encryption_key, config.data_dir),
    hot: store.hotQueries(db),
    common_passwords: commonPasswords(),
    loginRisk: deps.loginRisk,
  };
  return {
    encryption_key: ctx.key,
    ...bindContext(ctx, { register, login, createUserWithRoles, notMeLocale, notMe }),
    ...bindContext(ctx, { authenticate, cookieOptions, logout, listSessions, endSession, issueSessionForTests, grantStepUpForTests }),
    ...bindContext(ctx, { stepUpFactors, requireStepUp, stepUp, totpSetup, totpEnable, totpDisable }),
    ...bindContext(ctx, { createApiKey, listApiKeys, revokeApiKey }),
    ...bindContext(ctx, { getUser, findUserIdByEmail, setLocale, changePassword, changeEmail, notifications, securityEvents, staffView, searchUsers }),
    ...bindContext(ctx, { verifyEmailCode, resendEmailCode }),
    ...bindContext(ctx, { uploadKycDocument, listKycDocuments, readKycDocument }),
    ...bindContext(ctx, { standing, transferParties, canSend, canWithdraw, freeze, staffFreeze, restrict, setKycLevel }),
    ...bindContext(ctx, { requestUnfreeze, listUnfreezeRequests, approveUnfreeze, staffUnfreeze }),
    kycLimits,

    /** Where development keeps mail and uploads. */
    dataPath(...parts: string[]): string {
      return join(config.data_dir, ...parts);
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
