// The withdrawal job, one step a run (exactly once: each step is a compare-and-set on the
// withdrawal's status committed together with the job's completion and the next job, through
// ctx.commit):
//   requested  -> the hot wallet signs and records the transaction (nonce from the database),
//                 broadcasts it -> `broadcast`;
//                 a transfer the chain would revert -> VOID the pending transfers -> `failed`.
//   broadcast / confirming -> the hot wallet refreshes (receipt, depth, rebroadcast, fee bump,
//                 cancel of an unbroadcastable nonce) -> `confirming n/required`, or at depth
//                 POST the pending transfers -> `completed`, or VOID them -> `failed` with why.
//                 Either way, the gas the hot wallet paid for the mined transaction (payload or
//                 cancel) is booked gas <- hot_wallet in the chain's native coin, in the same
//                 database transaction, with an id derived from the mined hash (withdrawalGasId).
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { enqueueJob, type JobContext } from '../../jobs/jobs.ts';
import { erc20TransferData, getChainTxByPurpose, type Hex, type Sender, type TxView } from '../../chain/chain.ts';
import { platformAccount } from '../custody/chart.ts';
import { nextStep, withdrawalGasId, type WithdrawalStatus } from './withdrawal-rules.ts';
import { getWithdrawal, type WithdrawalRow } from './withdrawal-store.ts';
import { ADVANCE_JOB, findAsset, move, resolveLedger, type AssetOnChain, type WithdrawalContext } from './withdrawal-moves.ts';
import { markUnknown, settleUnknown } from './withdrawal-unknown.ts';
import { assertNever } from '../../shared/assert.ts';

/** What one step works with: the withdrawal, its asset, the chain's hot wallet, and how to run again. */
interface Step {
  w: WithdrawalRow;
  asset: AssetOnChain;
  sender: Sender;
  ctx: Pick<JobContext, 'commit'>;
  /** Queues the next run of the job after the poll interval, in the step's transaction. */
  again: (trx: Transaction<Database>) => Promise<unknown>;
}

/** One step of the withdrawal job (tests call it directly through the JobRunner). */
export async function advanceWithdrawal(c: WithdrawalContext, id: string, ctx: Pick<JobContext, 'commit'>): Promise<void> {
  const { db, clock, deps } = c;
  const w = await getWithdrawal(db.kysely, id);
  if (!w) return;
  const status = w.status as WithdrawalStatus;
  const asset = findAsset(deps.config, w.asset);
  const poll_ms = deps.poll_ms ?? asset?.poll_ms ?? 1000;
  const again = (trx: Transaction<Database>) => enqueueJob(trx, ADVANCE_JOB, { id }, { run_at_ms: clock.now_ms() + poll_ms }, clock);
  const step = nextStep(status);
  if (step === 'done' || step === 'wait_for_staff') return;
  const sender = deps.sender(w.chain_id);
  if (!sender || !asset) throw new Error(`no hot wallet for chain ${w.chain_id}`);
  const s: Step = { w, asset, sender, ctx, again };
  if (step === 'sign_and_broadcast') await signAndBroadcast(c, s);
  else await track(c, s);
}

/** `requested`: sign and broadcast, unless the account may no longer withdraw or the chain would revert it. */
async function signAndBroadcast(c: WithdrawalContext, s: Step): Promise<void> {
  const { db, deps } = c;
  const { w, asset, sender, ctx, again } = s;
  // Nothing signed yet: the account must still be allowed to withdraw. A withdrawal that
  // waited (for liquidity, or after an approval) while its owner froze the account ("this
  // wasn't me") is cancelled, not sent later; once signed, the transaction is already out.
  if (deps.standing && !(await getChainTxByPurpose(db.kysely, 'withdrawal', w.id))) {
    const standing = (await deps.standing(w.user_id, db.kysely)).withdraw;
    if (!standing.ok) {
      const reason = `cancelled before signing: the account cannot withdraw (${standing.code})`;
      await ctx.commit(async (trx) => {
        await resolveLedger(c, trx, w, 'void');
        await move(c, trx, w, 'cancelled', { failure_code: standing.code, failure_reason: reason }, reason, { status: 'cancelled', hold: null, code: 'withdrawal_cancelled_account_blocked', params: { reason: standing.code } });
      });
      return;
    }
  }
  const to = w.to_address as Hex;
  const intent = asset.contract
    ? { to: asset.contract, value_minor: 0n, data: erc20TransferData(to, w.amount_minor) }
    : { to, value_minor: w.amount_minor };
  const prepared = await sender.prepare({ purpose: 'withdrawal', purpose_id: w.id, confirmations_required: w.confirmations_required, ...intent });
  if (!prepared.ok && isHotWalletShort(prepared.reason)) {
    // The platform's hot wallet lacks the coins right now (sweeps or a top-up will bring
    // them): the user's withdrawal waits and retries with backoff instead of failing.
    throw new Error(`hot wallet short of ${w.asset} for ${w.id}; retrying: ${prepared.reason.slice(0, 200)}`);
  }
  if (!prepared.ok) {
    await ctx.commit((trx) => fail(c, trx, w, 'unbroadcastable', prepared.reason));
    return;
  }
  await sender.broadcast(prepared.tx.id);
  const [view] = [await sender.refresh(prepared.tx.id)];
  await ctx.commit(async (trx) => {
    await move(c, trx, w, 'broadcast', { chain_tx_id: prepared.tx.id, tx_hash: view.hash }, null, {
      status: 'broadcast',
      chain: { chain_id: w.chain_id, tx_hash: view.hash, log_index: null, block_number: null, from: sender.address, to: w.to_address, token: asset.contract },
      confirmations: { current: 0, required: w.confirmations_required },
    });
    await again(trx);
  });
}

