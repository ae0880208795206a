// P2P routes (API.md part 2 "P2P trades"): thin handlers over the trades face. Ads are listed
// and read publicly; everything else needs a signed-in session. An order answers only to its two
// parties and staff (404 to anyone else); release is a step-up route; placing an order needs an
// Idempotency-Key and stops during a global maintenance window.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { TypedApp } from '../http/typed-app.ts';
import type { Clock } from '../shared/clock.ts';
import { ProblemError } from '../shared/errors.ts';
import { isStaff, requirePrincipal, type Principal } from '../shared/principal.ts';
import { LIMITS } from '../config.ts';
import { AdSchema, OrderSchema, type Trades } from './trades.ts';
import { ORDER_STATUSES } from './order-rules.ts';

export interface TradeRoutesDeps {
  trades: Trades;
  clock: Clock;
  /** Throws 401 step_up_required unless the session's privileged window is open. */
  requireStepUp: (p: Principal) => Promise<void>;
}

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Id = Type.String({ minLength: 3, maxLength: 80, pattern: '^[A-Za-z0-9_]+$' });
const Amount = Type.String({ pattern: '^(0|[1-9][0-9]{0,40})(\\.[0-9]{1,36})?$' });
const Asset = Type.String({ pattern: '^[A-Z0-9]{2,12}$' });
const Fiat = Type.String({ pattern: '^[A-Z]{3}$' });
const Side = Type.Union([Type.Literal('sell'), Type.Literal('buy')]);
const Attachments = Type.Array(Type.String({ minLength: 1, maxLength: 80 }), { maxItems: 10 });
const StatsSchema = Type.Object({ trades_30d: Type.Integer(), completion_rate_30d: Type.Number(), avg_release_s: Type.Union([Type.Integer(), Type.Null()]), strikes: Type.Integer() });
const viewer = (p: Principal) => ({ user_id: p.user_id, staff: isStaff(p) });
const notFound = () => new ProblemError(404, 'not_found', 'No such order of yours.');

const params = Type.Object({ id: Id });

export function tradeRoutes(deps: TradeRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    adRoutes(app, deps);
    orderRoutes(app, deps);
    orderStepRoutes(app, deps);
  };
}

/** Ads: post, list, read (public), the owner's status changes, and traders' public figures. */
function adRoutes(app: TypedApp, deps: TradeRoutesDeps): void {
  const { trades } = deps;

    app.post('/p2p/ads', {
      config: { auth: 'session', moneyMoving: 'global' },
      schema: {
        tags: ['p2p'], summary: 'Post an ad; a sell ad reserves its amount from your available balance at once', security: [{ bearer: [] }],
        body: Type.Object({
          side: Side, asset: Asset, fiat: Fiat, price: Type.String({ minLength: 1, maxLength: 40 }),
          min_amount: Amount, max_amount: Amount, amount: Amount,
          payment_methods: Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { minItems: 1, maxItems: 10 }),
          terms: Type.Optional(Type.String({ maxLength: 2000 })),
        }, { additionalProperties: false }),
        response: { 201: AdSchema, '4xx': Problem, 503: Problem },
      },
    }, async (req, reply) => {
      const me = requirePrincipal(req.principal);
      return reply.code(201).send(await trades.postAd(me.user_id, { ...req.body, terms: req.body.terms ?? '' }));
    });

    app.get('/p2p/ads', {
      config: { auth: 'public' },
      schema: {
        tags: ['p2p'], summary: 'Active ads, best price first (lowest for sell ads, highest for buy ads), cursor-paged',
        querystring: Type.Object({ side: Type.Optional(Side), asset: Type.Optional(Asset), fiat: Type.Optional(Fiat), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.page_size_max })), cursor: Type.Optional(Type.String({ maxLength: 120 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(AdSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), '4xx': Problem },
      },
    }, async (req) => trades.listAds({ ...req.query, limit: req.query.limit ?? 20 }));

    app.get('/p2p/ads/:id', {
      config: { auth: 'public' },
      schema: { tags: ['p2p'], summary: 'One ad (public)', params, response: { 200: AdSchema, '4xx': Problem } },
    }, async (req) => {
      const ad = await trades.getAd(req.params.id);
      if (!ad) throw new ProblemError(404, 'not_found', 'No such ad.');
      return ad;
    });

    app.patch('/p2p/ads/:id', {
      config: { auth: 'session' },
      schema: {
        tags: ['p2p'], summary: 'Pause, resume or close your ad (closing returns what is left of its reservation)', security: [{ bearer: [] }], params,
        body: Type.Object({ status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('closed')]) }, { additionalProperties: false }),
        response: { 200: AdSchema, '4xx': Problem },
      },
    }, async (req) => trades.setAdStatus(requirePrincipal(req.principal).user_id, req.params.id, req.body.status));

    app.get('/p2p/users/:id', {
      config: { auth: 'public' },
      schema: { tags: ['p2p'], summary: 'A trader’s public figures over 30 days', params, response: { 200: StatsSchema, '4xx': Problem } },
    }, async (req) => trades.userStats(req.params.id));
}

