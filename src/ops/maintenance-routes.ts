// Staff schedule, list and end maintenance windows (the public reads them with the announcements:
// announcement-routes.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { STAFF_ROLES, requirePrincipal } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import type { Maintenance, MaintenanceWindow } from './maintenance.ts';
import { effectiveEndMs, isActive, type WindowRefusal } from './maintenance-rules.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
export const WindowSchema = Type.Object({
  id: Type.String(),
  scope: Type.String(),
  starts_at: Type.String(),
  ends_at: Type.String(),
  message: Type.String(),
  message_zh: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  ended_early: Type.Boolean(),
  created_by: Type.String(),
});
const ScheduleWindowBody = Type.Object(
  {
    scope: Type.String({ maxLength: 40 }),
    starts_at: Type.String({ format: 'date-time' }),
    ends_at: Type.String({ format: 'date-time' }),
    message: Type.String({ minLength: 1, maxLength: 500 }),
    message_zh: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);

export function windowDto(w: MaintenanceWindow, now_ms: number) {
  return { id: w.id, scope: w.scope, starts_at: isoTime(w.starts_at_ms), ends_at: isoTime(effectiveEndMs(w)), message: w.message, message_zh: w.message_zh, active: isActive(w, now_ms), ended_early: w.ended_at_ms !== null && w.ended_at_ms < w.ends_at_ms, created_by: w.created_by };
}

const REFUSALS: Record<WindowRefusal, string> = {
  scope_invalid: 'scope must be "global" or "chain:<chain_id>".',
  unknown_chain: 'No configured chain has that id.',
  ends_before_start: 'ends_at must be after starts_at.',
  ends_in_past: 'ends_at is already past.',
  too_long: 'A window may last at most 7 days; schedule another one if needed.',
};

/** What the audit log keeps about the staff request. */
function auditMeta(req: { ip: string; headers: { 'user-agent'?: string | undefined }; id: string }) {
  return { ip: req.ip ?? null, user_agent: req.headers['user-agent'] ?? null, request_id: String(req.id) };
}

/** The staff routes of maintenance windows (schedule, list, end) and the public announcements. */
export function maintenanceRoutes(deps: { maintenance: Maintenance; clock: Clock }): FastifyPluginAsync {
  const { maintenance, clock } = deps;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // The same route-auth check as every staff route (roles, an active account, 2FA, step-up),
    // before validation.
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: clock.now_ms() }));
    staffWindowRoutes(app, maintenance, clock);
  };
}

/** Scheduling, listing and ending maintenance windows (staff, audited). */
function staffWindowRoutes(app: TypedApp, maintenance: Maintenance, clock: Clock): void {
  app.post(
    '/admin/maintenance-windows',
    {
      config: { auth: ['admin'] },
      schema: {
        tags: ['staff'],
        summary: 'Schedule a maintenance window (admin)',
        security: [{ bearer: [] }],
        body: ScheduleWindowBody,
        response: { 201: WindowSchema, '4xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requirePrincipal(req.principal);
      const starts = Date.parse(req.body.starts_at);
      const ends = Date.parse(req.body.ends_at);
      if (Number.isNaN(starts) || Number.isNaN(ends)) throw problems.validation('starts_at and ends_at must be ISO 8601 times.');
      const r = await maintenance.schedule({ scope: req.body.scope, starts_at_ms: starts, ends_at_ms: ends, message: req.body.message, message_zh: req.body.message_zh ?? null }, me.user_id, auditMeta(req));
      if (!r.ok) throw new ProblemError(422, `window_${r.reason}`, REFUSALS[r.reason]);
      return reply.code(201).send(windowDto(r.window, clock.now_ms()));
    },
  );

  app.get(
    '/admin/maintenance-windows',
    {
      config: { auth: STAFF_ROLES },
      schema: {
        tags: ['staff'],
        summary: 'Recent maintenance windows (staff)',
        security: [{ bearer: [] }],
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(WindowSchema) }), '4xx': Problem },
      },
    },
    async (req) => {
      const now = clock.now_ms();
      return { data: (await maintenance.recent(req.query.limit)).map((w) => windowDto(w, now)) };
    },
  );

  app.post(
    '/admin/maintenance-windows/:id/end',
    {
      config: { auth: ['admin'] },
      schema: {
        tags: ['staff'],
        summary: 'End a maintenance window now (admin)',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: WindowSchema, '4xx': Problem },
      },
    },
    async (req) => {
      const me = requirePrincipal(req.principal);
      const w = await maintenance.end(req.params.id, me.user_id, auditMeta(req));
      if (!w) throw problems.notFound('maintenance window');
      return windowDto(w, clock.now_ms());
    },
  );
}
