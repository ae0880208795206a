// GET /status (public): is the platform operational, degraded or in maintenance; each chain's
// head, lag and measured block time (as the scanner records them); the active windows; the
// announcements.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import { pickLocale } from '../shared/i18n.ts';
import type { Maintenance } from './maintenance.ts';
import { WindowSchema, windowDto } from './maintenance-routes.ts';
import { AnnouncementSchema, publicAnnouncements } from './announcement-routes.ts';
import type { Announcements } from './announcements.ts';
import { HISTORY_DAYS, depositsState, historyBucketMs, percentile, stateOf, withdrawalsState, type ChainFigures } from './status-rules.ts';
import type { HistoryPoint } from './status-samples.ts';
import { ProblemError } from '../shared/errors.ts';
import { isoTime } from '../shared/clock.ts';
import type { TypedApp } from '../http/typed-app.ts';
import { isActive } from './maintenance-rules.ts';

export interface ChainStatus {
  chain_id: number;
  head: number | null;
  lag_blocks: number | null;
  block_time_s: number | null;
}

/** A chain this many blocks behind makes the platform `degraded`. */
export const LAG_BLOCKS_DEGRADED = 50;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const State = Type.Union([Type.Literal('operational'), Type.Literal('delayed'), Type.Literal('maintenance'), Type.Literal('halted')]);
const Incident = Type.Object({
  id: Type.String(), kind: Type.String(), chain_id: Nullable(Type.Integer()),
  status: Type.Union([Type.Literal('investigating'), Type.Literal('identified'), Type.Literal('resolved')]),
  started_at: Type.String(), resolved_at: Nullable(Type.String()),
  updates: Type.Array(Type.Object({ at: Type.String(), status: Type.String() })),
});
const Point = Type.Object({
  at: Type.String(), lag_blocks: Nullable(Type.Number()), confirm_p50_s: Nullable(Type.Number()), confirm_p95_s: Nullable(Type.Number()),
  deposits_confirming: Type.Integer(), withdrawals_queued: Type.Integer(), deposits: State, withdrawals: State,
});

/** What the status page reads beyond ops' own windows (assembled by the platform across modules). */
export interface StatusDeps {
  config: Config;
  clock: Clock;
  maintenance: Maintenance;
  announcements?: Announcements;
  chainStatus?: () => Promise<ChainStatus[]>;
  /** Each chain's figures now (payments: backlog, confirmation times, scanner head). */
  figures?: (activeOn: (chain_id: number) => boolean) => Promise<ChainFigures[]>;
  /** Recent incidents with their updates, as the public may see them. */
  incidents?: () => Promise<Array<{ id: string; kind: string; chain_id: number | null; status: 'investigating' | 'identified' | 'resolved'; started_at: string; resolved_at: string | null; updates: Array<{ at: string; status: string }> }>>;
  /** The recorded samples in buckets (status-samples.ts). */
  history?: (since_ms: number, bucket_ms: number) => Promise<Map<number, HistoryPoint[]>>;
}

function chainExtras(f: ChainFigures | undefined, now_ms: number, maintenance: boolean) {
  if (!f) return { deposits: maintenance ? ('maintenance' as const) : ('halted' as const), withdrawals: maintenance ? ('maintenance' as const) : ('operational' as const), confirmation_time_s: { p50: null, p95: null }, backlog: { deposits_confirming: 0, withdrawals_queued: 0 } };
  return {
    deposits: depositsState(f, now_ms), withdrawals: withdrawalsState(f, now_ms),
    confirmation_time_s: { p50: percentile(f.confirm_durations_s, 50), p95: percentile(f.confirm_durations_s, 95) },
    backlog: { deposits_confirming: f.deposits_confirming, withdrawals_queued: f.withdrawals_queued },
  };
}

