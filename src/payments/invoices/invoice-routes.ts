// The merchant's invoice API (under /api/v1) and the payer's public status JSON. Thin handlers:
// parse, authorise, call invoices.ts, shape the `invoice` of API.md. Someone else's invoice is a
// 404, never a 403, so ids reveal nothing. The answers' shapes are in invoice-dto.ts, the HTML
// checkout page in invoice-checkout.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { TypedApp } from '../../http/typed-app.ts';
import { ProblemError, problems } from '../../shared/errors.ts';
import { parseAmount } from '../../shared/money.ts';
import { requireScope, type Principal } from '../../shared/principal.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import { getPayment } from '../payments.ts';
import { CheckoutStatusSchema, checkoutStatus, InvoiceSchema, toInvoiceDto, type InvoiceDto } from './invoice-dto.ts';
import { EXPIRES_IN_S_MAX, EXPIRES_IN_S_MIN, MARK_REASON_LENGTH_MAX, ORDER_ID_LENGTH_MAX } from './invoice-rules.ts';
import { INVOICES_PAGE_MAX, type Invoices } from './invoices.ts';

export interface InvoiceRoutesDeps extends PaymentViewDeps {
  invoices: Invoices;
  /** Throws 401 step_up_required unless the session's privileged window is open (refunds move money out). */
  requireStepUp?: (p: Principal) => Promise<void>;
}

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const AMOUNT = '^(0|[1-9][0-9]{0,40})(\\.[0-9]{1,36})?$';
const ID = Type.String({ pattern: '^inv_[0-9a-z]+$', maxLength: 64 });
const tags = ['invoices'];

/** A merchant: an API key with the scope, or a session of a user who has become a merchant. */
function requireMerchant(principal: Principal | null | undefined, scope: 'invoices:write' | 'invoices:read'): Principal {
  const p = requireScope(principal, scope);
  if (!p.roles.includes('merchant')) throw new ProblemError(403, 'merchant_required', 'Invoices are for merchants: create an API key first (that makes you a merchant).');
  return p;
}

const REFUSALS: Record<string, string> = {
  unknown_asset: 'No configured asset has this code.',
  amount_not_positive: 'amount must be greater than zero.',
  expires_in_too_short: `expires_in_s must be at least ${EXPIRES_IN_S_MIN}.`,
  expires_in_too_long: `expires_in_s must be at most ${EXPIRES_IN_S_MAX}.`,
  order_id_too_long: `order_id is longer than ${ORDER_ID_LENGTH_MAX} characters.`,
  metadata_too_large: 'metadata is too large (4 KiB of JSON at most).',
};

export function invoiceRoutes(deps: InvoiceRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // In this order: the OpenAPI document lists the routes as they are registered.
    createRoute(app, deps);
    readRoutes(app, deps);
    markRoute(app, deps);
    refundRoute(app, deps);
    checkoutStatusRoute(app, deps);
  };
}

/** POST /invoices: a new invoice on a fresh address. */
function createRoute(app: TypedApp, deps: InvoiceRoutesDeps): void {
  app.post(
    '/invoices',
    {
      config: { idempotent: true, moneyMoving: 'chain' },
      schema: {
        tags,
        summary: 'Create an invoice with a fresh address (API key with invoices:write, Idempotency-Key)',
        security: [{ bearer: [] }],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: Type.Object(
          {
            asset: Type.String({ pattern: '^[A-Z0-9]{2,12}$' }),
            amount: Type.String({ pattern: AMOUNT }),
            order_id: Type.Optional(Type.String({ minLength: 1, maxLength: ORDER_ID_LENGTH_MAX })),
            expires_in_s: Type.Optional(Type.Integer({ minimum: EXPIRES_IN_S_MIN, maximum: EXPIRES_IN_S_MAX })),
            metadata: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: InvoiceSchema, '4xx': Problem, '5xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requireMerchant(req.principal, 'invoices:write');
      const asset = deps.invoices.asset(req.body.asset);
      if (!asset) throw new ProblemError(422, 'unknown_asset', REFUSALS.unknown_asset!);
      const amount = parseAmount(req.body.amount, asset.decimals);
      if (!amount.ok) throw new ProblemError(422, 'invalid_amount', `amount: ${amount.reason.replace(/_/g, ' ')} for ${asset.code} (${asset.decimals} decimals)`);
      const r = await deps.invoices.create({ user_id: me.user_id, asset: asset.code, amount_minor: amount.amount_minor, order_id: req.body.order_id ?? null, ...(req.body.expires_in_s !== undefined ? { expires_in_s: req.body.expires_in_s } : {}), metadata: req.body.metadata ?? null, idempotency_key: req.idempotency?.key ?? null });
      if (r.result === 'refused' && r.reason === 'unavailable') throw new ProblemError(503, 'unavailable', 'Invoice addresses cannot be issued right now (no deposit keys or the chain is unreachable); retry later.', {}, { 'retry-after': '30' });
      if (r.result === 'refused') throw new ProblemError(422, r.reason === 'amount_not_positive' ? 'invalid_amount' : r.reason, REFUSALS[r.reason] ?? r.reason);
      return reply.code(201).send(await toInvoiceDto(deps, req, me, r.invoice));
    },
  );
}

/** GET /invoices and /invoices/{id}: the merchant's own invoices. */
function readRoutes(app: TypedApp, deps: InvoiceRoutesDeps): void {
  app.get(
    '/invoices',
    {
      schema: {
        tags,
        summary: 'Your invoices, newest first',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: INVOICES_PAGE_MAX, default: 20 }), cursor: Type.Optional(ID) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ data: Type.Array(InvoiceSchema), next_cursor: Nullable(Type.String()) }), '4xx': Problem },
      },
    },
    async (req) => {
      const me = requireMerchant(req.principal, 'invoices:read');
      const page = await deps.invoices.list(me.user_id, req.query.limit, req.query.cursor ?? null);
      const data: InvoiceDto[] = [];
      for (const r of page.data) data.push(await toInvoiceDto(deps, req, me, r));
      return { data, next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/invoices/:id',
    {
      schema: { tags, summary: 'One of your invoices', security: [{ bearer: [] }], params: Type.Object({ id: ID }), response: { 200: InvoiceSchema, '4xx': Problem } },
    },
    async (req) => {
      const me = requireMerchant(req.principal, 'invoices:read');
      const r = await deps.invoices.getOwned(me.user_id, req.params.id);
      if (!r) throw problems.notFound('invoice');
      return toInvoiceDto(deps, req, me, r);
    },
  );
}

