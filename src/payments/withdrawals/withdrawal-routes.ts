// POST /withdrawals: thin face over withdrawals.ts. Session only (step-up is bound to a
// session): the session's privileged window must be open, or `totp_code` in the body opens it.
// Idempotency-Key is required (route option `idempotent`); the withdrawal's ids derive from it.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ProblemError } from '../../shared/errors.ts';
import { parseAmount } from '../../shared/money.ts';
import { requirePrincipal, type Principal } from '../../shared/principal.ts';
import { enforceRouteAuth } from '../../http/route-auth.ts';
import { isoTime } from '../../shared/clock.ts';
import { formatAmount } from '../../shared/money.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { assetMap, dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import type { Withdrawals } from './withdrawals.ts';

export interface WithdrawalRoutesDeps extends PaymentViewDeps {
  withdrawals: Withdrawals;
  /** Throws 401 step_up_required unless the session's privileged window is open. */
  requireStepUp: (p: Principal) => Promise<void>;
  /** Verifies a TOTP code and opens the window (throws on a wrong code). */
  stepUpWithTotp: (p: Principal, totp_code: string, meta: { ip: string | null; user_agent: string | null; request_id: string | null }) => Promise<void>;
  /** An active maintenance window that blocks withdrawals on this chain, or null. */
  maintenance?: (chain_id: number | null, now_ms: number) => Promise<{ ends_at_ms: number; message: string } | null>;
}

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });

export function withdrawalRoutes(deps: WithdrawalRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/withdrawals',
      {
        config: { idempotent: true, moneyMoving: 'chain' },
        schema: {
          tags: ['payments'],
          summary: 'Send coins to an outside address (Idempotency-Key; step-up or totp_code)',
          security: [{ bearer: [] }],
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
          body: Type.Object(
            {
              asset: Type.String({ pattern: '^[A-Z0-9]{2,12}$' }),
              to_address: Type.String({ minLength: 1, maxLength: 100 }),
              amount: Type.String({ pattern: '^(0|[1-9][0-9]{0,40})(\\.[0-9]{1,36})?$' }),
              totp_code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
            },
            { additionalProperties: false },
          ),
          response: { 201: PaymentSchema, '4xx': Problem, '5xx': Problem },
        },
      },
      async (req, reply) => {
        const me = requirePrincipal(req.principal);
        if (me.kind !== 'session') throw new ProblemError(403, 'session_required', 'Withdrawals need a signed-in session, not an API key.');
        const asset = assetMap(deps.config).get(req.body.asset);
        const window = deps.maintenance ? await deps.maintenance(asset?.chain_id ?? null, deps.clock.now_ms()) : null;
        if (window) {
          const retry_s = Math.max(1, Math.ceil((window.ends_at_ms - deps.clock.now_ms()) / 1000));
          throw new ProblemError(503, 'maintenance', window.message, { ends_at: new Date(window.ends_at_ms).toISOString() }, { 'retry-after': String(retry_s) });
        }
        if (req.body.totp_code) await deps.stepUpWithTotp(me, req.body.totp_code, { ip: req.ip ?? null, user_agent: req.headers['user-agent'] ?? null, request_id: req.id });
        else await deps.requireStepUp(me);
        if (!asset) throw new ProblemError(422, 'unknown_asset', `No configured asset is called ${req.body.asset}.`);
        const amount = parseAmount(req.body.amount, asset.decimals);
        if (!amount.ok) throw problems422(`amount: ${amount.reason.replace(/_/g, ' ')} for ${asset.code} (${asset.decimals} decimals)`);
        const r = await deps.withdrawals.request({
          user_id: me.user_id,
          user_status: me.status,
          idempotency_key: req.idempotency?.key ?? String(req.headers['idempotency-key']),
          asset: asset.code,
          to_address: req.body.to_address,
          amount_minor: amount.amount_minor,
        });
        const ctx = await dtoContext(deps, req, me, [r.payment]);
        return reply.code(201).send(toPaymentDto(r.payment, r.timeline, ctx));
      },
    );
  };
}

const REVIEW_ROLES = ['risk', 'admin'] as const;
const REVIEWS_MAX = 200;
/**
 * The reason is quoted to the user after trimming, so it needs 3 characters once the blanks
 * around it are gone (the pattern: a non-blank, anything, a non-blank), not merely 3 characters.
 */
