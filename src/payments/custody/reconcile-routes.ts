// Staff see open incidents of both kinds — the chain's (a released deposit reversed by a deep
// reorg, …) and the reconciler's (a difference between records, ledger and chain) — and
// acknowledge them; each acknowledgement is written to the audit log in the same transaction.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Db } from '../../db/database.ts';
import { enforceRouteAuth } from '../../http/route-auth.ts';
import { isoTime, type Clock } from '../../shared/clock.ts';
import { ProblemError } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { STAFF_ROLES } from '../../shared/principal.ts';
import * as store from './reconcile-store.ts';

const LIST_MAX = 200;
const ACK_ROLES = ['risk', 'admin'] as const;
const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
export const IncidentSchema = Type.Object({
  id: Type.String(),
  source: Type.Union([Type.Literal('chain'), Type.Literal('reconcile')]),
  kind: Type.String(),
  chain_id: Type.Union([Type.Integer(), Type.Null()]),
  asset: Nullable(Type.String()),
  subject: Type.String(),
  expected_minor: Nullable(Type.String()),
  actual_minor: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  opened_at: Type.String(),
  last_seen_at: Type.String(),
  acknowledged_at: Nullable(Type.String()),
  acknowledged_by: Nullable(Type.String()),
});

function parseDetails(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { text };
  }
}

function reconcileDto(r: store.ReconcileIncidentRow) {
  return {
    id: r.id, source: 'reconcile' as const, kind: r.kind, chain_id: r.chain_id === null ? null : Number(r.chain_id), asset: r.asset, subject: r.subject,
    expected_minor: r.expected_minor === null ? null : String(r.expected_minor), actual_minor: r.actual_minor === null ? null : String(r.actual_minor),
    details: parseDetails(r.details), opened_at: isoTime(r.opened_at_ms), last_seen_at: isoTime(r.last_seen_at_ms),
    acknowledged_at: r.acknowledged_at_ms === null ? null : isoTime(r.acknowledged_at_ms), acknowledged_by: r.acknowledged_by,
  };
}

function chainDto(r: Awaited<ReturnType<typeof store.selectOpenChainIncidents>>[number]) {
  return {
    id: r.id, source: 'chain' as const, kind: r.kind, chain_id: Number(r.chain_id), asset: null, subject: `${r.subject_type}:${r.subject_id}`,
    expected_minor: null, actual_minor: null, details: parseDetails(r.details), opened_at: isoTime(r.created_at_ms), last_seen_at: isoTime(r.created_at_ms),
    acknowledged_at: r.acknowledged_at_ms === null ? null : isoTime(r.acknowledged_at_ms), acknowledged_by: r.acknowledged_by,
  };
}

/** platform.routes.push({ name: 'incidents', plugin: incidentRoutes({ db, clock }) }) */
export function incidentRoutes(deps: { db: Db; clock: Clock }): FastifyPluginAsync {
  const { db, clock } = deps;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: clock.now_ms() }));

    app.get(
      '/admin/incidents',
      {
        config: { auth: STAFF_ROLES },
        schema: {
          tags: ['staff'],
          summary: 'Open incidents: chain (reorg reversals …) and reconciliation differences (staff)',
          security: [{ bearer: [] }],
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_MAX })) }, { additionalProperties: false }),
          response: { 200: Type.Object({ data: Type.Array(IncidentSchema) }), '4xx': Problem },
        },
      },
      async (req) => {
        const limit = req.query.limit ?? LIST_MAX;
        const [rec, chain] = await Promise.all([store.selectOpenReconcileIncidents(db.kysely, limit), store.selectOpenChainIncidents(db.kysely, limit)]);
        const data = [...rec.map(reconcileDto), ...chain.map(chainDto)].sort((a, b) => a.opened_at.localeCompare(b.opened_at) || a.id.localeCompare(b.id)).slice(0, limit);
        return { data };
      },
    );

    app.post(
      '/admin/incidents/:id/acknowledge',
      {
        // Acknowledging says "someone who can act on money has seen this": risk and admin, not support agents.
        config: { auth: ACK_ROLES },
        schema: {
          tags: ['staff'],
          summary: 'Acknowledge an incident (risk, admin; audited)',
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 80 }) }),
          body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
          response: { 200: Type.Object({ id: Type.String(), acknowledged: Type.Boolean() }), '4xx': Problem },
        },
      },
      async (req) => {
        const me = req.principal!;
        const now = clock.now_ms();
        const result = await db.transaction(async (trx) => {
          const r = await store.acknowledgeIncident(trx, req.params.id, me.user_id, now);
          if (r === 'ok') {
            await trx.insertInto('audit_log').values({
              id: newId('aud', now), at_ms: now, actor_type: 'staff', actor_id: me.user_id, action: 'incident_acknowledged',
              subject_type: 'incident', subject_id: req.params.id, ip: req.ip, user_agent: req.headers['user-agent'] ?? null, request_id: String(req.id),
              details: JSON.stringify({ note: req.body?.note ?? null }),
            }).execute();
          }
          return r;
        });
        if (result === 'not_found') throw new ProblemError(404, 'not_found', 'No incident has that id.');
        if (result === 'already') throw new ProblemError(409, 'already_acknowledged', 'This incident was already acknowledged.');
        return { id: req.params.id, acknowledged: true };
      },
    );
  };
}
