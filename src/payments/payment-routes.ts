// Routes over the one payment model: the caller's payments (own only; someone else's is a 404,
// never a 403, so that ids reveal nothing) and balances of every configured asset.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Clock } from '../shared/clock.ts';
import { problems } from '../shared/errors.ts';
import { pickLocale } from '../shared/i18n.ts';
import { formatAmount } from '../shared/money.ts';
import { requireScope, type Principal } from '../shared/principal.ts';
import { PaymentSchema, needsChainTiming, needsMaintenanceWindows, toPaymentDto, type ActiveWindow, type ChainTiming, type DtoContext } from './payment-dto.ts';
import { PAYMENT_KINDS, PAYMENT_STATUSES, assetsFromChains, type AssetInfo } from './payment-rules.ts';
import { getPayment, listPayments, type Payment } from './payments.ts';

/** How long a staff review is expected to take (the ETA of `review` / `risk_review`). */
export const REVIEW_SLA_MS = 4 * 3600_000;

export interface PaymentViewDeps {
  db: Db;
  clock: Clock;
  config: Config;
  /** Measured block timing per chain (from the scanner's records); empty until measured. */
  chainTiming?: (ex: DbExecutor) => Promise<Map<number, ChainTiming>>;
  /** Active maintenance windows. */
  activeWindows?: (ex: DbExecutor, now_ms: number) => Promise<ActiveWindow[]>;
  /** Emails of counterparties (user ids) for transfers. */
  emailsOf?: (ex: DbExecutor, user_ids: string[]) => Promise<Map<string, string>>;
}

export interface PaymentRoutesDeps extends PaymentViewDeps {
  /** The ledger, once the platform has one (balances come from it). */
  ledger: () => Ledger | null;
}

export function assetMap(config: Config): Map<string, AssetInfo> {
  return new Map(assetsFromChains(config.chains).map((a) => [a.code, a]));
}

/**
 * Loads what toPaymentDto needs for these payments, once. With `only: 'dto'` it loads only what
 * these payments need (chain timing when one waits for blocks, maintenance windows when one is
 * held for maintenance): a completed transfer then costs one statement here instead of three.
 * Without it, timing and windows are loaded for every payment (stuck detection reads them).
 */
export async function dtoContext(deps: PaymentViewDeps, req: FastifyRequest | null, principal: Principal | null, payments: Payment[], only: 'dto' | 'all' = 'all'): Promise<DtoContext> {
  const now = deps.clock.now_ms();
  const ex = deps.db.kysely;
  const counterpartyIds = [...new Set(payments.filter((p) => p.counterparty && (p.kind === 'transfer' || p.kind === 'trade')).map((p) => p.counterparty!))];
  return {
    locale: pickLocale(principal?.locale ?? null, req?.headers['accept-language']),
    now_ms: now,
    assets: assetMap(deps.config),
    timing: deps.chainTiming && (only === 'all' || payments.some(needsChainTiming)) ? await deps.chainTiming(ex) : new Map(),
    windows: deps.activeWindows && (only === 'all' || payments.some(needsMaintenanceWindows)) ? await deps.activeWindows(ex, now) : [],
    review_sla_ms: REVIEW_SLA_MS,
    counterparties: deps.emailsOf && counterpartyIds.length ? await deps.emailsOf(ex, counterpartyIds) : new Map(),
  };
}

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Balance = Type.Object({ asset: Type.String(), available: Type.String(), pending_in: Type.String(), pending_out: Type.String(), held: Type.String() });

/** A user's balance in every configured asset, zeros included (none before the ledger is up). */
async function balancesOf(deps: PaymentRoutesDeps, user_id: string): Promise<Array<Static<typeof Balance>>> {
  const assets = [...assetMap(deps.config).values()];
  const ledger = deps.ledger();
  const rows = ledger && assets.length ? await ledger.balancesOf('user', user_id, assets.map((a) => a.code)) : [];
  const byAsset = new Map(rows.map((r) => [r.asset, r]));
  return assets.map((a) => {
    const b = byAsset.get(a.code);
    return {
      asset: a.code,
      available: formatAmount(b?.available_minor ?? 0n, a.decimals),
      pending_in: formatAmount(b?.pending_in_minor ?? 0n, a.decimals),
      pending_out: formatAmount(b?.pending_out_minor ?? 0n, a.decimals),
      held: formatAmount(b?.held_minor ?? 0n, a.decimals),
    };
  });
}

export function paymentRoutes(deps: PaymentRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/payments',
      {
        schema: {
          tags: ['payments'],
          summary: 'Your payments of every kind, newest first',
          security: [{ bearer: [] }],
          querystring: Type.Object(
            {
              kind: Type.Optional(Type.Union(PAYMENT_KINDS.map((k) => Type.Literal(k)))),
              status: Type.Optional(Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s)))),
              limit: Type.Integer({ minimum: 1, maximum: deps.config.limits.page_size_max, default: 20 }),
              cursor: Type.Optional(Type.String({ pattern: '^[a-z]+_[0-9a-z]+$', maxLength: 100 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ data: Type.Array(PaymentSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), '4xx': Problem },
        },
      },
      async (req) => {
        const me = requireScope(req.principal, 'payments:read');
        const page = await listPayments(deps.db.kysely, { user_id: me.user_id, kind: req.query.kind, status: req.query.status, limit: req.query.limit, cursor: req.query.cursor ?? null });
        const ctx = await dtoContext(deps, req, me, page.data.map((d) => d.payment), 'dto');
        return { data: page.data.map((d) => toPaymentDto(d.payment, d.timeline, ctx)), next_cursor: page.next_cursor };
      },
    );

    app.get(
      '/payments/:id',
      {
        schema: {
          tags: ['payments'],
          summary: 'One of your payments, with its explanation and timeline',
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
          response: { 200: PaymentSchema, '4xx': Problem },
        },
      },
      async (req) => {
        const me = requireScope(req.principal, 'payments:read');
        const found = await getPayment(deps.db.kysely, req.params.id);
        if (!found || found.payment.user_id !== me.user_id) throw problems.notFound('payment');
        const ctx = await dtoContext(deps, req, me, [found.payment], 'dto');
        return toPaymentDto(found.payment, found.timeline, ctx);
      },
    );

    app.get(
      '/balances',
      {
        schema: {
          tags: ['payments'],
          summary: 'Your balances in every configured asset, zeros included',
          security: [{ bearer: [] }],
          response: { 200: Type.Object({ data: Type.Array(Balance) }), '4xx': Problem },
        },
      },
      async (req) => {
        const me = requireScope(req.principal, 'payments:read');
        return { data: await balancesOf(deps, me.user_id) };
      },
    );
  };
}
