// What staff do to accounts (API.md "Staff"): look a user up, freeze, unfreeze, restrict, set the
// KYC level, read identity documents, work the unfreeze queue and read the audit log. Each route
// declares the roles of STAFF_ACTIONS; compliance freezes need a further role.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireRole } from '../shared/principal.ts';
import { FREEZE_REASONS, STAFF_ACTIONS } from './standing-rules.ts';
import { metaOf, type Accounts } from './accounts.ts';
import { EventPage, Id, IdParams, KycDocument, LimitQuery, UnfreezeRequest, User, UserEnvelope, me } from './accounts-route-schemas.ts';

const staffTags = ['staff'];
const FreezeReason = Type.Union(FREEZE_REASONS.map((r) => Type.Literal(r)));
const Note = Type.String({ minLength: 1, maxLength: 500 });
const UnfreezeResult = Type.Object({ user: User, unfreeze_request: Type.Union([UnfreezeRequest, Type.Null()]) });

const UserSearchQuery = Type.Object({
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'An email prefix, a user id (or its prefix), or a deposit address (exact)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Id),
});
const DEPOSIT_ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

/** Who owns a deposit address (any chain): the payments module answers, wired in by the platform. */
export type AddressOwners = (address: string) => Promise<string[]>;

/** /admin/users (search), /admin/users/{id} and what staff do to that account. */
export function staffUserRoutes(accounts: Accounts, addressOwners: AddressOwners = async () => []) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // A read, like GET /admin/users/{id}: not written to the audit log (staff actions are).
    app.get('/admin/users', {
      config: { auth: STAFF_ACTIONS.read_users },
      schema: {
        tags: staffTags, summary: 'Find users by email prefix, id or deposit address, newest first', querystring: UserSearchQuery,
        response: { 200: Type.Object({ data: Type.Array(User), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
    }, async (req) => {
      const q = req.query.q?.trim() ?? null;
      const owner_ids = q !== null && DEPOSIT_ADDRESS_RE.test(q) ? await addressOwners(q.toLowerCase()) : [];
      return accounts.searchUsers({ q, owner_ids, cursor: req.query.cursor ?? null }, req.query.limit ?? 20);
    });

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
  };
}

/** The unfreeze queue and the audit log. */
export function staffQueueRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/admin/unfreeze-requests', {
      config: { auth: STAFF_ACTIONS.unfreeze },
      schema: { tags: staffTags, summary: 'Pending unfreeze requests, oldest first', querystring: LimitQuery, response: { 200: Type.Object({ data: Type.Array(UnfreezeRequest) }) } },
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
