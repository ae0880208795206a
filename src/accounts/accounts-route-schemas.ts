// The schemas that more than one of the accounts module's route files use (users, unfreeze
// requests, security events, identity documents, ids), and the one helper every handler needs.
// A schema used by one route file stays in that file.
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, type Principal } from '../shared/principal.ts';

export const Id = Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z]{2,8}_[0-9a-z]{10,60}$' });
export const IdParams = Type.Object({ id: Id });
export const Email = Type.String({ minLength: 3, maxLength: 254 });
// Longer than any allowed password, so that over-long ones get the policy's words (weak_password / too_long), not a schema error.
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
export const RecoveryCode = Type.String({ pattern: '^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$' });
export const Iso = Type.String();
export const NullableIso = Type.Union([Type.String(), Type.Null()]);
export const LocaleName = Type.Union([Type.Literal('en'), Type.Literal('zh-CN')]);
export const PageQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })), cursor: Type.Optional(Id) });
export const LimitQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })) });

const FreezeView = Type.Object({ reason: Type.String(), since: Iso, by: Type.String(), message: Type.String(), what_to_do: Type.Array(Type.String()) });
export const User = Type.Object({
  id: Type.String(), email: Type.String(), status: Type.String(), kyc_level: Type.Integer(), totp_enabled: Type.Boolean(), email_verified: Type.Boolean(), locale: Type.String(),
  roles: Type.Array(Type.String()), created_at: Iso, cooldown_until: NullableIso, freezes: Type.Array(FreezeView),
});
export const UserEnvelope = Type.Object({ user: User });
export const UnfreezeRequest = Type.Object({
  id: Type.String(), user_id: Type.String(), status: Type.String(), created_at: Iso, completed_at: NullableIso, reasons: Type.Array(Type.String()),
  requirements: Type.Array(Type.Object({ code: Type.String(), met: Type.Boolean(), message: Type.String() })),
  approvals_required: Type.Integer(), approvals: Type.Integer(), approved_by: Type.Array(Type.String()), cooldown_hours: Type.Number(),
});
const SecurityEvent = Type.Object({
  id: Type.String(), at: Iso, action: Type.String(), actor_type: Type.String(), actor_id: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Union([Type.String(), Type.Null()]), ip: Type.Union([Type.String(), Type.Null()]), user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]), details: Type.Record(Type.String(), Type.Unknown()),
});
export const EventPage = Type.Object({ data: Type.Array(SecurityEvent), next_cursor: Type.Union([Type.String(), Type.Null()]) });
export const KycDocument = Type.Object({ id: Type.String(), kind: Type.String(), content_type: Type.String(), size_bytes: Type.Integer(), sha256: Type.String(), status: Type.String(), created_at: Iso });

export const tags = ['accounts'];

/** The signed-in caller of a route whose `config.auth` already required one. */
export function me(req: FastifyRequest): Principal {
  return requirePrincipal(req.principal);
}
