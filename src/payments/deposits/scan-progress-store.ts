// How far each chain's deposit scanner has come, as it records it in chain_cursors: the measured
// block timing that payment ETAs use, and each chain's head and lag for the public status page.
import type { DbExecutor } from '../../db/database.ts';
import type { ChainStatus } from '../../ops/ops.ts';
import type { ChainTiming } from '../payment-dto.ts';

/** Measured block timing per chain, as the deposit scanner records it (chain_cursors). */
export async function chainTimingFromScanner(ex: DbExecutor): Promise<Map<number, ChainTiming>> {
  try {
    const rows = await ex.selectFrom('chain_cursors').select(['chain_id', 'block_time_ms', 'head_seen_at_ms']).execute();
    return new Map(rows.map((r) => [Number(r.chain_id), { block_time_ms: r.block_time_ms === null ? null : Number(r.block_time_ms), head_seen_at_ms: r.head_seen_at_ms === null ? null : Number(r.head_seen_at_ms) }]));
  } catch {
    return new Map(); // no scanner tables (yet): ETAs stay null until measured
  }
}

/** Each scanned chain's head, lag and block time, for GET /status. */
export async function chainStatusFromScanner(ex: DbExecutor): Promise<ChainStatus[]> {
  const rows = await ex.selectFrom('chain_cursors').select(['chain_id', 'next_block', 'head', 'block_time_ms']).execute();
  return rows.map((r) => ({
    chain_id: Number(r.chain_id),
    head: r.head === null ? null : Number(r.head),
    lag_blocks: r.head === null ? null : Math.max(0, Number(r.head) - (Number(r.next_block) - 1)),
    block_time_s: r.block_time_ms === null ? null : Number(r.block_time_ms) / 1000,
  }));
}
