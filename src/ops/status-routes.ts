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

export function statusRoutes(deps: { config: Config; clock: Clock; maintenance: Maintenance; announcements?: Announcements; chainStatus?: () => Promise<ChainStatus[]> }): FastifyPluginAsync {
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
              chains: Type.Array(Type.Object({ chain_id: Type.Integer(), name: Type.String(), head: Nullable(Type.Integer()), lag_blocks: Nullable(Type.Integer()), block_time_s: Nullable(Type.Number()), maintenance: Type.Boolean() })),
              maintenance: Type.Array(WindowSchema),
              announcements: Type.Array(AnnouncementSchema),
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
        const chains = deps.config.chains.map((c) => {
          const m = measured.get(c.chain_id);
          return { chain_id: c.chain_id, name: c.name, head: m?.head ?? null, lag_blocks: m?.lag_blocks ?? null, block_time_s: m?.block_time_s ?? null, maintenance: active.some((w) => w.scope === `chain:${c.chain_id}`) };
        });
        const global = active.some((w) => w.scope === 'global');
        const degraded = active.length > 0 || chains.some((c) => c.lag_blocks !== null && c.lag_blocks > LAG_BLOCKS_DEGRADED);
        return {
          status: global ? ('maintenance' as const) : degraded ? ('degraded' as const) : ('operational' as const),
          chains,
          maintenance: active.map((w) => windowDto(w, now)),
          announcements: await publicAnnouncements(deps.maintenance, deps.announcements ?? null, now, locale),
        };
      },
    );
  };
}
