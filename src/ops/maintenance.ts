// Maintenance windows: staff schedule them (global or one chain); while one is active, the
// money-moving routes it covers answer 503 `maintenance` with Retry-After and the window's
// message — after authentication, before validation — and the window is announced publicly.
// Its start and end go to the outbox (`maintenance.started`, `maintenance.ended`) through
// durable jobs, so that work held during the window (deposit releases) resumes by itself.
//
//   const maintenance = createMaintenance({ db, clock, config });
//   maintenance.registerJobs(platform.jobs);
//   platform.routes.unshift(maintenance.guard());          // before every money-moving route
//   route config: { moneyMoving: 'chain', idempotent: true }
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import { emitEvent, enqueueJob, type JobRunner } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import { ProblemError, problems } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { Locale } from '../shared/i18n.ts';
import { blockingWindow, effectiveEndMs, isActive, retryAfterSeconds, validateWindow, type MaintenanceWindow, type MoneyMoving, type WindowRefusal } from './maintenance-rules.ts';
import { insertWindow, markEnded, selectCurrentWindows, selectRecentWindows, selectWindow } from './maintenance-store.ts';

export type { MaintenanceWindow, MoneyMoving } from './maintenance-rules.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Money-moving route: refused with 503 while a maintenance window covering it is active. */
    moneyMoving?: MoneyMoving;
  }
}

export const WINDOWS_LISTED_MAX = 100;
export const MAINTENANCE_STARTED_JOB = 'ops.maintenance_started';
export const MAINTENANCE_ENDED_JOB = 'ops.maintenance_ended';

export interface ScheduleInput {
  scope: string;
  starts_at_ms: number;
  ends_at_ms: number;
  message: string;
  message_zh?: string | null;
}

export interface Maintenance {
  /** Schedules a window; audited under the staff member (with the request's meta when given). */
  schedule(input: ScheduleInput, actor_id: string, meta?: AuditMeta | null): Promise<{ ok: true; window: MaintenanceWindow } | { ok: false; reason: WindowRefusal }>;
  /** Ends a window now; audited when it ends it. */
  end(id: string, actor_id: string, meta?: AuditMeta | null): Promise<MaintenanceWindow | null>;
  get(id: string): Promise<MaintenanceWindow | null>;
  /** Active and upcoming windows. */
  current(ex?: DbExecutor): Promise<MaintenanceWindow[]>;
  active(ex?: DbExecutor): Promise<MaintenanceWindow[]>;
  recent(limit: number): Promise<MaintenanceWindow[]>;
  /** The window blocking a request of this kind on this chain now, or null. */
  blocking(kind: MoneyMoving, chain_id: number | null): Promise<MaintenanceWindow | null>;
  registerJobs(jobs: JobRunner): void;
  /** A route module (skip-override plugin) adding the preValidation guard to every later route. */
  guard(): { name: string; plugin: FastifyPluginAsync };
}

export function windowMessage(w: MaintenanceWindow, locale: Locale): string {
  return locale === 'zh-CN' && w.message_zh ? w.message_zh : w.message;
}

/** The 503 a blocked request gets. */
export function maintenanceProblem(w: MaintenanceWindow, now_ms: number, locale: Locale): ProblemError {
  const ends = effectiveEndMs(w);
  return new ProblemError(
    503,
    'maintenance',
    windowMessage(w, locale),
    { maintenance: { id: w.id, scope: w.scope, starts_at: isoTime(w.starts_at_ms), ends_at: isoTime(ends), message: windowMessage(w, locale) } },
    { 'retry-after': String(retryAfterSeconds(w, now_ms)) },
  ).inLocale(locale);
}

/** Which chain a money-moving request concerns: body.chain_id, or the chain of body.asset. */
function chainOfRequest(req: FastifyRequest, config: Config): number | null {
  const body = (req.body ?? {}) as { chain_id?: unknown; asset?: unknown };
  if (typeof body.chain_id === 'number') return body.chain_id;
  if (typeof body.asset !== 'string') return null;
  for (const c of config.chains) {
    if (c.native?.symbol === body.asset) return c.chain_id;
    if ((c.tokens ?? []).some((t) => t.symbol === body.asset)) return c.chain_id;
  }
  return null;
}

/** The start and end of a window reach the outbox through these durable jobs. */
function registerMaintenanceJobs(jobs: JobRunner, clock: Clock): void {
  jobs.register(MAINTENANCE_STARTED_JOB, async (payload, ctx) => {
    const { id } = payload as { id: string };
    await ctx.commit(async (trx) => {
      const w = await selectWindow(trx, id);
      if (!w || w.ended_at_ms !== null) return;
      await emitEvent(trx, { type: 'maintenance.started', aggregate_type: 'maintenance_window', aggregate_id: id, payload: { id, scope: w.scope, ends_at_ms: w.ends_at_ms } }, clock);
    });
  });
  jobs.register(MAINTENANCE_ENDED_JOB, async (payload, ctx) => {
    const { id } = payload as { id: string };
    await ctx.commit(async (trx) => {
      const w = await selectWindow(trx, id);
      if (!w || (w.ended_at_ms !== null && w.ended_at_ms < w.ends_at_ms)) return;
      await emitEvent(trx, { type: 'maintenance.ended', aggregate_type: 'maintenance_window', aggregate_id: id, payload: { id, scope: w.scope, ended_at_ms: w.ends_at_ms } }, clock);
    });
  });
}

