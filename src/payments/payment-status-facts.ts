// What the public status page needs of payments, per configured chain, measured now: the
// scanner's head and lag, the deposits still confirming, the withdrawals still waiting (and the
// oldest), and how long the deposits credited in the last hour took. Bounded queries only.
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import type { DbExecutor } from '../db/database.ts';
import type { ChainFigures } from '../ops/ops.ts';
import { assetsFromChains } from './payment-rules.ts';

export const CONFIRM_WINDOW_MS = 3600_000;
export const CONFIRM_SAMPLES_MAX = 1000;
const WAITING_WITHDRAWAL = ['requested', 'review', 'broadcast', 'confirming', 'unknown'];

/** chainFigures(db.kysely, config, now, (id) => activeWindowOn(id)) -> one ChainFigures per configured chain */
export async function chainFigures(ex: DbExecutor, config: Pick<Config, 'chains'>, now_ms: number, maintenance: (chain_id: number) => boolean): Promise<ChainFigures[]> {
  const cursors = new Map((await ex.selectFrom('chain_cursors').select(['chain_id', 'next_block', 'head', 'head_seen_at_ms']).execute().catch(() => [])).map((r) => [Number(r.chain_id), r]));
  const assets = assetsFromChains(config.chains);
  const out: ChainFigures[] = [];
  for (const c of config.chains) {
    const cur = cursors.get(c.chain_id);
    const head = cur?.head === null || cur?.head === undefined ? null : Number(cur.head);
    const codes = assets.filter((a) => a.chain_id === c.chain_id).map((a) => a.code);
    const confirming = await ex.selectFrom('payments').select(sql<number>`count(*)`.as('n')).where('kind', '=', 'deposit').where('status', 'in', ['pending', 'confirming']).where('chain_id', '=', c.chain_id).executeTakeFirst();
    const waiting = codes.length
      ? await ex.selectFrom('payments').select([sql<number>`count(*)`.as('n'), sql<number | null>`min(created_at_ms)`.as('oldest')]).where('kind', '=', 'withdrawal').where('status', 'in', WAITING_WITHDRAWAL).where('asset', 'in', codes).executeTakeFirst()
      : undefined;
    const credited = await ex.selectFrom('payments').select(['created_at_ms', 'status_since_ms']).where('kind', '=', 'deposit').where('status', '=', 'credited').where('chain_id', '=', c.chain_id).where('status_since_ms', '>=', now_ms - CONFIRM_WINDOW_MS).orderBy('status_since_ms', 'desc').limit(CONFIRM_SAMPLES_MAX).execute();
    out.push({
      chain_id: c.chain_id, head,
      lag_blocks: head === null || !cur ? null : Math.max(0, head - (Number(cur.next_block) - 1)),
      head_seen_at_ms: cur?.head_seen_at_ms === null || cur?.head_seen_at_ms === undefined ? null : Number(cur.head_seen_at_ms),
      maintenance: maintenance(c.chain_id),
      deposits_confirming: Number(confirming?.n ?? 0),
      withdrawals_queued: Number(waiting?.n ?? 0),
      oldest_withdrawal_ms: waiting?.oldest === null || waiting?.oldest === undefined ? null : Number(waiting.oldest),
      confirm_durations_s: credited.map((r) => Math.max(0, (Number(r.status_since_ms) - Number(r.created_at_ms)) / 1000)),
    });
  }
  return out;
}
