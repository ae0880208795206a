// Notifications as pure rules: the kinds (API.md part 2 "Notifications"), each template and the
// kind it belongs to, the defaults of each kind's channels, which kinds are locked on
// (security.*), rendering a row in a language, checking a preferences update, and the cursor.
// No I/O.
import { assertNever } from '../shared/assert.ts';
import { translate, type Locale } from '../shared/i18n.ts';
import { notificationMessages } from './notification-messages.ts';

export const NOTIFICATION_KINDS = [
  'deposit.credited', 'deposit.held', 'deposit.released',
  'withdrawal.completed', 'withdrawal.failed',
  'transfer.received',
  'security.new_device', 'security.frozen', 'security.unfrozen', 'security.credentials_changed',
  // Extensions (API.md: extend freely): security notices accounts sent before issue 14.
  'security.restricted', 'security.registration_attempted',
  'case.reply', 'case.opened', 'trade.updated',
  'maintenance.announced',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The words of a notification: `<template>_title` / `<template>_body` in notification-messages.ts. */
export const TEMPLATES = [
  'new_device', 'frozen', 'unfrozen', 'restricted', 'password_changed', 'email_changed', 'totp_enabled', 'totp_disabled',
  'registration_attempted', 'api_key_created',
  'deposit_credited', 'deposit_held', 'deposit_released', 'withdrawal_completed', 'withdrawal_failed', 'transfer_received',
  'maintenance_announced',
] as const;
export type Template = (typeof TEMPLATES)[number];

/** kindOf('password_changed') -> 'security.credentials_changed' */
export function kindOf(template: Template): NotificationKind {
  switch (template) {
    case 'new_device':
      return 'security.new_device';
    case 'frozen':
      return 'security.frozen';
    case 'unfrozen':
      return 'security.unfrozen';
    case 'restricted':
      return 'security.restricted';
    case 'password_changed':
    case 'email_changed':
    case 'totp_enabled':
    case 'totp_disabled':
    case 'api_key_created':
      return 'security.credentials_changed';
    case 'registration_attempted':
      return 'security.registration_attempted';
    case 'deposit_credited':
      return 'deposit.credited';
    case 'deposit_held':
      return 'deposit.held';
    case 'deposit_released':
      return 'deposit.released';
    case 'withdrawal_completed':
      return 'withdrawal.completed';
    case 'withdrawal_failed':
      return 'withdrawal.failed';
    case 'transfer_received':
      return 'transfer.received';
    case 'maintenance_announced':
      return 'maintenance.announced';
    default:
      return assertNever(template, 'notification template');
  }
}

export interface Channels {
  in_app: boolean;
  email: boolean;
}

/** Security notices always reach the user, in-app and by mail: they cannot be turned off. */
export function isLocked(kind: string): boolean {
  return kind.startsWith('security.');
}

/**
 * A kind's channels before the user chooses: everything in-app; by mail the security notices and
 * what needs the user's attention (a held deposit, a failed withdrawal, planned maintenance),
 * while routine good news stays in-app only (no mail per deposit unless asked for).
 */
export function defaultChannels(kind: NotificationKind): Channels {
  switch (kind) {
    case 'deposit.held':
    case 'withdrawal.failed':
    case 'maintenance.announced':
    case 'case.reply':
    case 'security.new_device':
    case 'security.frozen':
    case 'security.unfrozen':
    case 'security.credentials_changed':
    case 'security.restricted':
    case 'security.registration_attempted':
      return { in_app: true, email: true };
    case 'deposit.credited':
    case 'deposit.released':
    case 'withdrawal.completed':
    case 'transfer.received':
    case 'case.opened':
    case 'trade.updated':
      return { in_app: true, email: false };
    default:
      return assertNever(kind, 'notification kind');
  }
}

export function isKind(text: string): text is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(text);
}

export function isTemplate(text: string): text is Template {
  return (TEMPLATES as readonly string[]).includes(text);
}

/** A param is one string for every language, or one per language (a reason worded by its module). */
export type NoticeParam = string | Record<Locale, string>;
export type NoticeParams = Record<string, NoticeParam>;

/** paramsIn({ reason: { en: 'Held', 'zh-CN': '暂缓' }, asset: 'USDT' }, 'zh-CN') -> { reason: '暂缓', asset: 'USDT' } */
export function paramsIn(params: NoticeParams, locale: Locale): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) out[k] = typeof v === 'string' ? v : (v[locale] ?? v.en);
  return out;
}

/** The title and body of a template in a language: render('deposit_credited', 'en', { amount: '5', asset: 'USDT' }). */
export function render(template: Template, locale: Locale, params: NoticeParams): { title: string; body: string } {
  const p = paramsIn(params, locale);
  return {
    title: translate(notificationMessages, `${template}_title`, locale, p),
    body: translate(notificationMessages, `${template}_body`, locale, p),
  };
}

/** A stored row in a language: its template when it has one, else the text it was stored with. */
export function renderRow(row: { template: string | null; params: string | null; title: string; body: string }, locale: Locale): { title: string; body: string } {
  if (row.template === null || !isTemplate(row.template)) return { title: row.title, body: row.body };
  return render(row.template, locale, row.params ? (JSON.parse(row.params) as NoticeParams) : {});
}

export type PreferencesCheck = { ok: true; changes: Array<{ kind: NotificationKind } & Channels> } | { ok: false; reason: 'preference_locked' | 'unknown_kind'; kind: string };

/**
 * A PUT of preferences, checked whole before anything changes: an unknown kind, or turning a
 * channel of a locked kind off, refuses the whole request. Leaving a locked kind on is no change.
 * checkPreferences({ 'deposit.credited': { in_app: true, email: true } }) -> ok with one change
 */
export function checkPreferences(kinds: Record<string, Channels>): PreferencesCheck {
  const changes: Array<{ kind: NotificationKind } & Channels> = [];
  for (const [kind, ch] of Object.entries(kinds)) {
    if (!isKind(kind)) return { ok: false, reason: 'unknown_kind', kind };
    if (isLocked(kind)) {
      if (!ch.in_app || !ch.email) return { ok: false, reason: 'preference_locked', kind };
      continue;
    }
    changes.push({ kind, in_app: ch.in_app, email: ch.email });
  }
  return { ok: true, changes };
}

/** Every kind's channels for a user: their saved choices over the defaults, locked kinds on. */
export function effectivePreferences(saved: ReadonlyMap<string, Channels>): Record<NotificationKind, Channels> {
  const out = {} as Record<NotificationKind, Channels>;
  for (const kind of NOTIFICATION_KINDS) out[kind] = isLocked(kind) ? { in_app: true, email: true } : (saved.get(kind) ?? defaultChannels(kind));
  return out;
}

/** The cursor of a page is the last id it showed (ids sort by creation time). */
export const CURSOR_RE = /^ntf_[0-9a-z]{10,40}$/;