/** POST /invoices/{id}/mark: the merchant closes an invoice by hand. */
function markRoute(app: TypedApp, deps: InvoiceRoutesDeps): void {
  app.post(
    '/invoices/:id/mark',
    {
      schema: {
        tags,
        summary: 'Mark an invoice settled or invalid, with a reason (exception `marked`)',
        security: [{ bearer: [] }],
        params: Type.Object({ id: ID }),
        body: Type.Object({ status: Type.Union([Type.Literal('settled'), Type.Literal('invalid')]), reason: Type.String({ minLength: 1, maxLength: MARK_REASON_LENGTH_MAX }) }, { additionalProperties: false }),
        response: { 200: InvoiceSchema, '4xx': Problem },
      },
    },
    async (req) => {
      const me = requireMerchant(req.principal, 'invoices:write');
      const r = await deps.invoices.mark(me.user_id, req.params.id, req.body.status, req.body.reason);
      if (r.result === 'not_found') throw problems.notFound('invoice');
      if (r.result === 'already_final') throw new ProblemError(409, 'invoice_final', `This invoice is already ${r.invoice.status}${r.invoice.exception === 'marked' ? ' (marked)' : ''}.`);
      return toInvoiceDto(deps, req, me, r.invoice);
    },
  );
}

/** POST /invoices/{id}/refund: money back to the payer, as a withdrawal of the merchant. */
function refundRoute(app: TypedApp, deps: InvoiceRoutesDeps): void {
  app.post(
    '/invoices/:id/refund',
    {
      config: { idempotent: true, moneyMoving: 'chain' },
      schema: {
        tags,
        summary: "Refund an invoice's payments to the payer's address: a withdrawal of the merchant (session, step-up, Idempotency-Key)",
        security: [{ bearer: [] }],
        params: Type.Object({ id: ID }),
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: Type.Object({ to_address: Type.String({ minLength: 1, maxLength: 100 }), amount: Type.Optional(Type.String({ pattern: AMOUNT })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ invoice: InvoiceSchema, payment: Type.Object(PaymentSchema.properties) }), '4xx': Problem, '5xx': Problem },
      },
    },
    async (req, reply) => {
      const me = requireMerchant(req.principal, 'invoices:write');
      if (me.kind !== 'session') throw new ProblemError(403, 'session_required', 'Refunds move money out: they need a signed-in session, not an API key.');
      if (deps.requireStepUp) await deps.requireStepUp(me);
      const inv = await deps.invoices.getOwned(me.user_id, req.params.id);
      if (!inv) throw problems.notFound('invoice');
      let amount_minor: bigint | null = null;
      if (req.body.amount !== undefined) {
        const decimals = deps.invoices.asset(inv.asset)?.decimals ?? 0;
        const a = parseAmount(req.body.amount, decimals);
        if (!a.ok) throw new ProblemError(422, 'invalid_amount', `amount: ${a.reason.replace(/_/g, ' ')}`);
        amount_minor = a.amount_minor;
      }
      const r = await deps.invoices.refund({ user_id: me.user_id, user_status: me.status, invoice_id: inv.id, to_address: req.body.to_address, amount_minor, idempotency_key: req.idempotency?.key ?? String(req.headers['idempotency-key']) });
      const p = await getPayment(deps.db.kysely, r.payment_id);
      const ctx = await dtoContext(deps, req, me, p ? [p.payment] : []);
      return reply.code(201).send({ invoice: await toInvoiceDto(deps, req, me, inv), payment: toPaymentDto(p!.payment, p!.timeline, ctx) });
    },
  );
}

/** GET /checkout/{id}/status: public, what the payer's checkout page polls. */
function checkoutStatusRoute(app: TypedApp, deps: InvoiceRoutesDeps): void {
  // Public: what the payer's checkout page polls. Reveals only what the payer needs.
  app.get(
    '/checkout/:id/status',
    {
      schema: { tags, summary: "An invoice's status for its payer (public; nothing about the merchant)", params: Type.Object({ id: ID }), response: { 200: CheckoutStatusSchema, '4xx': Problem } },
    },
    async (req) => {
      const r = await deps.invoices.get(req.params.id);
      if (!r) throw problems.notFound('invoice');
      return checkoutStatus(deps.invoices, r);
    },
  );
}
