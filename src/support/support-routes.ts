// The customer's support routes (API.md part 2, "Support"): open a case (or join the live one
// about the same payment, hash or trade), list and read one's own cases, write to a case. One
// user never sees another's case: 404, as for a case that does not exist.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Clock } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { isStaff, requirePrincipal } from '../shared/principal.ts';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import type { Support } from './support.ts';
import { AttachmentSchema, CaseListSchema, CaseSchema, IdParams, MessageBody, MessageSchema, OpenCaseBody, PageQuery, Problem } from './support-schemas.ts';

export interface SupportRouteDeps {
  support: Support;
  clock: Clock;
  attachment_bytes_max: number;
}

const attachmentsRefused = () => new ProblemError(422, 'attachment_invalid', 'Every attachment_ids entry must be a file you uploaded with POST /support/attachments that is not on another case.');

export function supportRoutes(deps: SupportRouteDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    caseRoutes(app, deps);
    messageRoutes(app, deps);
    await attachmentRoutes(app, deps);
  };
}

function caseRoutes(app: TypedApp, { support }: SupportRouteDeps): void {
  app.post('/support/cases', {
    config: { auth: 'session' },
    schema: {
      tags: ['support'],
      summary: 'Open a case (201), or join your live case about the same tx hash, payment or trade (200); evidence is attached at once',
      security: [{ bearer: [] }],
      body: OpenCaseBody,
      response: { 200: CaseSchema, 201: CaseSchema, '4xx': Problem },
    },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    const b = req.body;
    if (!(await support.attachmentsUsable(b.attachment_ids ?? [], me.user_id, null))) throw attachmentsRefused();
    const r = await support.openOrJoinCase({ channel: 'web', user_id: me.user_id, contact: { email: me.email }, subject: b.subject, body: b.body, tx_hash: b.tx_hash ?? null, payment_id: b.payment_id ?? null, trade_id: b.trade_id ?? null, attachment_ids: b.attachment_ids ?? [] });
    const full = await support.caseForCustomer(r.case.id, me.user_id);
    return reply.code(r.created ? 201 : 200).send(full!);
  });

  app.get('/support/cases', {
    config: { auth: 'session' },
    schema: { tags: ['support'], summary: 'Your cases, newest first', security: [{ bearer: [] }], querystring: PageQuery, response: { 200: CaseListSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    return support.listCases(me.user_id, req.query.cursor ?? null, req.query.limit);
  });

  app.get('/support/cases/:id', {
    config: { auth: 'session' },
    schema: { tags: ['support'], summary: 'One of your cases with its messages and evidence (internal notes never shown)', security: [{ bearer: [] }], params: IdParams, response: { 200: CaseSchema, '4xx': Problem } },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const c = await support.caseForCustomer(req.params.id, me.user_id);
    if (!c) throw problems.notFound('case');
    return c;
  });
}

function messageRoutes(app: TypedApp, { support }: SupportRouteDeps): void {
  app.post('/support/cases/:id/messages', {
    config: { auth: 'session' },
    schema: {
      tags: ['support'],
      summary: 'Write to one of your cases (a resolved case reopens; a closed one answers 409: open a new case)',
      security: [{ bearer: [] }],
      params: IdParams,
      body: MessageBody,
      response: { 201: Type.Object({ message: MessageSchema, case: CaseSchema }), '4xx': Problem },
    },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    const c = await support.caseForCustomer(req.params.id, me.user_id);
    if (!c) throw problems.notFound('case');
    if (!(await support.attachmentsUsable(req.body.attachment_ids ?? [], me.user_id, c.id))) throw attachmentsRefused();
    const r = await support.addCustomerMessage(c.id, { channel: 'web', body: req.body.body, attachment_ids: req.body.attachment_ids ?? [], author_id: me.user_id });
    if (!r) throw new ProblemError(409, 'case_closed', 'This case is closed; open a new case with POST /support/cases.');
    return reply.code(201).send({ message: r.message, case: (await support.caseForCustomer(c.id, me.user_id))! });
  });

  app.post('/support/cases/:id/rating', {
    config: { auth: 'session' },
    schema: {
      tags: ['support'],
      summary: 'Rate a resolved case once (CSAT: score 1..5, comment optional)',
      security: [{ bearer: [] }],
      params: IdParams,
      body: Type.Object({ score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
      response: { 200: CaseSchema, '4xx': Problem },
    },
  }, async (req) => {
    const me = requirePrincipal(req.principal);
    const r = await support.rateCase(req.params.id, me.user_id, req.body.score, req.body.comment ?? null);
    if (r.ok) return r.case;
    if (r.reason === 'not_found') throw problems.notFound('case');
    if (r.reason === 'already_rated') throw new ProblemError(409, 'case_already_rated', 'This case has been rated already.');
    throw new ProblemError(409, 'case_not_resolved', 'A case can be rated once it is resolved.');
  });
}

/**
 * POST /support/attachments takes the file itself as the body, whatever its declared type (the
 * type is judged from the bytes); the raw parser lives in a child scope, so that no other route
 * buffers file bodies. GET serves it to its uploader, the case's customer and staff (404 otherwise).
 */
async function attachmentRoutes(app: TypedApp, { support, attachment_bytes_max }: SupportRouteDeps): Promise<void> {
  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: attachment_bytes_max }, (_req, body, done) => done(null, body));
    child.withTypeProvider<TypeBoxTypeProvider>().post('/support/attachments', {
      config: { auth: 'session' },
      bodyLimit: attachment_bytes_max,
      schema: {
        tags: ['support'],
        summary: 'Upload a file for a case: the raw bytes as the body (?filename=); images (PNG, JPEG, GIF, WebP), PDF or plain text, judged by content; stored encrypted',
        security: [{ bearer: [] }],
        querystring: Type.Object({ filename: Type.Optional(Type.String({ maxLength: 255 })) }),
        response: { 201: AttachmentSchema, '4xx': Problem },
      },
    }, async (req, reply) => {
      const me = requirePrincipal(req.principal);
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new ProblemError(415, 'unsupported_media_type', 'Send the file itself as the body.');
      const r = await support.uploadAttachment({ bytes: req.body, filename: req.query.filename ?? null, uploader: { type: isStaff(me) ? 'staff' : 'user', id: me.user_id } });
      if (!r.ok && r.reason === 'too_large') throw new ProblemError(413, 'attachment_too_large', `Attachments may be at most ${attachment_bytes_max} bytes.`);
      if (!r.ok) throw new ProblemError(415, 'attachment_type_refused', 'Only images (PNG, JPEG, GIF, WebP), PDF and plain text are accepted; the type is judged by the content, not the name.');
      return reply.code(201).send(r.attachment);
    });
  });

  app.get('/support/attachments/:id', {
    config: { auth: 'session' },
    schema: { tags: ['support'], summary: 'Download an attachment (its uploader, the customer of its case, staff)', security: [{ bearer: [] }], params: IdParams },
  }, async (req, reply) => {
    const me = requirePrincipal(req.principal);
    const f = await support.downloadAttachment(req.params.id, me);
    if (!f) throw problems.notFound('attachment');
    return reply
      .header('content-type', f.meta.content_type)
      .header('content-disposition', `attachment; filename="${f.meta.filename.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(f.meta.filename)}`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .send(f.bytes);
  });
}
