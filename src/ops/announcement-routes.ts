// Announcements: admins publish and end them, staff list them (audited); anyone reads the active
// and upcoming ones in their language — with the maintenance windows, which announce themselves —
// as JSON (GET /announcements) or as an Atom feed (GET /announcements/feed.atom).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import { isoTime, type Clock } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { pickLocale, type Locale } from '../shared/i18n.ts';
import { STAFF_ROLES, requirePrincipal } from '../shared/principal.ts';
import { BODY_CHARS_MAX, SEVERITIES, TITLE_CHARS_MAX, announcementActive, announcementEndMs, xmlEscape, type Announcement, type AnnouncementRefusal } from './announcement-rules.ts';
import type { Announcements } from './announcements.ts';
import type { Maintenance, MaintenanceWindow } from './maintenance.ts';
import { effectiveEndMs, isActive } from './maintenance-rules.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Texts = (max: number) => Type.Object({ en: Type.String({ maxLength: max }), 'zh-CN': Type.String({ maxLength: max }) }, { additionalProperties: false });
const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));

/** One entry of GET /announcements: a maintenance window or a published announcement. */
export const AnnouncementSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('maintenance'), Type.Literal('announcement')]),
  severity: Severity,
  scope: Type.String(),
  active: Type.Boolean(),
  title: Type.String(),
  titles: Type.Object({ en: Type.String(), 'zh-CN': Type.String() }),
  message: Type.String(),
  messages: Type.Object({ en: Type.String(), 'zh-CN': Type.String() }),
  starts_at: Type.String(),
  ends_at: Type.Union([Type.String(), Type.Null()]),
});
const AdminAnnouncement = Type.Object({
  id: Type.String(), title: Texts(TITLE_CHARS_MAX), body: Texts(BODY_CHARS_MAX), severity: Severity, scope: Type.String(),
  starts_at: Type.String(), ends_at: Type.Union([Type.String(), Type.Null()]), active: Type.Boolean(), ended_early: Type.Boolean(), created_by: Type.String(), created_at: Type.String(),
});

const MAINTENANCE_TITLE: Record<Locale, string> = { en: 'Planned maintenance', 'zh-CN': '计划维护' };

export function windowAnnouncementDto(w: MaintenanceWindow, now_ms: number, locale: Locale) {
  const messages = { en: w.message, 'zh-CN': w.message_zh ?? w.message };
  return {
    id: w.id, kind: 'maintenance' as const, severity: 'warning' as const, scope: w.scope, active: isActive(w, now_ms),
    title: MAINTENANCE_TITLE[locale], titles: MAINTENANCE_TITLE, message: messages[locale], messages,
    starts_at: isoTime(w.starts_at_ms), ends_at: isoTime(effectiveEndMs(w)),
  };
}

export function announcementDto(a: Announcement, now_ms: number, locale: Locale) {
  const titles = { en: a.title_en, 'zh-CN': a.title_zh };
  const messages = { en: a.body_en, 'zh-CN': a.body_zh };
  const end = announcementEndMs(a);
  return {
    id: a.id, kind: 'announcement' as const, severity: a.severity as (typeof SEVERITIES)[number], scope: a.scope, active: announcementActive(a, now_ms),
    title: titles[locale], titles, message: messages[locale], messages, starts_at: isoTime(a.starts_at_ms), ends_at: end === null ? null : isoTime(end),
  };
}

function adminDto(a: Announcement, now_ms: number) {
  const end = announcementEndMs(a);
  return {
    id: a.id, title: { en: a.title_en, 'zh-CN': a.title_zh }, body: { en: a.body_en, 'zh-CN': a.body_zh }, severity: a.severity as (typeof SEVERITIES)[number], scope: a.scope,
    starts_at: isoTime(a.starts_at_ms), ends_at: end === null ? null : isoTime(end), active: announcementActive(a, now_ms),
    ended_early: a.ended_at_ms !== null && (a.ends_at_ms === null || a.ended_at_ms < a.ends_at_ms), created_by: a.created_by, created_at: isoTime(a.created_at_ms),
  };
}

/** Active and upcoming: maintenance windows and announcements, soonest first. */
export async function publicAnnouncements(maintenance: Maintenance, announcements: Announcements | null, now_ms: number, locale: Locale) {
  const list = [
    ...(await maintenance.current()).map((w) => windowAnnouncementDto(w, now_ms, locale)),
    ...(announcements ? await announcements.current() : []).map((a) => announcementDto(a, now_ms, locale)),
  ];
  return list.sort((x, y) => x.starts_at.localeCompare(y.starts_at));
}

const REFUSALS: Record<AnnouncementRefusal, string> = {
  text_missing: 'title and body need both en and zh-CN, not blank.',
  text_too_long: `A title is at most ${TITLE_CHARS_MAX} characters, a body at most ${BODY_CHARS_MAX}.`,
  ends_before_start: 'ends_at must be after starts_at.',
  ends_in_past: 'ends_at is already past.',
  too_long: 'An announcement may last at most 90 days; leave ends_at out to keep it until you end it.',
  scope_invalid: 'scope must be "global" or "chain:<chain_id>".',
  unknown_chain: 'No configured chain has that id.',
};

function auditMeta(req: { ip: string; headers: { 'user-agent'?: string | undefined }; id: string }) {
  return { ip: req.ip ?? null, user_agent: req.headers['user-agent'] ?? null, request_id: String(req.id) };
}

export interface AnnouncementRoutesDeps {
  announcements: Announcements;
  maintenance: Maintenance;
  clock: Clock;
  config: Pick<Config, 'public_url'>;
}

export function announcementRoutes(deps: AnnouncementRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    adminRoutes(app, deps);
    publicRoutes(app, deps);
  };
}

