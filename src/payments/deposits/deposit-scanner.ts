// The deposit scanner: one worker per chain, at its own pace (poll_interval_ms), reading a bounded
// range of blocks per tick (blocks_per_tick_max) from a saved cursor.
//
// Each tick:
//   1. reads the head and records when it was first seen (block time is measured from sightings,
//      since dev chains stamp several blocks with one second);
//   2. checks the stored hash of the last scanned block against the chain; on a mismatch walks back
//      to the common ancestor, marks deposits above it as orphaned and moves the cursor back
//      (the node never tells us about removed logs: the stored hashes are the only truth);
//   3. reads headers, ERC-20 Transfer logs of the configured tokens and native transfers for the
//      range, verifies that every log belongs to the headers read (else the chain moved under us
//      and the tick is abandoned), and in ONE transaction stores the blocks, every new deposit with
//      its PENDING ledger transfer and payment (outbox event included), and the advanced cursor;
//   4. once caught up, settles orphans: re-seen deposits have already been re-attached in step 3;
//      the rest are dropped (pending transfer voided) or, if already released, reversed with a
//      correcting transfer and an incident for staff;
//   5. releases deposits that reached their required depth below the verified tip, as one batch:
//      one transaction, one ledger call posting every pending transfer, deposits and payments
//      (timeline + outbox) moved in bulk. New deposits in step 3 are stored in bulk too (a
//      statement per table per chunk), so a range's cost grows with its rows, not its statements.
//
// Exactly once: deposit ids and ledger transfer ids derive from (chain id, tx hash, log index);
// the cursor moves only from the value this tick read, inside the same transaction as the
// deposits found, so a crash anywhere re-reads the range and finds everything already there.
//
// Here: the tick that runs these steps in order, and the worker that runs ticks. The steps:
// detection (3) in deposit-detection.ts, reorg handling (2, 4) in deposit-reorg.ts, release at
// depth (5) in deposit-depth-release.ts; what they share in deposit-scan-context.ts.
import type { BlockHeader } from '../../chain/chain.ts';
import { ChainRpcError } from '../../chain/chain.ts';
import type { Metrics } from '../../ops/ops.ts';
import { assert } from '../../shared/assert.ts';
import type { IntervalWorker, TickAround } from '../../jobs/jobs.ts';
import { observedBlockTimeMs } from '../payment-eta-rules.ts';
import { releaseAtDepth } from './deposit-depth-release.ts';
import { ingestSeen, loadCursor, headSeenAt, scanRange } from './deposit-detection.ts';
import { findReorg, rollBack, settleOrphans } from './deposit-reorg.ts';
import { addHeadSample } from './deposit-rules.ts';
import { scanContext, type DepositScannerDeps, type ScanContext, type Seen } from './deposit-scan-context.ts';
import * as store from './deposit-store.ts';

export type { BlockingWindow, DepositScannerDeps, Owner, Seen } from './deposit-scan-context.ts';

export interface TickReport {
  head: number | null;
  scanned_from: number | null;
  scanned_to: number | null;
  detected: number;
  released: number;
  reorg_depth: number;
  dropped: number;
  reversed: number;
  caught_up: boolean;
  /** The tick released as many as one batch holds: more may be due (the worker ticks again at once). */
  release_more: boolean;
  aborted: string | null;
}

export interface DepositScanner {
  readonly chain_id: number;
  tick(): Promise<TickReport>;
  /** A Worker for platform.workers: ticks every poll_interval_ms (at once while catching up). */
  start(): void;
  stop(): Promise<void>;
  readonly name: string;
  /** A fresh loop like start()'s, each tick run through `around` (the lease's fence, jobs/leases.ts). */
  worker(around: TickAround): IntervalWorker;
  /**
   * Records one transaction's transfers read outside a tick (diagnosis pick-up, see
   * deposit-ingest.ts): the scan's filters and records; the cursor does not move. -> deposits new.
   */
  ingest(header: BlockHeader, transfers: Seen[], head: number): Promise<number>;
}

type ScanMetrics = ReturnType<typeof scanMetrics>;

function scanMetrics(metrics: Metrics | undefined) {
  return metrics
    ? {
        detected: metrics.counter('settle_deposits_detected_total', 'Deposits detected by the scanner', ['chain_id']),
        released: metrics.counter('settle_deposits_released_total', 'Deposits released at depth', ['chain_id']),
        reorgs: metrics.counter('settle_chain_reorgs_total', 'Reorgs detected by the scanner', ['chain_id']),
        errors: metrics.counter('settle_chain_scan_errors_total', 'Scanner ticks that failed', ['chain_id']),
        cursor: metrics.gauge('settle_chain_scan_cursor', 'Next block the scanner reads', ['chain_id']),
        head: metrics.gauge('settle_chain_head', 'Chain head seen by the scanner', ['chain_id']),
        lag: metrics.gauge('settle_chain_scan_lag_blocks', 'Blocks between the head and the scan cursor', ['chain_id']),
      }
    : null;
}

