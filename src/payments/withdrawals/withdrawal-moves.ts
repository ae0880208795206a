// How a withdrawal moves, shared by its steps (withdrawal-request.ts, withdrawal-advance.ts,
// withdrawal-review.ts): the context they share, the configured asset a withdrawal sends, the
// fenced status move committed with its payment's transition, and the posting or voiding of its
// pending ledger transfers.
import type { Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { TransferInput } from '../../ledger/ledger.ts';
import type { Hex } from '../../chain/chain.ts';
import type { Clock } from '../../shared/clock.ts';
import { transitionPayment } from '../payments.ts';
import type { AssetInfo } from '../payment-rules.ts';
import { postIds, voidIds, withdrawalIds, type WithdrawalStatus } from './withdrawal-rules.ts';
import { updateWithdrawal, type WithdrawalRow } from './withdrawal-store.ts';
import type { WithdrawalDeps } from './withdrawals.ts';
import type { RiskEngine } from '../../risk/risk.ts';

export const ADVANCE_JOB = 'withdrawal.advance';

/** What the withdrawal steps share: the deps, configured assets, and the four-eyes threshold. */
export interface WithdrawalContext {
  deps: WithdrawalDeps;
  db: Db;
  clock: Clock;
  ledger: Ledger;
  /** The configured assets by code (US dollar prices for the four-eyes rule). */
  assets: Map<string, AssetInfo>;
  /** At or above this many US cents (or without a price) an approval needs a second staff member. */
  fourEyesCents: bigint;
  /** The risk engine every request asks (withdrawal-risk.ts). */
  risk: RiskEngine;
}

/** A configured asset with what sending it needs: its chain, contract, confirmation tiers and review threshold. */
export interface AssetOnChain {
  code: string;
  decimals: number;
  chain_id: number;
  contract: Hex | null;
  confirmations: Array<{ max_amount: string | null; blocks: number }> | undefined;
  review_above: string | undefined;
  /** The smallest amount accepted and the fee charged on top, as configured (decimal strings). */
  min_withdrawal: string | undefined;
  withdrawal_fee: string | undefined;
  poll_ms: number;
  /** The chain's native coin (what gas is paid in), or null when the chain configures none. */
  native: string | null;
}

export function findAsset(config: Pick<Config, 'chains'>, code: string): AssetOnChain | null {
  for (const c of config.chains) {
    const poll_ms = c.poll_interval_ms ?? 1000;
    const native = c.native?.symbol ?? null;
    if (c.native?.symbol === code) return { code, decimals: c.native.decimals, chain_id: c.chain_id, contract: null, confirmations: c.native.confirmations, review_above: c.native.review_above, min_withdrawal: c.native.min_withdrawal, withdrawal_fee: c.native.withdrawal_fee, poll_ms, native };
    const t = c.tokens?.find((x) => x.symbol === code);
    if (t) return { code, decimals: t.decimals, chain_id: c.chain_id, contract: t.address.toLowerCase() as Hex, confirmations: t.confirmations, review_above: t.review_above, min_withdrawal: t.min_withdrawal, withdrawal_fee: t.withdrawal_fee, poll_ms, native };
  }
  return null;
}

/** The withdrawal's timeline with one more entry. */
function withEntry(row: Pick<WithdrawalRow, 'timeline'>, at_ms: number, status: WithdrawalStatus, reason: string | null): string {
  const entries = JSON.parse(row.timeline) as unknown[];
  entries.push({ at_ms, status, reason });
  return JSON.stringify(entries);
}

/** Moves the withdrawal from its status (fenced), with its payment, in the caller's transaction. */
export async function move(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow, to: WithdrawalStatus, patch: Partial<WithdrawalRow>, reason: string | null, payment: Parameters<typeof transitionPayment>[2]): Promise<void> {
  const { clock } = c;
  const now = clock.now_ms();
  const ok = await updateWithdrawal(trx, w.id, w.status, { ...patch, status: to, updated_at_ms: now, timeline: to !== w.status ? withEntry(w, now, to, reason) : w.timeline });
  if (!ok) throw new Error(`withdrawal ${w.id} moved under us (was ${w.status})`);
  const r = await transitionPayment(trx, w.id, payment, clock);
  if (r.result !== 'ok') throw new Error(`payment ${w.id}: ${r.result}`);
}

/** Posts (completed) or voids (failed, rejected, cancelled) the withdrawal's pending transfers, linked. */
export async function resolveLedger(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow, how: 'post' | 'void'): Promise<void> {
  const { ledger } = c;
  const ids = how === 'post' ? postIds(w.id) : voidIds(w.id);
  const pid = withdrawalIds(w.user_id, w.idempotency_key);
  const linked = w.fee_minor > 0n;
  const batch: TransferInput[] =
    how === 'post'
      ? [{ id: ids.amount, post_pending_id: pid.amount_transfer_id, linked, reason: 'withdrawal_completed', reference: w.id }]
      : [{ id: ids.amount, void_pending_id: pid.amount_transfer_id, linked, reason: 'withdrawal_failed', reference: w.id }];
  if (linked) {
    batch.push(
      how === 'post'
        ? { id: ids.fee, post_pending_id: pid.fee_transfer_id, reason: 'withdrawal_completed', reference: w.id }
        : { id: ids.fee, void_pending_id: pid.fee_transfer_id, reason: 'withdrawal_failed', reference: w.id },
    );
  }
  const results = await ledger.createTransfersIn(trx, batch);
  const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
  if (bad) throw new Error(`withdrawal ${w.id}: ${how} refused by the ledger: ${bad.result}`);
}