export function statusRoutes(deps: StatusDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/status',
      {
        schema: {
          tags: ['status'],
          summary: 'Platform status (public)',
          response: {
            200: Type.Object({
              status: Type.Union([Type.Literal('operational'), Type.Literal('degraded'), Type.Literal('maintenance')]),
              chains: Type.Array(Type.Object({
                chain_id: Type.Integer(), name: Type.String(), head: Nullable(Type.Integer()), lag_blocks: Nullable(Type.Integer()), block_time_s: Nullable(Type.Number()), maintenance: Type.Boolean(),
                deposits: State, withdrawals: State,
                confirmation_time_s: Type.Object({ p50: Nullable(Type.Number()), p95: Nullable(Type.Number()) }),
                backlog: Type.Object({ deposits_confirming: Type.Integer(), withdrawals_queued: Type.Integer() }),
              })),
              maintenance: Type.Array(WindowSchema),
              announcements: Type.Array(AnnouncementSchema),
              incidents: Type.Array(Incident),
            }),
          },
        },
      },
      async (req) => {
        const now = deps.clock.now_ms();
        const locale = pickLocale(req.principal?.locale ?? null, req.headers['accept-language']);
        const current = await deps.maintenance.current();
        const active = current.filter((w) => isActive(w, now));
        const measured = new Map((deps.chainStatus ? await deps.chainStatus().catch(() => []) : []).map((c) => [c.chain_id, c]));
        const activeOn = (chain_id: number) => active.some((w) => w.scope === 'global' || w.scope === `chain:${chain_id}`);
        const figures = new Map((deps.figures ? await deps.figures(activeOn).catch(() => []) : []).map((f) => [f.chain_id, f]));
        const chains = deps.config.chains.map((c) => {
          const m = measured.get(c.chain_id);
          const maintenance = active.some((w) => w.scope === `chain:${c.chain_id}`);
          return { chain_id: c.chain_id, name: c.name, head: m?.head ?? null, lag_blocks: m?.lag_blocks ?? null, block_time_s: m?.block_time_s ?? null, maintenance, ...chainExtras(figures.get(c.chain_id), now, activeOn(c.chain_id)) };
        });
        const global = active.some((w) => w.scope === 'global');
        const degraded = active.length > 0 || chains.some((c) => c.lag_blocks !== null && c.lag_blocks > LAG_BLOCKS_DEGRADED);
        return {
          status: global ? ('maintenance' as const) : degraded ? ('degraded' as const) : ('operational' as const),
          chains,
          maintenance: active.map((w) => windowDto(w, now)),
          announcements: await publicAnnouncements(deps.maintenance, deps.announcements ?? null, now, locale),
          incidents: deps.incidents ? await deps.incidents().catch(() => []) : [],
        };
      },
    );
    historyRoute(app, deps);
  };
}

/** GET /status/history?days=1..7|30: each chain's recorded samples in about 100 buckets. */
function historyRoute(app: TypedApp, deps: StatusDeps): void {
  app.get('/status/history', {
    config: { auth: 'public' },
    schema: {
      tags: ['status'],
      summary: 'Recorded status samples per chain for the charts (public): days 1..7 or 30, bucketed (worst state, max lag and backlog, mean p50, max p95)',
      querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 30, default: 1 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ days: Type.Integer(), bucket_s: Type.Integer(), chains: Type.Array(Type.Object({ chain_id: Type.Integer(), name: Type.String(), points: Type.Array(Point) })) }) },
    },
  }, async (req) => {
    const days = req.query.days;
    if (!(HISTORY_DAYS as readonly number[]).includes(days)) throw new ProblemError(400, 'validation_failed', 'days must be 1 to 7, or 30.', { errors: [{ path: '/days', message: 'must be 1..7 or 30' }] });
    const bucket_ms = historyBucketMs(days);
    const now = deps.clock.now_ms();
    const byChain = deps.history ? await deps.history(now - days * 24 * 3600_000, bucket_ms) : new Map<number, HistoryPoint[]>();
    return {
      days, bucket_s: bucket_ms / 1000,
      chains: deps.config.chains.map((c) => ({
        chain_id: c.chain_id, name: c.name,
        points: (byChain.get(c.chain_id) ?? []).map((p) => ({
          at: isoTime(p.at_ms), lag_blocks: p.lag_blocks, confirm_p50_s: p.confirm_p50_s, confirm_p95_s: p.confirm_p95_s,
          deposits_confirming: p.deposits_confirming, withdrawals_queued: p.withdrawals_queued, deposits: stateOf(p.deposits_state), withdrawals: stateOf(p.withdrawals_state),
        })),
      })),
    };
  });
}
