// TypeBox schemas of the support routes (customer and agent): the case, its messages, evidence
// and the request bodies, so that the OpenAPI document shows exactly what the routes answer.
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AuditMeta } from '../db/audit-log.ts';
import { CASE_STATUSES, CHANNELS, PRIORITIES } from './support-rules.ts';

export const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Str = Type.String();
const Id = Type.String({ minLength: 1, maxLength: 100 });

export const StatusSchema = Type.Union(CASE_STATUSES.map((s) => Type.Literal(s)));
export const PrioritySchema = Type.Union(PRIORITIES.map((s) => Type.Literal(s)));
export const ChannelSchema = Type.Union(CHANNELS.map((s) => Type.Literal(s)));

export const AttachmentSchema = Type.Object({ id: Str, filename: Str, content_type: Str, size: Type.Integer(), sha256: Str });
export const MessageSchema = Type.Object({
  id: Str,
  case_id: Str,
  at: Str,
  author: Type.Object({ type: Type.Union([Type.Literal('customer'), Type.Literal('agent'), Type.Literal('system')]), id: Nullable(Str), name: Nullable(Str) }),
  channel: Str,
  body: Str,
  internal: Type.Boolean(),
  attachments: Type.Array(AttachmentSchema),
  call: Type.Union([Type.Object({ direction: Str, started_at: Str, duration_s: Type.Integer() }), Type.Null()]),
});
const ContactSchema = Type.Object({ email: Type.Optional(Str), name: Type.Optional(Str), telegram_chat_id: Type.Optional(Str) });
const summaryFields = {
  id: Str,
  number: Type.Integer(),
  status: StatusSchema,
  priority: Str,
  subject: Str,
  channel: Str,
  user_id: Nullable(Str),
  contact: ContactSchema,
  unverified: Type.Boolean(),
  payment_id: Nullable(Str),
  tx_hash: Nullable(Str),
  trade_id: Nullable(Str),
  merged_into: Nullable(Str),
  assignee_id: Nullable(Str),
  sla: Type.Object({
    policy: Nullable(Str),
    first_response_due_at: Nullable(Str),
    next_response_due_at: Nullable(Str),
    resolution_due_at: Nullable(Str),
    paused: Type.Boolean(),
    breached: Type.Array(Type.Object({ kind: Str, at: Str })),
  }),
  expected_reply_by: Nullable(Str),
  rating: Type.Union([Type.Object({ score: Type.Integer(), comment: Nullable(Str), at: Nullable(Str) }), Type.Null()]),
  created_at: Str,
  updated_at: Str,
};
export const CaseSummarySchema = Type.Object(summaryFields);
export const EvidenceSchema = Type.Object({ id: Str, kind: Str, captured_at: Str, data: Type.Unknown() });
export const CaseSchema = Type.Object({ ...summaryFields, evidence: Type.Array(EvidenceSchema), messages: Type.Array(MessageSchema) });
export const CaseListSchema = Type.Object({ data: Type.Array(CaseSummarySchema), next_cursor: Nullable(Str) });

export const BODY_MAX = 20_000;
export const SUBJECT_MAX = 200;
export const ATTACHMENTS_PER_MESSAGE_MAX = 10;
const AttachmentIds = Type.Optional(Type.Array(Id, { maxItems: ATTACHMENTS_PER_MESSAGE_MAX }));
const TxHash = Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' });

export const OpenCaseBody = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: SUBJECT_MAX }),
    body: Type.String({ minLength: 1, maxLength: BODY_MAX }),
    payment_id: Type.Optional(Id),
    tx_hash: Type.Optional(TxHash),
    trade_id: Type.Optional(Id),
    attachment_ids: AttachmentIds,
  },
  { additionalProperties: false },
);
export const MessageBody = Type.Object({ body: Type.String({ minLength: 1, maxLength: BODY_MAX }), attachment_ids: AttachmentIds }, { additionalProperties: false });
export const AgentMessageBody = Type.Object({ body: Type.String({ minLength: 1, maxLength: BODY_MAX }), internal: Type.Optional(Type.Boolean()), attachment_ids: AttachmentIds }, { additionalProperties: false });
export const PhoneCaseBody = Type.Object(
  {
    channel: Type.Literal('phone'),
    user_id: Type.Optional(Id),
    contact: Type.Optional(Type.Object({ email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })), name: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })),
    subject: Type.String({ minLength: 1, maxLength: SUBJECT_MAX }),
    body: Type.String({ minLength: 1, maxLength: BODY_MAX }),
    payment_id: Type.Optional(Id),
    tx_hash: Type.Optional(TxHash),
    trade_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);
export const CallBody = Type.Object(
  {
    direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
    started_at: Type.String({ format: 'date-time' }),
    duration_s: Type.Integer({ minimum: 0, maximum: 86_400 }),
    notes: Type.String({ minLength: 1, maxLength: BODY_MAX }),
    attachment_ids: AttachmentIds,
  },
  { additionalProperties: false },
);
export const PageQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }), cursor: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });
export const QueueQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 200 })),
    assignee: Type.Optional(Type.String({ maxLength: 100 })),
    channel: Type.Optional(ChannelSchema),
    priority: Type.Optional(PrioritySchema),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Id });

/** What the audit log keeps about a staff request. */
export function auditMeta(req: FastifyRequest): AuditMeta {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, user_agent: typeof ua === 'string' ? ua.slice(0, 512) : null, request_id: String(req.id) };
}
