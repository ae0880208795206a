// HTTP routes of the accounts module (API.md "Authentication", "Staff" and "Details that clients
// rely on"). Thin handlers: parse, call the face, shape the DTO. Every route declares who may
// call it in `config.auth`; a hook of this plugin enforces it BEFORE body validation, so an
// anonymous caller learns nothing about a route's input (401 first, then 400). The
// authorization walk test (test/api/authz.test.ts) reads the same declarations.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ProblemError } from '../shared/errors.ts';
import { pickLocale, translate } from '../shared/i18n.ts';
import { requirePrincipal, requireRole, type Principal, type Role } from '../shared/principal.ts';
import { API_KEY_SCOPES, FREEZE_REASONS, STAFF_ACTIONS } from './accounts-rules.ts';
import { CSRF_COOKIE, SESSION_COOKIE, metaOf, type Accounts } from './accounts.ts';
import { SESSION_ABSOLUTE_MS } from './accounts-rules.ts';
import { notMePageMessages } from './accounts-messages.ts';
import { NOT_ME_PAGE_HEADERS, notMeConfirmPage, notMeDonePage, notMeExpiredPage } from './not-me-page.ts';

/** Who may call a route: nobody in particular, any signed-in caller (session or API key), sessions only, or sessions with one of the roles. */
export type RouteAuth = 'public' | 'any' | 'session' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declared by every route of the accounts module (and welcome in others'): see RouteAuth. */
    auth?: RouteAuth;
  }
}

/** Enforces a route's declared `auth` (exported so that other modules can reuse the same rule). */
export function enforceRouteAuth(auth: RouteAuth | undefined, p: Principal | null): void {
  if (auth === undefined || auth === 'public') return;
  const me = requirePrincipal(p);
  if (auth === 'any') return;
  if (me.kind !== 'session') throw new ProblemError(403, 'session_required', 'This needs a signed-in session, not an API key.');
  if (auth === 'session') return;
  requireRole(me, auth);
  if (me.status !== 'active') throw new ProblemError(403, 'account_frozen', 'Staff actions need an active account.');
}

const Id = Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z]{2,8}_[0-9a-z]{10,60}$' });
const IdParams = Type.Object({ id: Id });
const Email = Type.String({ minLength: 3, maxLength: 254 });
// Longer than any allowed password, so that over-long ones get the policy's words (weak_password / too_long), not a schema error.
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
const RecoveryCode = Type.String({ pattern: '^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$' });
const Iso = Type.String();
const NullableIso = Type.Union([Type.String(), Type.Null()]);

const FreezeView = Type.Object({ reason: Type.String(), since: Iso, by: Type.String(), message: Type.String(), what_to_do: Type.Array(Type.String()) });
const User = Type.Object({
  id: Type.String(), email: Type.String(), status: Type.String(), kyc_level: Type.Integer(), totp_enabled: Type.Boolean(), locale: Type.String(),
  roles: Type.Array(Type.String()), created_at: Iso, cooldown_until: NullableIso, freezes: Type.Array(FreezeView),
});
const UserEnvelope = Type.Object({ user: User });
const UnfreezeRequest = Type.Object({
  id: Type.String(), user_id: Type.String(), status: Type.String(), created_at: Iso, completed_at: NullableIso, reasons: Type.Array(Type.String()),
  requirements: Type.Array(Type.Object({ code: Type.String(), met: Type.Boolean(), message: Type.String() })),
  approvals_required: Type.Integer(), approvals: Type.Integer(), approved_by: Type.Array(Type.String()), cooldown_hours: Type.Number(),
});
const Session = Type.Object({
  id: Type.String(), created_at: Iso, last_seen_at: Iso, expires_at: Iso, user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]), current: Type.Boolean(),
});
const SecurityEvent = Type.Object({
  id: Type.String(), at: Iso, action: Type.String(), actor_type: Type.String(), actor_id: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Union([Type.String(), Type.Null()]), ip: Type.Union([Type.String(), Type.Null()]), user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]), details: Type.Record(Type.String(), Type.Unknown()),
});
const EventPage = Type.Object({ data: Type.Array(SecurityEvent), next_cursor: Type.Union([Type.String(), Type.Null()]) });
const PageQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Id) });
const Scope = Type.Union(API_KEY_SCOPES.map((s) => Type.Literal(s)));
const ApiKey = Type.Object({ id: Type.String(), name: Type.String(), prefix: Type.String(), scopes: Type.Array(Type.String()), created_at: Iso, last_used_at: NullableIso, revoked_at: NullableIso });
const KycDocument = Type.Object({ id: Type.String(), kind: Type.String(), content_type: Type.String(), size_bytes: Type.Integer(), sha256: Type.String(), status: Type.String(), created_at: Iso });
const Notification = Type.Object({ id: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(), link: Type.Union([Type.String(), Type.Null()]), created_at: Iso, read_at: NullableIso });
const FreezeReason = Type.Union(FREEZE_REASONS.map((r) => Type.Literal(r)));
const Note = Type.String({ minLength: 1, maxLength: 500 });
const KYC_KINDS = ['passport', 'id_card', 'driving_licence', 'proof_of_address', 'selfie', 'other'] as const;

