// The signed-in user's own account: who they are and their language, two-factor authentication
// and sessions (meRoutes); password and email, the panic button and the unfreeze request, the
// security log and notifications (meAccountRoutes); identity documents (meKycRoutes).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ProblemError } from '../shared/errors.ts';
import { metaOf, type Accounts } from './accounts.ts';
import { Email, EventPage, IdParams, Iso, KycDocument, LimitQuery, LocaleName, NullableIso, PageQuery, Password, TotpCode, UnfreezeRequest, User, UserEnvelope, me, tags } from './accounts-route-schemas.ts';

const Notification = Type.Object({ id: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(), link: Type.Union([Type.String(), Type.Null()]), created_at: Iso, read_at: NullableIso });
const KYC_KINDS = ['passport', 'id_card', 'driving_licence', 'proof_of_address', 'selfie', 'other'] as const;

const Session = Type.Object({
  id: Type.String(), created_at: Iso, last_seen_at: Iso, expires_at: Iso, user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]), current: Type.Boolean(),
});

/** GET/PATCH /me, /me/totp/*, /me/sessions. */
export function meRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/me', { config: { auth: 'any' }, schema: { tags, summary: 'Who am I', response: { 200: User } } }, async (req) => {
      const user = await accounts.getUser(me(req).user_id);
      if (!user) throw new ProblemError(401, 'unauthenticated', 'Sign in first.');
      return user;
    });

    app.patch('/me', {
      config: { auth: 'any' },
      schema: {
        tags, summary: 'Change my language: explanations, notices and mail follow it (extension)',
        body: Type.Object({ locale: LocaleName }, { additionalProperties: false }),
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
  };
}

/** /me/password, /me/email, /me/freeze, /me/unfreeze-request, /me/security-events, /me/notifications. */
export function meAccountRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post('/me/password', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Change my password (step-up); ends my other sessions', body: Type.Object({ new_password: Password }, { additionalProperties: false }), response: { 204: Type.Null() } },
    }, async (req, reply) => {
      await accounts.changePassword(me(req), req.body.new_password, metaOf(req));
      return reply.code(204).send(null);
    });

    app.post('/me/email', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Change my sign-in email (step-up; refused while frozen); the old address is told, the new one gets a code to confirm it', body: Type.Object({ new_email: Email }, { additionalProperties: false }), response: { 200: UserEnvelope } },
    }, async (req) => ({ user: await accounts.changeEmail(me(req), req.body.new_email, metaOf(req)) }));

    app.post('/me/email/verify', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Confirm my email with the 6-digit code mailed to it: only a confirmed address receives transfers (5 tries per code)',
        body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
        response: { 200: UserEnvelope },
      },
    }, async (req) => ({ user: await accounts.verifyEmailCode(me(req), req.body.code, metaOf(req)) }));

    app.post('/me/email/verification', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Mail a new confirmation code to my email (once a minute, ten a day)', response: { 202: Type.Object({ email: Type.String(), expires_at: Iso }) } },
    }, async (req, reply) => reply.code(202).send(await accounts.resendEmailCode(me(req), metaOf(req))));

    app.post('/me/freeze', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Freeze my account now (panic button); ends my other sessions',
        // API.md: `reason` is the user's own words (kept as the freeze's note); the two reason
        // codes clients sent before stay accepted as codes.
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })) }, { additionalProperties: false })),
        response: { 200: UserEnvelope },
      },
    }, async (req) => {
      const p = me(req);
      const said = req.body?.reason?.trim() || null;
      const code = said === 'abnormal_login' ? 'abnormal_login' : 'user_request';
      const note = said === 'abnormal_login' || said === 'user_request' ? null : said;
      return { user: await accounts.freeze(p.user_id, code, { type: 'user', id: p.user_id }, metaOf(req), { keep_session: p.session_id, note }) };
    });

    app.post('/me/unfreeze-request', {
      config: { auth: 'session' },
      schema: { tags, summary: 'Ask to be unfrozen: the request lists what must be done first', response: { 200: UnfreezeRequest } },
    }, async (req) => accounts.requestUnfreeze(me(req), metaOf(req)));
    app.get('/me/security-events', {
      config: { auth: 'session' },
      schema: { tags, summary: 'My security log (sign-ins, failures, 2FA, password, freezes, devices, API keys)', querystring: PageQuery, response: { 200: EventPage } },
    }, async (req) => accounts.securityEvents({ user_id: me(req).user_id, own: true, ...(req.query.cursor ? { cursor: req.query.cursor } : {}) }, req.query.limit ?? 50));

    app.get('/me/notifications', {
      config: { auth: 'session' },
      schema: { tags, summary: 'My in-app notifications, newest first', querystring: LimitQuery, response: { 200: Type.Object({ data: Type.Array(Notification) }) } },
    }, async (req) => ({ data: await accounts.notifications(me(req).user_id, req.query.limit ?? 50) }));
  };
}

const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'application/octet-stream'];

/** POST and GET /me/kyc/documents: the raw file as the body, at most upload_bytes_max. */
export function meKycRoutes(accounts: Accounts, opts: { upload_bytes_max: number }) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // File bodies are parsed for this route only (a child scope): on every other accounts route a
    // file Content-Type is refused unread (415) instead of buffered up to upload_bytes_max.
    await app.register(async (child) => {
      child.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer', bodyLimit: opts.upload_bytes_max }, (_req, body, done) => done(null, body));
      const scoped = child.withTypeProvider<TypeBoxTypeProvider>();
      scoped.post('/me/kyc/documents', {
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
    });

    app.get('/me/kyc/documents', { config: { auth: 'session' }, schema: { tags, summary: 'My identity documents (metadata only)', response: { 200: Type.Object({ data: Type.Array(KycDocument) }) } } }, async (req) => ({
      data: await accounts.listKycDocuments(me(req).user_id),
    }));
  };
}