/** A skip-override route module refusing covered money-moving requests while a window blocks them. */
function maintenanceGuard(service: Pick<Maintenance, 'blocking'>, clock: Clock, config: Config): { name: string; plugin: FastifyPluginAsync } {
  const plugin = async (app: FastifyInstance) => {
    app.addHook('preValidation', async (req) => {
      const kind = req.routeOptions.config?.moneyMoving;
      if (!kind) return;
      // After authentication: an anonymous caller learns nothing about maintenance.
      if (!req.principal) throw problems.unauthenticated();
      const w = await service.blocking(kind, chainOfRequest(req, config));
      if (w) throw maintenanceProblem(w, clock.now_ms(), req.principal.locale);
    });
  };
  // Not encapsulated: the hook must reach the routes of every later module.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return { name: 'maintenance-guard', plugin };
}

export function createMaintenance(deps: { db: Db; clock: Clock; config: Config }): Maintenance {
  const { db, clock, config } = deps;
  const chain_ids = config.chains.map((c) => c.chain_id);

  const service: Maintenance = {
    async schedule(input, actor_id, meta = null) {
      const now = clock.now_ms();
      const refusal = validateWindow(input, now, chain_ids);
      if (refusal) return { ok: false, reason: refusal };
      const window: MaintenanceWindow = { id: newId('mw', now), scope: input.scope, starts_at_ms: input.starts_at_ms, ends_at_ms: input.ends_at_ms, message: input.message, message_zh: input.message_zh ?? null, created_by: actor_id, created_at_ms: now, ended_at_ms: null, ended_by: null };
      await db.transaction(async (trx) => {
        await insertWindow(trx, window);
        await emitEvent(trx, { type: 'maintenance.scheduled', aggregate_type: 'maintenance_window', aggregate_id: window.id, payload: { id: window.id, scope: window.scope, starts_at_ms: window.starts_at_ms, ends_at_ms: window.ends_at_ms } }, clock);
        await enqueueJob(trx, MAINTENANCE_STARTED_JOB, { id: window.id }, { run_at_ms: Math.max(now, window.starts_at_ms), unique_key: `${MAINTENANCE_STARTED_JOB}:${window.id}` }, clock);
        await enqueueJob(trx, MAINTENANCE_ENDED_JOB, { id: window.id }, { run_at_ms: window.ends_at_ms, unique_key: `${MAINTENANCE_ENDED_JOB}:${window.id}` }, clock);
        await writeAudit(trx, { actor: { type: 'staff', id: actor_id }, action: 'maintenance_window_scheduled', subject: { type: 'maintenance_window', id: window.id }, meta, details: { scope: window.scope, starts_at_ms: window.starts_at_ms, ends_at_ms: window.ends_at_ms, message: window.message } }, now);
      });
      return { ok: true, window };
    },

    async end(id, actor_id, meta = null) {
      const now = clock.now_ms();
      return db.transaction(async (trx) => {
        const w = await selectWindow(trx, id);
        if (!w) return null;
        if (w.ended_at_ms !== null || w.ends_at_ms <= now) return w;
        await markEnded(trx, id, now, actor_id);
        await writeAudit(trx, { actor: { type: 'staff', id: actor_id }, action: 'maintenance_window_ended', subject: { type: 'maintenance_window', id }, meta, details: { scope: w.scope, planned_end_ms: w.ends_at_ms } }, now);
        // Ended early: announce it now; the planned-end job finds it ended and stays quiet.
        await emitEvent(trx, { type: 'maintenance.ended', aggregate_type: 'maintenance_window', aggregate_id: id, payload: { id, scope: w.scope, ended_at_ms: now } }, clock);
        return { ...w, ended_at_ms: now, ended_by: actor_id };
      });
    },

    get: (id) => selectWindow(db.kysely, id),
    current: (ex = db.kysely) => selectCurrentWindows(ex, clock.now_ms(), WINDOWS_LISTED_MAX),
    async active(ex = db.kysely) {
      const now = clock.now_ms();
      return (await selectCurrentWindows(ex, now, WINDOWS_LISTED_MAX)).filter((w) => isActive(w, now));
    },
    recent: (limit) => selectRecentWindows(db.kysely, limit),
    async blocking(kind, chain_id) {
      const now = clock.now_ms();
      return blockingWindow(await selectCurrentWindows(db.kysely, now, WINDOWS_LISTED_MAX), now, kind, chain_id);
    },

    registerJobs: (jobs) => registerMaintenanceJobs(jobs, clock),
    guard: () => maintenanceGuard(service, clock, config),
  };
  return service;
}
