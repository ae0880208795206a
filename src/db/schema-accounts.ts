// Tables owned by the accounts module (migration 2026-11-26T0300_accounts). Booleans are 0/1
// integers; `_ms` columns are epoch milliseconds; JSON arrays are stored as text.
// Security events are rows of the core audit_log with subject_type 'user' (see docs/decisions).

export interface UsersTable {
  id: string;
  /** Lower-cased; the login name. */
  email: string;
  /** argon2id PHC string. */
  password_hash: string;
  /** active | restricted | frozen | closed */
  status: string;
  kyc_level: number;
  locale: string;
  /** JSON array of roles. */
  roles: string;
  /** AES-256-GCM envelope of the base32 TOTP secret (never stored in clear). */
  totp_secret_enc: string | null;
  /** Secret from /me/totp/setup waiting for its first code. */
  totp_pending_secret_enc: string | null;
  totp_enabled: number;
  /** Last accepted TOTP time step: a code is never accepted twice. */
  totp_last_counter: number | null;
  totp_bound_at_ms: number | null;
  password_changed_at_ms: number;
  identity_verified_at_ms: number | null;
  /** Withdrawals are blocked until then (24 h after an unfreeze). */
  cooldown_until_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
  /** When the current email was confirmed with a mailed code; null until then (and after a change). */
  email_verified_at_ms: number | null;
  /** Set while a restriction stands, whatever freezes come and go; only its own lift clears it. */
  restricted_at_ms: number | null;
  /** Who imposed the restriction (a staff user id), so that only a role at least theirs lifts it. */
  restricted_by: string | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  /** sha256 of the bearer token; the token itself is never stored. */
  token_hash: string;
  csrf_hash: string;
  created_at_ms: number;
  last_seen_at_ms: number;
  /** Absolute expiry; the idle expiry is last_seen_at_ms + SESSION_IDLE_MS. */
  expires_at_ms: number;
  /** Step-up: until when this session may do privileged things. */
  privileged_until_ms: number | null;
  user_agent: string | null;
  ip: string | null;
  device_fingerprint: string | null;
  ended_at_ms: number | null;
  ended_reason: string | null;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at_ms: number;
  last_used_at_ms: number | null;
  revoked_at_ms: number | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  created_at_ms: number;
  used_at_ms: number | null;
}

export interface LoginThrottleTable {
  /** 'acct:<email>' or 'ip:<address>' */
  key: string;
  failures: number;
  window_started_at_ms: number;
  last_failure_at_ms: number;
  wait_until_ms: number;
}

export interface KnownDevicesTable {
  id: string;
  user_id: string;
  fingerprint: string;
  ua_family: string;
  network: string;
  first_seen_at_ms: number;
  last_seen_at_ms: number;
}

export interface FreezesTable {
  id: string;
  user_id: string;
  /** abnormal_login | abnormal_activity | unverified_identity | user_request | compliance */
  reason: string;
  /** system | user | staff */
  actor_type: string;
  actor_id: string | null;
  note: string | null;
  created_at_ms: number;
  lifted_at_ms: number | null;
  lifted_by_request_id: string | null;
}

export interface UnfreezeRequestsTable {
  id: string;
  user_id: string;
  /** pending | completed | cancelled */
  status: string;
  /** user | staff */
  requested_by: string;
  created_at_ms: number;
  updated_at_ms: number;
  completed_at_ms: number | null;
}

export interface UnfreezeApprovalsTable {
  id: string;
  request_id: string;
  staff_id: string;
  note: string | null;
  created_at_ms: number;
}

export interface KycDocumentsTable {
  id: string;
  user_id: string;
  kind: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  /** base64 of AES-256-GCM iv | tag | ciphertext. */
  ciphertext: string;
  /** submitted | accepted | rejected */
  status: string;
  created_at_ms: number;
}

export interface NotMeTokensTable {
  token_hash: string;
  user_id: string;
  device_id: string | null;
  created_at_ms: number;
  expires_at_ms: number;
  used_at_ms: number | null;
}

export interface AccountTables {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  recovery_codes: RecoveryCodesTable;
  login_throttle: LoginThrottleTable;
  known_devices: KnownDevicesTable;
  freezes: FreezesTable;
  unfreeze_requests: UnfreezeRequestsTable;
  unfreeze_approvals: UnfreezeApprovalsTable;
  kyc_documents: KycDocumentsTable;
  not_me_tokens: NotMeTokensTable;
  email_verifications: EmailVerificationsTable;
}

/** The one pending email-confirmation code of a user (sha256 of the code, never the code). */
export interface EmailVerificationsTable {
  user_id: string;
  /** The address the code was mailed to: a code confirms that address only. */
  email: string;
  code_hash: string;
  /** Wrong tries so far; at EMAIL_CODE_ATTEMPTS_MAX the code is spent. */
  attempts: number;
  sent_at_ms: number;
  expires_at_ms: number;
  /** Codes sent since window_started_at_ms (a day): bounds how many codes, so how many guesses, a day brings. */
  sends_in_window: number;
  window_started_at_ms: number;
}
