// The status page's samples: every minute the worker records each chain's figures (one row per
// chain and minute, so two processes sampling the same minute write it once) and forgets rows
// older than RETENTION_MS; GET /status/history reads them back in buckets.
import { sql } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import { intervalWorker } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { depositsState, percentile, stateOrdinal, withdrawalsState, type ChainFigures } from './status-rules.ts';

export const SAMPLE_EVERY_MS = 60_000;
export const RETENTION_MS = 31 * 24 * 3600_000;

/** Records one sample per chain for the current minute; returns rows written. */
export async function recordSamples(db: Db, figures: readonly ChainFigures[], now_ms: number): Promise<number> {
  const at_ms = Math.floor(now_ms / SAMPLE_EVERY_MS) * SAMPLE_EVERY_MS;
  let written = 0;
  await db.transaction(async (trx) => {
    for (const f of figures) {
      const res = await trx.insertInto('status_samples').values({
        chain_id: f.chain_id, at_ms, head: f.head, lag_blocks: f.lag_blocks,
        deposits_state: stateOrdinal(depositsState(f, now_ms)), withdrawals_state: stateOrdinal(withdrawalsState(f, now_ms)),
        confirm_p50_s: percentile(f.confirm_durations_s, 50), confirm_p95_s: percentile(f.confirm_durations_s, 95),
        deposits_confirming: f.deposits_confirming, withdrawals_queued: f.withdrawals_queued,
      }).onConflict((oc) => oc.columns(['chain_id', 'at_ms']).doNothing()).executeTakeFirst();
      written += Number(res.numInsertedOrUpdatedRows ?? 0n);
    }
    await trx.deleteFrom('status_samples').where('at_ms', '<', now_ms - RETENTION_MS).execute();
  });
  return written;
}

export interface HistoryPoint {
  at_ms: number;
  lag_blocks: number | null;
  confirm_p50_s: number | null;
  confirm_p95_s: number | null;
  deposits_confirming: number;
  withdrawals_queued: number;
  deposits_state: number;
  withdrawals_state: number;
}

/** Buckets of `bucket_ms` since `since_ms`, per chain: worst state, max backlog and lag, mean p50, max p95. */
export async function sampleHistory(ex: DbExecutor, since_ms: number, bucket_ms: number): Promise<Map<number, HistoryPoint[]>> {
  // A literal, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
  const bucket = sql<number>`(at_ms / ${sql.lit(Math.trunc(bucket_ms))})`;
  const rows = await ex
    .selectFrom('status_samples')
    .select([
      'chain_id', bucket.as('b'),
      sql<number | null>`max(lag_blocks)`.as('lag_blocks'), sql<number | null>`avg(confirm_p50_s)`.as('confirm_p50_s'), sql<number | null>`max(confirm_p95_s)`.as('confirm_p95_s'),
      sql<number>`max(deposits_confirming)`.as('deposits_confirming'), sql<number>`max(withdrawals_queued)`.as('withdrawals_queued'),
      sql<number>`max(deposits_state)`.as('deposits_state'), sql<number>`max(withdrawals_state)`.as('withdrawals_state'),
    ])
    .where('at_ms', '>=', since_ms)
    .groupBy(['chain_id', bucket])
    .orderBy('chain_id')
    .orderBy(bucket)
    .execute();
  const out = new Map<number, HistoryPoint[]>();
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  for (const r of rows) {
    const id = Number(r.chain_id);
    if (!out.has(id)) out.set(id, []);
    out.get(id)!.push({
      at_ms: Number(r.b) * bucket_ms, lag_blocks: num(r.lag_blocks), confirm_p50_s: num(r.confirm_p50_s), confirm_p95_s: num(r.confirm_p95_s),
      deposits_confirming: Number(r.deposits_confirming), withdrawals_queued: Number(r.withdrawals_queued), deposits_state: Number(r.deposits_state), withdrawals_state: Number(r.withdrawals_state),
    });
  }
  return out;
}

/** The sampling worker: figures() measures every chain now (assembled by the platform). */
export function statusSampler(deps: { db: Db; clock: Clock; figures: () => Promise<ChainFigures[]>; every_ms?: number }, onError?: (e: unknown) => void) {
  return intervalWorker('status.sampler', deps.every_ms ?? SAMPLE_EVERY_MS, async () => recordSamples(deps.db, await deps.figures(), deps.clock.now_ms()), onError);
}
