// The signed-in user's notifications (API.md part 2 "Notifications"): the list in their language,
// marking read, and per-kind preferences. Another user's notification answers 404, as a missing one.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { Clock } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { requirePrincipal } from '../shared/principal.ts';
import { NOTIFICATION_KINDS } from './notification-rules.ts';
import type { Notifications } from './notifications.ts';

const tags = ['notifications'];
const Id = Type.String({ pattern: '^ntf_[0-9a-z]{10,60}$', maxLength: 64 });
export const NotificationSchema = Type.Object({
  id: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(),
  link: Type.Union([Type.String(), Type.Null()]), created_at: Type.String(), read_at: Type.Union([Type.String(), Type.Null()]),
});
const Channels = Type.Object({ in_app: Type.Boolean(), email: Type.Boolean() }, { additionalProperties: false });
const KindChannels = Type.Object({ in_app: Type.Boolean(), email: Type.Boolean(), locked: Type.Boolean() });
const Preferences = Type.Object({ kinds: Type.Record(Type.String(), KindChannels) });
const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });

export function notificationRoutes(deps: { notifications: Notifications; clock: Clock }): FastifyPluginAsync {
  const { notifications, clock } = deps;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // Who may call is checked before the input (an anonymous caller learns nothing of it).
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: clock.now_ms() }));
    app.get('/notifications', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'My notifications, newest first, in my language (unread=true: only unread); unread_count counts up to 100',
        querystring: Type.Object({
          unread: Type.Optional(Type.Boolean()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          cursor: Type.Optional(Id),
        }),
        response: { 200: Type.Object({ data: Type.Array(NotificationSchema), next_cursor: Type.Union([Type.String(), Type.Null()]), unread_count: Type.Integer() }) },
      },
    }, async (req) => {
      const me = requirePrincipal(req.principal);
      const page = await notifications.list(me.user_id, me.locale, { unread: req.query.unread ?? false, limit: req.query.limit ?? 20, cursor: req.query.cursor ?? null });
      return { ...page, unread_count: await notifications.unreadCount(me.user_id) };
    });

    app.post('/notifications/:id/read', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Mark one of my notifications read (another user\'s: 404)', params: Type.Object({ id: Id }), response: { 200: NotificationSchema, '4xx': Problem } },
    }, async (req) => {
      const me = requirePrincipal(req.principal);
      const n = await notifications.markRead(me.user_id, req.params.id, me.locale);
      if (!n) throw problems.notFound('notification');
      return n;
    });

    app.post('/notifications/read-all', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Mark all my notifications read (extension)', response: { 200: Type.Object({ marked: Type.Integer() }) } },
    }, async (req) => ({ marked: await notifications.markAllRead(requirePrincipal(req.principal).user_id) }));

    app.get('/me/notification-preferences', {
      config: { auth: 'session' },
      schema: { tags, summary: 'My channels per notification kind (security.* are locked on)', response: { 200: Preferences } },
    }, async (req) => notifications.preferences(requirePrincipal(req.principal).user_id));

    app.put('/me/notification-preferences', {
      config: { auth: 'session' },
      schema: {
        tags, summary: `Choose channels per kind (${NOTIFICATION_KINDS.length} kinds); turning a security.* kind off answers 422 preference_locked and changes nothing`,
        body: Type.Object({ kinds: Type.Record(Type.String({ maxLength: 64 }), Channels, { maxProperties: NOTIFICATION_KINDS.length }) }, { additionalProperties: false }),
        response: { 200: Preferences, '4xx': Problem },
      },
    }, async (req) => {
      const me = requirePrincipal(req.principal);
      const r = await notifications.setPreferences(me.user_id, req.body.kinds);
      if (!r.ok && r.reason === 'preference_locked') throw new ProblemError(422, 'preference_locked', `Security notices (${r.kind}) always reach you in-app and by mail; they cannot be turned off.`, { kind: r.kind });
      if (!r.ok) throw new ProblemError(422, 'unknown_notification_kind', `There is no notification kind "${r.kind}"; the kinds are: ${NOTIFICATION_KINDS.join(', ')}.`, { kind: r.kind });
      return notifications.preferences(me.user_id);
    });
  };
}