/** Orders: place, list, read. */
function orderRoutes(app: TypedApp, deps: TradeRoutesDeps): void {
  const { trades } = deps;
    app.post('/p2p/orders', {
      config: { auth: 'session', idempotent: true, moneyMoving: 'global' },
      schema: {
        tags: ['p2p'], summary: 'Take an ad (Idempotency-Key): the coins are in escrow at once', security: [{ bearer: [] }],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: Type.Object({ ad_id: Id, amount: Amount }, { additionalProperties: false }),
        response: { 201: OrderSchema, '4xx': Problem, 503: Problem },
      },
    }, async (req, reply) => {
      const me = requirePrincipal(req.principal);
      const r = await trades.placeOrder(me.user_id, { ad_id: req.body.ad_id, amount: req.body.amount, idempotency_key: req.idempotency?.key ?? String(req.headers['idempotency-key']) });
      return reply.code(201).send(await trades.orderDto(r.order, viewer(me)));
    });

    app.get('/p2p/orders', {
      config: { auth: 'session' },
      schema: {
        tags: ['p2p'], summary: 'Your orders, newest first', security: [{ bearer: [] }],
        querystring: Type.Object({ role: Type.Optional(Type.Union([Type.Literal('buyer'), Type.Literal('seller')])), status: Type.Optional(Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)))), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.page_size_max })), cursor: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(OrderSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), '4xx': Problem },
      },
    }, async (req) => trades.listOrders(requirePrincipal(req.principal).user_id, { ...req.query, limit: req.query.limit ?? 20 }));

    app.get('/p2p/orders/:id', {
      config: { auth: 'session' },
      schema: { tags: ['p2p'], summary: 'One order (its two parties, and staff)', security: [{ bearer: [] }], params, response: { 200: OrderSchema, '4xx': Problem } },
    }, async (req) => {
      const found = await trades.readOrder(req.params.id, viewer(requirePrincipal(req.principal)));
      if (!found) throw notFound();
      return found;
    });

}

/** An order's steps (paid, cancel, release with step-up) and its chat. */
function orderStepRoutes(app: TypedApp, deps: TradeRoutesDeps): void {
  const { trades } = deps;
    const step = (path: string, action: 'mark_paid' | 'cancel' | 'release', summary: string, body: ReturnType<typeof Type.Object> | null) =>
      app.post(`/p2p/orders/:id/${path}`, {
        config: { auth: 'session' },
        schema: { tags: ['p2p'], summary, security: [{ bearer: [] }], params, ...(body ? { body } : {}), response: { 200: OrderSchema, '4xx': Problem } },
        // The body is optional: a button press sends none.
        preValidation: async (req) => {
          if (body && req.body === undefined) req.body = {};
        },
      }, async (req) => {
        const me = requirePrincipal(req.principal);
        const input = (req.body ?? {}) as { note?: string; attachment_ids?: string[] };
        // Only the order's seller is asked to step up: anyone else learns nothing of the order.
        if (action === 'release') {
          const seen = await trades.readOrder(req.params.id, { user_id: me.user_id, staff: false });
          if (!seen) throw notFound();
          if (seen.role === 'seller') await deps.requireStepUp(me);
        }
        const order = await trades.act({ user_id: me.user_id, actor: 'party' }, req.params.id, action, input);
        return trades.orderDto(order, viewer(me));
      });
    step('paid', 'mark_paid', 'Buyer: I have paid (before pay_by), with an optional note and proof', Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })), attachment_ids: Type.Optional(Attachments) }, { additionalProperties: false }));
    step('cancel', 'cancel', 'Buyer: cancel the order (after marking paid it counts a strike)', null);
    step('release', 'release', 'Seller: release the coins to the buyer (step-up)', null);

    app.post('/p2p/orders/:id/messages', {
      config: { auth: 'session' },
      schema: {
        tags: ['p2p'], summary: 'Order chat: a message to the other party', security: [{ bearer: [] }], params,
        body: Type.Object({ body: Type.String({ minLength: 1, maxLength: 2000 }), attachment_ids: Type.Optional(Attachments) }, { additionalProperties: false }),
        response: { 201: OrderSchema, '4xx': Problem },
      },
    }, async (req, reply) => {
      const me = requirePrincipal(req.principal);
      return reply.code(201).send(await trades.postMessage(viewer(me), req.params.id, req.body.body, req.body.attachment_ids ?? []));
    });
}
