// Pure rules of email confirmation: how long a mailed code lives, how many tries it allows, how
// often a new one may be mailed. Six digits with five tries per code and ten codes a day give an
// attacker at most 50 guesses a day against 1,000,000 codes (1 in 20,000), and the mailbox's
// owner a code they can type from a phone.
export const EMAIL_CODE_TTL_MS = 24 * 3600_000;
export const EMAIL_CODE_ATTEMPTS_MAX = 5;
/** A new code at most once a minute … */
export const EMAIL_CODE_RESEND_MS = 60_000;
/** … and at most this many a day (registration's and email changes' codes included). */
export const EMAIL_CODES_PER_DAY_MAX = 10;
const DAY_MS = 24 * 3600_000;

export interface EmailCodeState {
  email: string;
  attempts: number;
  sent_at_ms: number;
  expires_at_ms: number;
  sends_in_window: number;
  window_started_at_ms: number;
}

/** Whether a code may still be tried for `email` now (not expired, not spent, for that address). */
export function codeUsable(state: EmailCodeState | null, email: string, now_ms: number): boolean {
  return state !== null && state.email === email && state.expires_at_ms > now_ms && state.attempts < EMAIL_CODE_ATTEMPTS_MAX;
}

/**
 * Seconds to wait before another code may be mailed, or 0. The first code of an address (a new
 * registration, an email change) is never held back by the minute rule, only by the daily cap.
 * resendWaitS({ sent_at_ms: 0, … }, 'a@x', 30_000) -> 30
 */
export function resendWaitS(state: EmailCodeState | null, email: string, now_ms: number): number {
  if (!state) return 0;
  const window = sendWindow(state, now_ms);
  if (window.sends_in_window >= EMAIL_CODES_PER_DAY_MAX) return Math.ceil((window.window_started_at_ms + DAY_MS - now_ms) / 1000);
  if (state.email === email && now_ms - state.sent_at_ms < EMAIL_CODE_RESEND_MS) return Math.ceil((state.sent_at_ms + EMAIL_CODE_RESEND_MS - now_ms) / 1000);
  return 0;
}

/** The daily send window as it stands now (a fresh one once a day has passed); a new code adds one to it. */
export function sendWindow(state: EmailCodeState | null, now_ms: number): { sends_in_window: number; window_started_at_ms: number } {
  if (!state || now_ms - state.window_started_at_ms >= DAY_MS) return { sends_in_window: 0, window_started_at_ms: now_ms };
  return { sends_in_window: state.sends_in_window, window_started_at_ms: state.window_started_at_ms };
}