const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'application/octet-stream'];

function me(req: FastifyRequest): Principal {
  return requirePrincipal(req.principal);
}

/** accountsRoutes(accounts) -> the Fastify plugin mounted under /api/v1. */
export function accountsRoutes(accounts: Accounts, opts: { upload_bytes_max: number }): FastifyPluginAsync {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal));
    app.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer', bodyLimit: opts.upload_bytes_max }, (_req, body, done) => done(null, body));
    const tags = ['accounts'];

    // ------------------------------------------------------------ auth
    app.post('/auth/register', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'Create an account',
        body: Type.Object({ email: Email, password: Password, locale: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('zh-CN')])) }, { additionalProperties: false }),
        response: { 201: UserEnvelope },
      },
    }, async (req, reply) => {
      const user = await accounts.register(req.body, metaOf(req));
      return reply.code(201).send({ user });
    });

    app.post('/auth/login', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'Sign in; answers the same for an unknown email and a wrong password',
        body: Type.Object({ email: Email, password: Password, totp_code: Type.Optional(TotpCode), recovery_code: Type.Optional(RecoveryCode) }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), csrf_token: Type.String(), expires_at: Iso, user: User }) },
      },
    }, async (req, reply) => {
      const r = await accounts.login(req.body, metaOf(req));
      const max_age = Math.floor(SESSION_ABSOLUTE_MS / 1000);
      reply.setCookie(SESSION_COOKIE, r.token, accounts.cookieOptions(max_age));
      reply.setCookie(CSRF_COOKIE, r.csrf_token, { ...accounts.cookieOptions(max_age), httpOnly: false });
      return { token: r.token, csrf_token: r.csrf_token, expires_at: new Date(r.expires_at_ms).toISOString(), user: r.user };
    });

    app.post('/auth/logout', { config: { auth: 'any' }, schema: { tags, summary: 'End this session', response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.logout(me(req), metaOf(req));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      reply.clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    });

    app.post('/auth/step-up', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Confirm it is you (second factor, or password where 2FA is off): opens a 15-minute privileged window',
        body: Type.Object({ password: Type.Optional(Password), totp_code: Type.Optional(TotpCode), recovery_code: Type.Optional(RecoveryCode) }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    }, async (req, reply) => {
      await accounts.stepUp(me(req), req.body, metaOf(req));
      return reply.code(204).send(null);
    });

    // The "this wasn't me" link (new-device mail). GET only shows a confirmation page in the
    // user's language (mail scanners prefetch links; a GET must not freeze); its button POSTs
    // the token (a form body, parsed only in this child scope) and that freezes, once.
    const NotMeToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
    const Html = { content: { 'text/html': { schema: Type.String() } } };
    app.get('/auth/not-me', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'The "this wasn\'t me" link from a new-device alert: a confirmation page (HTML, en / zh-CN) whose button POSTs here; changes nothing',
        querystring: Type.Object({ token: NotMeToken }),
        response: { 200: Html, 404: Html },
      },
    }, async (req, reply) => {
      const locale = await accounts.notMeLocale(req.query.token);
      reply.headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8');
      if (!locale) return reply.code(404).send(notMeExpiredPage(pickLocale(null, req.headers['accept-language'])));
      return reply.send(notMeConfirmPage(locale, req.routeOptions.url ?? '/api/v1/auth/not-me', req.query.token));
    });
    await app.register(async (child) => {
      const scoped = child.withTypeProvider<TypeBoxTypeProvider>();
      scoped.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
      scoped.post('/auth/not-me', {
        config: { auth: 'public' },
        schema: {
          tags, summary: 'Freeze the account of a "this wasn\'t me" link (the page\'s button, or JSON {token}); the token works once',
          body: Type.Object({ token: NotMeToken }, { additionalProperties: false }),
          response: { 200: { content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Object({ status: Type.String(), message: Type.String() }) } } }, 404: Html },
        },
      }, async (req, reply) => {
        const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        let user;
        try {
          user = await accounts.notMe(req.body.token, metaOf(req));
        } catch (error) {
          if (!form || !(error instanceof ProblemError) || error.code !== 'link_expired') throw error;
          return reply.code(404).headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8').send(notMeExpiredPage(pickLocale(null, req.headers['accept-language'])));
        }
        const locale = user.locale;
        if (form) return reply.headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8').send(notMeDonePage(locale));
        return reply.type('application/json').send({ status: user.status, message: translate(notMePageMessages, 'done_body', locale) });
      });
    });

    // ------------------------------------------------------------ me
    app.get('/me', { config: { auth: 'any' }, schema: { tags, summary: 'Who am I', response: { 200: User } } }, async (req) => {
      const user = await accounts.getUser(me(req).user_id);
      if (!user) throw new ProblemError(401, 'unauthenticated', 'Sign in first.');
      return user;
    });

    app.patch('/me', {
      config: { auth: 'any' },
      schema: {
        tags, summary: 'Change my language: explanations, notices and mail follow it (extension)',
        body: Type.Object({ locale: Type.Union([Type.Literal('en'), Type.Literal('zh-CN')]) }, { additionalProperties: false }),
        response: { 200: UserEnvelope },
      },
    }, async (req) => ({ user: await accounts.setLocale(me(req), req.body.locale, metaOf(req)) }));

    app.post('/me/totp/setup', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Start (or re-bind) TOTP: a new secret and an otpauth:// URL for a QR code (step-up)', response: { 200: Type.Object({ secret: Type.String(), otpauth_url: Type.String() }) } },
    }, async (req) => accounts.totpSetup(me(req), metaOf(req)));

    app.post('/me/totp/enable', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Turn TOTP on with a first code: returns 10 single-use recovery codes, shown once (step-up)',
        body: Type.Object({ code: TotpCode }, { additionalProperties: false }),
        response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String()) }) },
      },
    }, async (req) => accounts.totpEnable(me(req), req.body.code, metaOf(req)));

    app.post('/me/totp/disable', { config: { auth: 'session' }, schema: { tags, summary: 'Turn TOTP off (step-up)', response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.totpDisable(me(req), metaOf(req));
      return reply.code(204).send(null);
    });

    app.get('/me/sessions', { config: { auth: 'session' }, schema: { tags, summary: 'My live sessions', response: { 200: Type.Object({ data: Type.Array(Session) }) } } }, async (req) => ({
      data: await accounts.listSessions(me(req)),
    }));

    app.delete('/me/sessions/:id', { config: { auth: 'session' }, schema: { tags, summary: 'End one of my sessions', params: IdParams, response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.endSession(me(req), req.params.id, metaOf(req));
      return reply.code(204).send(null);
    });

    app.post('/me/password', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Change my password (step-up); ends my other sessions', body: Type.Object({ new_password: Password }, { additionalProperties: false }), response: { 204: Type.Null() } },
    }, async (req, reply) => {
      await accounts.changePassword(me(req), req.body.new_password, metaOf(req));
      return reply.code(204).send(null);
    });

    app.post('/me/email', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Change my sign-in email (step-up); the old address is told', body: Type.Object({ new_email: Email }, { additionalProperties: false }), response: { 200: UserEnvelope } },
    }, async (req) => ({ user: await accounts.changeEmail(me(req), req.body.new_email, metaOf(req)) }));

    app.post('/me/freeze', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Freeze my account now (panic button); ends my other sessions',
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.Union([Type.Literal('user_request'), Type.Literal('abnormal_login')])) }, { additionalProperties: false })),
        response: { 200: UserEnvelope },
      },
    }, async (req) => {
      const p = me(req);
      const reason = req.body?.reason ?? 'user_request';
      return { user: await accounts.freeze(p.user_id, reason, { type: 'user', id: p.user_id }, metaOf(req), { keep_session: p.session_id }) };
    });

    app.post('/me/unfreeze-request', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Ask to be unfrozen: the request lists what must be done first', response: { 200: UnfreezeRequest } },
    }, async (req) => accounts.requestUnfreeze(me(req), metaOf(req)));

    app.get('/me/security-events', {
      config: { auth: 'session' },
      schema: { tags, summary: 'My security log (sign-ins, failures, 2FA, password, freezes, devices, API keys)', querystring: PageQuery, response: { 200: EventPage } },
    }, async (req) => accounts.securityEvents({ user_id: me(req).user_id, ...(req.query.cursor ? { cursor: req.query.cursor } : {}) }, req.query.limit ?? 50));

    app.get('/me/notifications', {
      config: { auth: 'session' },
      schema: { tags, summary: 'My in-app notifications, newest first', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) }), response: { 200: Type.Object({ data: Type.Array(Notification) }) } },
    }, async (req) => ({ data: await accounts.notifications(me(req).user_id, req.query.limit ?? 50) }));

    app.post('/me/kyc/documents', {
      config: { auth: 'session' },
      bodyLimit: opts.upload_bytes_max,
      schema: {
        tags, summary: 'Upload an identity document: the raw bytes of a JPEG/PNG/WebP image or a PDF as the body (type checked by content); stored encrypted',
        querystring: Type.Object({ kind: Type.Optional(Type.Union(KYC_KINDS.map((k) => Type.Literal(k)))) }),
        response: { 201: KycDocument },
      },
    }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new ProblemError(415, 'unsupported_media_type', 'Send the file itself as the body with its Content-Type (image/jpeg, image/png, image/webp or application/pdf).');
      const doc = await accounts.uploadKycDocument(me(req), req.query.kind ?? 'other', req.body, metaOf(req));
      return reply.code(201).send(doc);
    });

    app.get('/me/kyc/documents', { config: { auth: 'session' }, schema: { tags, summary: 'My identity documents (metadata only)', response: { 200: Type.Object({ data: Type.Array(KycDocument) }) } } }, async (req) => ({
      data: await accounts.listKycDocuments(me(req).user_id),
    }));

    // ------------------------------------------------------------ API keys
    app.post('/api-keys', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Create a merchant API key (step-up); the key is shown once',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), scopes: Type.Optional(Type.Array(Scope, { minItems: 1, maxItems: 4 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), name: Type.String(), key: Type.String(), prefix: Type.String(), scopes: Type.Array(Type.String()), created_at: Iso }) },
      },
    }, async (req, reply) => reply.code(201).send(await accounts.createApiKey(me(req), req.body.name, req.body.scopes, metaOf(req))));

    app.get('/api-keys', { config: { auth: 'session' }, schema: { tags, summary: 'My API keys (never the key itself)', response: { 200: Type.Object({ data: Type.Array(ApiKey) }) } } }, async (req) => ({
      data: await accounts.listApiKeys(me(req)),
    }));

    app.delete('/api-keys/:id', { config: { auth: 'session' }, schema: { tags, summary: 'Revoke an API key', params: IdParams, response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.revokeApiKey(me(req), req.params.id, metaOf(req));
      return reply.code(204).send(null);
    });

    // ------------------------------------------------------------ staff
    const staffTags = ['staff'];
    app.get('/admin/users/:id', {
      config: { auth: STAFF_ACTIONS.read_users },
      schema: {
        tags: staffTags, summary: 'A user as staff see it', params: IdParams,
        response: { 200: Type.Object({ user: User, live_sessions: Type.Integer(), pending_unfreeze_request_id: Type.Union([Type.String(), Type.Null()]), kyc_documents: Type.Array(KycDocument) }) },
      },
    }, async (req) => accounts.staffView(req.params.id));

    app.post('/admin/users/:id/freeze', {
      config: { auth: STAFF_ACTIONS.freeze },
      schema: { tags: staffTags, summary: 'Freeze an account (compliance: risk or admin); 403 target_outranks_actor on an account of equal or higher role unless admin', params: IdParams, body: Type.Object({ reason: FreezeReason, note: Type.Optional(Note) }, { additionalProperties: false }), response: { 200: UserEnvelope } },
    }, async (req) => {
      const staff = me(req);
      if (req.body.reason === 'compliance') requireRole(staff, STAFF_ACTIONS.freeze_compliance);
      return { user: await accounts.staffFreeze(staff, req.params.id, req.body.reason, req.body.note ?? null, metaOf(req)) };
    });

    const UnfreezeResult = Type.Object({ user: User, unfreeze_request: Type.Union([UnfreezeRequest, Type.Null()]) });
    app.post('/admin/users/:id/unfreeze', {
      config: { auth: STAFF_ACTIONS.unfreeze },
      schema: {
        tags: staffTags, summary: 'Approve unfreezing on the staff member\'s word (compliance needs a second, different staff member); also lifts a restriction',
        params: IdParams, body: Type.Object({ reason: Note }, { additionalProperties: false }), response: { 200: UnfreezeResult },
      },
    }, async (req) => accounts.staffUnfreeze(me(req), req.params.id, req.body.reason, metaOf(req)));

    app.post('/admin/users/:id/restrict', {
      config: { auth: STAFF_ACTIONS.restrict },
      schema: { tags: staffTags, summary: 'Restrict an account (can receive; cannot send, withdraw or trade)', params: IdParams, body: Type.Object({ reason: Note }, { additionalProperties: false }), response: { 200: UserEnvelope } },
    }, async (req) => ({ user: await accounts.restrict(me(req), req.params.id, req.body.reason, metaOf(req)) }));

    app.post('/admin/users/:id/kyc-level', {
      config: { auth: STAFF_ACTIONS.restrict },
      schema: { tags: staffTags, summary: 'Set the KYC level after reviewing documents', params: IdParams, body: Type.Object({ level: Type.Integer({ minimum: 0, maximum: 2 }) }, { additionalProperties: false }), response: { 200: UserEnvelope } },
    }, async (req) => ({ user: await accounts.setKycLevel(me(req), req.params.id, req.body.level, metaOf(req)) }));

    app.get('/admin/users/:id/kyc/documents/:doc_id', {
      config: { auth: STAFF_ACTIONS.restrict },
      schema: { tags: staffTags, summary: 'Download one identity document, decrypted (audited)', params: Type.Object({ id: Id, doc_id: Id }) },
    }, async (req, reply) => {
      const doc = await accounts.readKycDocument(me(req), req.params.id, req.params.doc_id, metaOf(req));
      reply.header('content-disposition', 'attachment');
      return reply.type(doc.content_type).send(doc.bytes);
    });

    app.get('/admin/unfreeze-requests', {
      config: { auth: STAFF_ACTIONS.unfreeze },
      schema: { tags: staffTags, summary: 'Pending unfreeze requests, oldest first', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) }), response: { 200: Type.Object({ data: Type.Array(UnfreezeRequest) }) } },
    }, async (req) => ({ data: await accounts.listUnfreezeRequests(me(req), req.query.limit ?? 50) }));

    app.post('/admin/unfreeze-requests/:id/approve', {
      config: { auth: STAFF_ACTIONS.unfreeze },
      schema: { tags: staffTags, summary: 'Approve an unfreeze request (requirements must be met)', params: IdParams, body: Type.Optional(Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false })), response: { 200: UnfreezeResult } },
    }, async (req) => accounts.approveUnfreeze(me(req), req.params.id, req.body?.note ?? null, metaOf(req)));

    app.get('/admin/audit', {
      config: { auth: STAFF_ACTIONS.audit },
      schema: { tags: staffTags, summary: 'The audit log, newest first', querystring: Type.Object({ user_id: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Id) }), response: { 200: EventPage } },
    }, async (req) => accounts.securityEvents({ ...(req.query.user_id ? { user_id: req.query.user_id } : {}), ...(req.query.cursor ? { cursor: req.query.cursor } : {}) }, req.query.limit ?? 50));
  };
}