const RejectReason = Type.String({ minLength: 3, maxLength: 500, pattern: '\\S[\\s\\S]+\\S' });
const WithdrawalId = Type.String({ minLength: 3, maxLength: 80, pattern: '^[A-Za-z0-9_:-]+$' });
const ReviewSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  asset: Type.String(),
  amount: Type.String(),
  fee: Type.String(),
  to_address: Type.String(),
  chain_id: Type.Integer(),
  rules: Type.Array(Type.String()),
  requested_at: Type.String(),
  account_created_at: Type.Union([Type.String(), Type.Null()]),
  account_age_s: Type.Union([Type.Integer(), Type.Null()]),
});

/**
 * Staff review of withdrawals the risk rules stopped (roles risk and admin; session only):
 * GET /admin/withdrawals/reviews, POST /admin/withdrawals/{id}/approve {note?} and
 * /reject {reason}. Decisions are audited; a second decision answers 409 review_closed.
 */
export function withdrawalReviewRoutes(deps: PaymentViewDeps & { withdrawals: Withdrawals }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    const decimalsOf = (asset: string) => assetMap(deps.config).get(asset)?.decimals ?? 0;

    app.get(
      '/admin/withdrawals/reviews',
      {
        config: { auth: REVIEW_ROLES },
        schema: {
          tags: ['staff'],
          summary: 'Withdrawals waiting for a risk review, oldest first, with the evidence (risk, admin)',
          security: [{ bearer: [] }],
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: REVIEWS_MAX })) }, { additionalProperties: false }),
          response: { 200: Type.Object({ data: Type.Array(ReviewSchema) }), '4xx': Problem },
        },
      },
      async (req) => {
        const now = deps.clock.now_ms();
        const list = await deps.withdrawals.reviews(req.query.limit ?? REVIEWS_MAX);
        return {
          data: list.map(({ withdrawal: w, rules, account_created_at_ms }) => ({
            id: w.id, user_id: w.user_id, asset: w.asset, amount: formatAmount(w.amount_minor, decimalsOf(w.asset)), fee: formatAmount(w.fee_minor, decimalsOf(w.asset)),
            to_address: w.to_address, chain_id: Number(w.chain_id), rules, requested_at: isoTime(Number(w.created_at_ms)),
            account_created_at: account_created_at_ms === null ? null : isoTime(account_created_at_ms),
            account_age_s: account_created_at_ms === null ? null : Math.floor((now - account_created_at_ms) / 1000),
          })),
        };
      },
    );

    const decision = (kind: 'approve' | 'reject') =>
      app.post(
        `/admin/withdrawals/:id/${kind}`,
        {
          config: { auth: REVIEW_ROLES },
          schema: {
            tags: ['staff'],
            summary: kind === 'approve' ? 'Approve a withdrawal in review: it is broadcast (risk, admin; audited); at or above four_eyes_above_usd a first approval answers 202 and a second, different staff member must approve' : 'Reject a withdrawal in review: the reservation is voided and the user told why (risk, admin; audited)',
            security: [{ bearer: [] }],
            params: Type.Object({ id: WithdrawalId }),
            body:
              kind === 'approve'
                ? Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }))
                : Type.Object({ reason: RejectReason, note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
            response: { 200: PaymentSchema, 202: PaymentSchema, '4xx': Problem },
          },
        },
        async (req, reply) => {
          const me = requirePrincipal(req.principal);
          const body = (req.body ?? {}) as { note?: string; reason?: string };
          const by = { staff_id: me.user_id, note: body.note ?? null, meta: { ip: req.ip ?? null, user_agent: req.headers['user-agent'] ?? null, request_id: String(req.id) } };
          const r = kind === 'approve' ? await deps.withdrawals.approve(req.params.id, by) : { ...(await deps.withdrawals.reject(req.params.id, { ...by, reason: body.reason!.trim() })), approvals: null };
          const ctx = await dtoContext(deps, req, me, [r.payment]);
          // Four-eyes: an approval that still waits for a second staff member is accepted, not done.
          const waiting = r.approvals !== null && r.approvals.given < r.approvals.required;
          return reply.code(waiting ? 202 : 200).send(toPaymentDto(r.payment, r.timeline, ctx));
        },
      );
    decision('approve');
    decision('reject');
  };
}

function problems422(detail: string): ProblemError {
  return new ProblemError(422, 'invalid_amount', detail);
}
