// The desk's SLA settings (API.md "SLA"): the business calendar and the policies per channel ×
// priority. Staff read them; admins change them (audited). Changes apply to clocks started or
// resumed afterwards.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/database.ts';
import { writeAudit } from '../db/audit-log.ts';
import type { Clock } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { requirePrincipal } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import { checkCalendar } from './sla-calendar-rules.ts';
import { loadCalendar, loadPolicies, saveSetting } from './support-sla.ts';
import { AGENT_ROLES, CHANNELS, PRIORITIES } from './support-rules.ts';
import { auditMeta, ChannelSchema, PrioritySchema, Problem } from './support-schemas.ts';

const Range = Type.Tuple([Type.String({ maxLength: 5 }), Type.String({ maxLength: 5 })]);
const Day = Type.Optional(Type.Array(Range, { maxItems: 8 }));
const CalendarSchema = Type.Object({
  time_zone: Type.String({ maxLength: 64 }),
  hours: Type.Object({ sun: Day, mon: Day, tue: Day, wed: Day, thu: Day, fri: Day, sat: Day }, { additionalProperties: false }),
  holidays: Type.Array(Type.String({ maxLength: 10 }), { maxItems: 1000 }),
});
const Minutes = Type.Integer({ minimum: 1, maximum: 525_600 });
const PolicySchema = Type.Object({ channel: ChannelSchema, priority: PrioritySchema, first_response_min: Minutes, next_response_min: Minutes, resolution_min: Minutes }, { additionalProperties: false });
const PoliciesSchema = Type.Object({ policies: Type.Array(PolicySchema, { maxItems: CHANNELS.length * PRIORITIES.length }) }, { additionalProperties: false });
const sec = [{ bearer: [] }];

export function slaRoutes(deps: { db: Db; clock: Clock }): FastifyPluginAsync {
  const { db, clock } = deps;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: clock.now_ms() }));

    app.get('/admin/support/calendar', { config: { auth: AGENT_ROLES }, schema: { tags: ['staff'], summary: 'The support desk\'s business calendar (time zone, weekly hours, holidays)', security: sec, response: { 200: CalendarSchema, '4xx': Problem } } }, async () => loadCalendar(db.kysely) as never);

    app.put('/admin/support/calendar', { config: { auth: ['admin'] }, schema: { tags: ['staff'], summary: 'Replace the business calendar (admin, audited)', security: sec, body: CalendarSchema, response: { 200: CalendarSchema, '4xx': Problem } } }, async (req) => {
      const me = requirePrincipal(req.principal);
      const check = checkCalendar(req.body);
      if (!check.ok) throw new ProblemError(422, check.code, check.detail);
      await db.transaction(async (trx) => {
        await saveSetting(trx, 'calendar', check.calendar, me.user_id, clock.now_ms());
        await writeAudit(trx, { actor: { type: 'staff', id: me.user_id }, action: 'support_calendar_changed', subject: null, meta: auditMeta(req), details: { calendar: check.calendar } }, clock.now_ms());
      });
      return check.calendar as never;
    });

    app.get('/admin/support/sla-policies', { config: { auth: AGENT_ROLES }, schema: { tags: ['staff'], summary: 'SLA policies per channel × priority (business minutes)', security: sec, response: { 200: PoliciesSchema, '4xx': Problem } } }, async () => ({ policies: await loadPolicies(db.kysely) }));

    app.put('/admin/support/sla-policies', { config: { auth: ['admin'] }, schema: { tags: ['staff'], summary: 'Set SLA policies (admin, audited; pairs not named keep their current or default policy)', security: sec, body: PoliciesSchema, response: { 200: PoliciesSchema, '4xx': Problem } } }, async (req) => {
      const me = requirePrincipal(req.principal);
      await db.transaction(async (trx) => {
        const current = await loadPolicies(trx);
        const merged = current.map((c) => req.body.policies.find((p) => p.channel === c.channel && p.priority === c.priority) ?? c);
        await saveSetting(trx, 'sla_policies', merged, me.user_id, clock.now_ms());
        await writeAudit(trx, { actor: { type: 'staff', id: me.user_id }, action: 'support_sla_policies_changed', subject: null, meta: auditMeta(req), details: { policies: req.body.policies } }, clock.now_ms());
      });
      return { policies: await loadPolicies(db.kysely) };
    });
  };
}