/** One tick, steps 1 to 5 of the header in order; `state.lastTip` is the tip the previous tick released to. */
async function runTick(s: ScanContext, m: ScanMetrics, state: { lastTip: number }): Promise<TickReport> {
  const { db, reader, clock, chain_id, samples, log, deps } = s;
  const labels = { chain_id: String(chain_id) };
  const report: TickReport = { head: null, scanned_from: null, scanned_to: null, detected: 0, released: 0, reorg_depth: 0, dropped: 0, reversed: 0, caught_up: false, release_more: false, aborted: null };
  const head = await reader.head();
  report.head = head;
  addHeadSample(samples, { number: head, seen_at_ms: clock.now_ms() });
  let cursor = await loadCursor(s, head);
  const reorg = await findReorg(s, cursor.next_block, head);
  if (reorg) {
    report.reorg_depth = cursor.next_block - 1 - reorg.ancestor;
    log('warn', 'reorg detected: rolling back to the common ancestor', { chain_id, ancestor: reorg.ancestor, depth: report.reorg_depth });
    m?.reorgs.inc(labels);
    await rollBack(s, cursor.next_block, reorg.ancestor, reorg.beyond_window);
    cursor = (await store.selectCursor(db.kysely, chain_id))!;
  }
  const from = cursor.next_block;
  const to = Math.min(head, from + deps.blocks_per_tick_max - 1);
  let next = from;
  if (from <= to) {
    const r = await scanRange(s, from, to, head);
    if (!r.ok) {
      report.aborted = r.reason;
      log('warn', 'scan abandoned for this tick', { chain_id, from, to, reason: r.reason });
      return report;
    }
    report.scanned_from = from;
    report.scanned_to = to;
    report.detected = r.detected;
    next = to + 1;
    if (r.detected) m?.detected.inc(labels, r.detected);
    if (head - to > 0) log('info', 'deposit scanner catching up', { chain_id, scanned_to: to, head, behind_blocks: head - to });
  } else {
    await store.updateCursorTiming(db.kysely, chain_id, { head, head_seen_at_ms: headSeenAt(s, head), block_time_ms: observedBlockTimeMs(samples), updated_at_ms: clock.now_ms() });
  }
  report.caught_up = next > head;
  if (report.caught_up) {
    const o = await settleOrphans(s);
    report.dropped = o.dropped;
    report.reversed = o.reversed;
  }
  const tip = next - 1;
  const r = await releaseAtDepth(s, tip, tip !== state.lastTip);
  report.released = r.released;
  report.release_more = r.more;
  state.lastTip = tip;
  if (report.released) m?.released.inc(labels, report.released);
  m?.cursor.set(labels, next);
  m?.head.set(labels, head);
  m?.lag.set(labels, Math.max(0, head - tip));
  return report;
}

/**
 * The worker: one tick at a time, at the chain's pace; at once again while catching up or while
 * more deposits are due than one release batch holds. Between full ticks (at least one per
 * interval) it only asks the node for its head, a few times per interval, and ticks as soon as a
 * new block is there: a block reaching depth is released a fraction of an interval after it is
 * mined instead of up to a whole one.
 */
function scanWorker(s: ScanContext, m: ScanMetrics, tick: () => Promise<TickReport>): Pick<DepositScanner, 'start' | 'stop'> {
  const { reader, chain, chain_id, log } = s;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;
  const interval = chain.poll_interval_ms ?? 1000;
  const headPoll = Math.max(50, Math.floor(interval / 5));
  let lastHead: number | null = null;
  let lastTickAt = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = (async () => {
        const started = Date.now();
        let again = interval;
        try {
          if (lastHead !== null && started - lastTickAt < interval - headPoll && (await reader.head()) === lastHead) {
            again = headPoll; // nothing new yet
            return;
          }
          lastTickAt = started;
          const r = await tick();
          lastHead = r.head;
          again = Math.min(headPoll, Math.max(0, interval - (Date.now() - started)));
          if ((r.scanned_to !== null && !r.caught_up) || r.release_more) again = 0;
        } catch (error) {
          // The failed tick's transaction rolled back, and with it any ledger accounts it ensured:
          // forget them, or every later deposit of those users is refused (debit_account_not_found).
          s.ensured.clear();
          m?.errors.inc({ chain_id: String(chain_id) });
          if (error instanceof ChainRpcError) log('warn', 'deposit scanner: chain unreachable or moved, retrying', { chain_id, err: error.message });
          else log('error', 'deposit scanner tick failed', { chain_id, err: (error as Error)?.stack ?? String(error) });
        } finally {
          running = null;
          schedule(again);
        }
      })();
    }, ms);
  };
  return {
    start() {
      assert(stopped, 'scanner already started');
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

/** const scanner = createDepositScanner({ db, ledger, reader, chain, blocks_per_tick_max: 500, receiveMode }) */
export function createDepositScanner(deps: DepositScannerDeps): DepositScanner {
  const s = scanContext(deps);
  const m = scanMetrics(deps.metrics);
  const state = { lastTip: -1 };
  const tick = () => runTick(s, m, state);
  const worker = scanWorker(s, m, tick);
  return {
    chain_id: s.chain_id,
    name: `deposit-scanner:${s.chain_id}`,
    tick,
    ingest: (header: BlockHeader, transfers: Seen[], head: number) => ingestSeen(s, header, transfers, head),
    start: worker.start,
    stop: worker.stop,
    worker: (around) => ({ name: `deposit-scanner:${s.chain_id}`, ...scanWorker(s, m, () => around(tick)) }),
  };
}
