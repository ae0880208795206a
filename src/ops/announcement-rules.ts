// Announcements as pure rules: checking a new one (both languages, sizes, schedule, scope), when
// one is active or still to come, and the Atom feed's text escaping. No I/O.
import type { AnnouncementsTable } from '../db/schema-ops.ts';
import type { Locale } from '../shared/i18n.ts';
import { SCOPE_RE } from './maintenance-rules.ts';

export type Announcement = AnnouncementsTable;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TITLE_CHARS_MAX = 200;
export const BODY_CHARS_MAX = 4000;
/** A typo in a date should not pin a banner for years. */
export const ANNOUNCEMENT_LENGTH_MS_MAX = 90 * 24 * 3600_000;

export interface AnnouncementInput {
  title: Record<Locale, string>;
  body: Record<Locale, string>;
  severity: Severity;
  starts_at_ms: number;
  ends_at_ms: number | null;
  scope: string;
}

export type AnnouncementRefusal = 'text_missing' | 'text_too_long' | 'ends_before_start' | 'ends_in_past' | 'too_long' | 'scope_invalid' | 'unknown_chain';

/** checkAnnouncement(input, now, [31337]) -> null when it may be published, else why not. */
export function checkAnnouncement(a: AnnouncementInput, now_ms: number, chain_ids: readonly number[]): AnnouncementRefusal | null {
  for (const text of [a.title.en, a.title['zh-CN'], a.body.en, a.body['zh-CN']]) if (text.trim() === '') return 'text_missing';
  if (a.title.en.length > TITLE_CHARS_MAX || a.title['zh-CN'].length > TITLE_CHARS_MAX) return 'text_too_long';
  if (a.body.en.length > BODY_CHARS_MAX || a.body['zh-CN'].length > BODY_CHARS_MAX) return 'text_too_long';
  if (!SCOPE_RE.test(a.scope)) return 'scope_invalid';
  if (a.scope.startsWith('chain:') && !chain_ids.includes(Number(a.scope.slice(6)))) return 'unknown_chain';
  if (a.ends_at_ms !== null) {
    if (a.ends_at_ms <= a.starts_at_ms) return 'ends_before_start';
    if (a.ends_at_ms <= now_ms) return 'ends_in_past';
    if (a.ends_at_ms - a.starts_at_ms > ANNOUNCEMENT_LENGTH_MS_MAX) return 'too_long';
  }
  return null;
}

/** When it really ends: planned end or staff's early end, whichever first (null: open). */
export function announcementEndMs(a: Pick<Announcement, 'ends_at_ms' | 'ended_at_ms'>): number | null {
  if (a.ended_at_ms === null) return a.ends_at_ms;
  return a.ends_at_ms === null ? a.ended_at_ms : Math.min(a.ends_at_ms, a.ended_at_ms);
}

export function announcementActive(a: Announcement, now_ms: number): boolean {
  const end = announcementEndMs(a);
  return a.starts_at_ms <= now_ms && (end === null || now_ms < end);
}

/** Active or still to come. */
export function announcementCurrent(a: Announcement, now_ms: number): boolean {
  const end = announcementEndMs(a);
  return end === null || now_ms < end;
}

/** xmlEscape('a < b & "c"') -> 'a &lt; b &amp; &quot;c&quot;' (also drops characters XML 1.0 forbids). */
export function xmlEscape(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