function adminRoutes(app: TypedApp, { announcements, clock }: AnnouncementRoutesDeps): void {
  const body = Type.Object({
    title: Texts(TITLE_CHARS_MAX), body: Texts(BODY_CHARS_MAX), severity: Severity,
    starts_at: Type.String({ format: 'date-time' }), ends_at: Type.Optional(Type.String({ format: 'date-time' })), scope: Type.Optional(Type.String({ maxLength: 40 })),
  }, { additionalProperties: false });
  app.post('/admin/announcements', {
    config: { auth: ['admin'] },
    schema: { tags: ['staff'], summary: 'Publish an announcement in both languages (admin, audited)', security: [{ bearer: [] }], body, response: { 201: AdminAnnouncement, '4xx': Problem } },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    const starts = Date.parse(req.body.starts_at);
    const ends = req.body.ends_at === undefined ? null : Date.parse(req.body.ends_at);
    if (Number.isNaN(starts) || (ends !== null && Number.isNaN(ends))) throw problems.validation('starts_at and ends_at must be ISO 8601 times.');
    const input = { title: req.body.title, body: req.body.body, severity: req.body.severity, starts_at_ms: starts, ends_at_ms: ends, scope: req.body.scope ?? 'global' };
    const r = await announcements.publish(input, me.user_id, auditMeta(req));
    if (!r.ok) throw new ProblemError(422, `announcement_${r.reason}`, REFUSALS[r.reason]);
    return reply.code(201).send(adminDto(r.announcement, clock.now_ms()));
  });
  app.get('/admin/announcements', {
    config: { auth: STAFF_ROLES },
    schema: {
      tags: ['staff'], summary: 'Recent announcements (staff)', security: [{ bearer: [] }],
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ data: Type.Array(AdminAnnouncement) }), '4xx': Problem },
    },
  }, async (req) => ({ data: (await announcements.recent(req.query.limit)).map((a) => adminDto(a, clock.now_ms())) }));
  app.post('/admin/announcements/:id/end', {
    config: { auth: ['admin'] },
    schema: { tags: ['staff'], summary: 'End an announcement now (admin, audited)', security: [{ bearer: [] }], params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 200: AdminAnnouncement, '4xx': Problem } },
  }, async (req) => {
    const a = await announcements.end(req.params.id, requirePrincipal(req.principal).user_id, auditMeta(req));
    if (!a) throw problems.notFound('announcement');
    return adminDto(a, clock.now_ms());
  });
}

function publicRoutes(app: TypedApp, deps: AnnouncementRoutesDeps): void {
  const localeOf = (req: { principal?: { locale: Locale } | null; headers: Record<string, unknown>; query: { lang?: string } }) =>
    pickLocale(req.query.lang ?? req.principal?.locale ?? null, req.headers['accept-language'] as string | undefined);
  const Query = Type.Object({ lang: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')])) }, { additionalProperties: false });
  app.get('/announcements', {
    config: { auth: 'public' },
    schema: { tags: ['status'], summary: 'Public announcements in the reader\'s language: active and upcoming maintenance and announcements', querystring: Query, response: { 200: Type.Object({ data: Type.Array(AnnouncementSchema) }) } },
  }, async (req) => ({ data: await publicAnnouncements(deps.maintenance, deps.announcements, deps.clock.now_ms(), localeOf(req)) }));
  app.get('/announcements/feed.atom', {
    config: { auth: 'public' },
    schema: { tags: ['status'], summary: 'The announcements as an Atom feed (application/atom+xml), in ?lang= or Accept-Language', querystring: Query },
  }, async (req, reply) => {
    const locale = localeOf(req);
    const xml = atomFeed(await publicAnnouncements(deps.maintenance, deps.announcements, deps.clock.now_ms(), locale), deps.config.public_url, locale, deps.clock.now_ms());
    return reply.type('application/atom+xml; charset=utf-8').header('cache-control', 'public, max-age=60').send(xml);
  });
}

/** An Atom 1.0 document (RFC 4287) of the entries, every text escaped. */
export function atomFeed(entries: ReadonlyArray<ReturnType<typeof announcementDto> | ReturnType<typeof windowAnnouncementDto>>, public_url: string, locale: Locale, now_ms: number): string {
  const base = public_url.replace(/\/$/, '');
  const e = xmlEscape;
  const updated = entries.reduce((max, x) => (x.starts_at > max ? x.starts_at : max), isoTime(0));
  const items = entries.map((x) => [
    '  <entry>',
    `    <id>${e(`${base}/announcements/${x.id}`)}</id>`,
    `    <title type="text">${e(`[${x.severity}] ${x.title}`)}</title>`,
    `    <updated>${e(x.starts_at)}</updated>`,
    `    <link rel="alternate" href="${e(`${base}/status`)}"/>`,
    `    <category term="${e(x.kind)}"/>`,
    `    <summary type="text">${e(`${x.message}${x.ends_at ? ` (${x.starts_at} – ${x.ends_at})` : ''}`)}</summary>`,
    '  </entry>',
  ].join('\n'));
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${locale}">`,
    `  <id>${e(`${base}/api/v1/announcements/feed.atom`)}</id>`,
    `  <title>${locale === 'zh-CN' ? 'Settle 公告' : 'Settle announcements'}</title>`,
    `  <updated>${entries.length ? updated : isoTime(now_ms)}</updated>`,
    `  <link rel="self" href="${e(`${base}/api/v1/announcements/feed.atom?lang=${locale}`)}"/>`,
    `  <link rel="alternate" href="${e(`${base}/status`)}"/>`,
    '  <author><name>Settle</name></author>',
    ...items,
    '</feed>',
    '',
  ].join('\n');
}