/** `broadcast` / `confirming`: follow the transaction to depth (completed) or failure. */
async function track(c: WithdrawalContext, s: Step): Promise<void> {
  const { w, asset, sender, ctx, again } = s;
  const view = await sender.refresh(w.chain_tx_id!);
  const chain = { chain_id: w.chain_id, tx_hash: view.hash, log_index: null, block_number: view.block_number, from: sender.address, to: w.to_address, token: asset.contract };
  const confirmations = { current: Math.min(view.confirmations, w.confirmations_required), required: w.confirmations_required };
  await ctx.commit(async (trx) => {
    switch (view.status) {
      case 'confirmed':
        await settleUnknown(c, trx, w);
        await resolveLedger(c, trx, w, 'post');
        await bookGas(c, trx, w, asset.native, view);
        await move(c, trx, w, 'completed', { tx_hash: view.hash, block_number: view.block_number, confirmations: view.confirmations }, null, { status: 'completed', chain, confirmations });
        return;
      case 'failed':
        await settleUnknown(c, trx, w);
        await fail(c, trx, { ...w }, 'failed_on_chain', view.failure_reason ?? 'failed on chain');
        await bookGas(c, trx, w, asset.native, view);
        return;
      case 'mined':
        await settleUnknown(c, trx, w);
        await move(c, trx, w, 'confirming', { tx_hash: view.hash, block_number: view.block_number, confirmations: view.confirmations }, null, { status: 'confirming', chain, confirmations });
        await again(trx);
        return;
      case 'signed':
      case 'broadcast':
        await move(c, trx, w, 'broadcast', { tx_hash: view.hash, block_number: null, confirmations: 0 }, null, { status: 'broadcast', chain, confirmations: { current: 0, required: w.confirmations_required } });
        await again(trx);
        return;
      case 'unknown':
        // The coins may be out: nothing is voided. Staff are told once; the job keeps looking.
        await markUnknown(c, trx, w, view, chain);
        await again(trx);
        return;
      default:
        assertNever(view.status, 'hot wallet transaction status');
    }
  });
}

/** VOIDs the pending transfers and moves the withdrawal to `failed` with why. */
async function fail(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow, code: string, reason: string): Promise<void> {
  await resolveLedger(c, trx, w, 'void');
  await move(c, trx, w, 'failed', { failure_code: code, failure_reason: reason }, reason, { status: 'failed', params: { reason } });
}

/**
 * Books the gas the hot wallet paid for the withdrawal's mined transaction (payload or cancel):
 * gas <- hot_wallet in the native coin. Nothing when no attempt was mined (no fee was paid).
 */
async function bookGas(c: WithdrawalContext, trx: Transaction<Database>, w: WithdrawalRow, native: string | null, view: Pick<TxView, 'hash' | 'block_number' | 'gas_fee_minor'>): Promise<void> {
  const { ledger } = c;
  if (!native || view.block_number === null || !view.gas_fee_minor) return;
  await ledger.ensureAccounts([platformAccount(native, 'gas'), platformAccount(native, 'hot_wallet')], trx);
  const [r] = await ledger.createTransfersIn(trx, [
    { id: withdrawalGasId(w.chain_id, view.hash), debit_account_id: platformAccount(native, 'gas').id, credit_account_id: platformAccount(native, 'hot_wallet').id, amount_minor: view.gas_fee_minor, asset: native, reason: 'gas', reference: w.id },
  ]);
  if (r!.result !== 'ok' && r!.result !== 'exists') throw new Error(`withdrawal ${w.id}: gas booking refused by the ledger: ${r!.result}`);
}

/** ERC20InsufficientBalance (OpenZeppelin 5, selector 0xe450d38c) or the classic revert text. */
function isHotWalletShort(reason: string): boolean {
  return /0xe450d38c|ERC20InsufficientBalance|transfer amount exceeds balance/i.test(reason);
}
