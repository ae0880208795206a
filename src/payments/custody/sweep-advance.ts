// Advancing one sweep, driven by its durable job (`chain.sweep.advance`): planned -> (gas top-up
// for a token) -> sweeping -> confirmed | failed, booking the ledger in the same database
// transaction as the final status. Each step does its RPC first and then commits what it saw.
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { enqueueJob, type JobContext } from '../../jobs/jobs.ts';
import { erc20TransferData, getChainTx, getChainTxByPurpose, type Hex, type Sender } from '../../chain/chain.ts';
import { platformAccount } from './chart.ts';
import { NATIVE_GAS, SWEEP_JOB, sweepTransfers, TOKEN_SWEEP_GAS, topupGasTransfer, type Topup } from './sweep-rules.ts';
import type { SweepAsset, SweepContext } from './sweep.ts';
import * as store from './sweep-store.ts';
import type { SweepRow } from './sweep-store.ts';

type Commit = Pick<JobContext, 'commit'>;

/** Where a step hands over: the job runs again after poll_ms, in the transaction that saves the step. */
function again(c: SweepContext, trx: Transaction<Database>, id: string): Promise<unknown> {
  return enqueueJob(trx, SWEEP_JOB, { id, chain_id: c.chain_id }, { run_at_ms: c.clock.now_ms() + (c.deps.poll_ms ?? 1000) }, c.clock);
}

async function setStatus(c: SweepContext, trx: Transaction<Database>, s: SweepRow, to: string, patch: Partial<SweepRow>): Promise<void> {
  if (!(await store.updateSweepIf(trx, s.id, s.status, { ...patch, status: to, updated_at_ms: c.clock.now_ms() }))) throw new Error(`sweep ${s.id} moved under us`);
}

async function finish(c: SweepContext, trx: Transaction<Database>, s: SweepRow, sweepFee: bigint, topup: Topup | null, ok: boolean, reason: string | null): Promise<void> {
  const gasAsset = c.native ?? s.asset;
  const results = await c.ledger.createTransfersIn(trx, sweepTransfers(s, gasAsset, sweepFee, topup, ok));
  const bad = results.find((r) => r.result !== 'ok' && r.result !== 'exists');
  if (bad) throw new Error(`sweep ${s.id}: ledger refused ${bad.id}: ${bad.result}`);
  const moved = await store.updateSweepIf(trx, s.id, 'sweeping', { status: ok ? 'confirmed' : 'failed', gas_fee_minor: sweepFee + (topup?.fee ?? 0n), failure_reason: reason, updated_at_ms: c.clock.now_ms() });
  if (!moved) throw new Error(`sweep ${s.id} moved under us`);
}

async function bookTopupGasOnly(c: SweepContext, trx: Transaction<Database>, s: SweepRow, fee: bigint): Promise<void> {
  const gasAsset = c.native ?? s.asset;
  if (fee <= 0n) return;
  const [r] = await c.ledger.createTransfersIn(trx, [topupGasTransfer(s, gasAsset, fee)]);
  if (r!.result !== 'ok' && r!.result !== 'exists') throw new Error(`sweep ${s.id}: ledger refused the top-up gas: ${r!.result}`);
}

/**
 * The native coins on an address that a token sweep may spend on its gas: its balance now, but
 * no more than at the scanned block (coins arrived since may still be reorged away; the address
 * sends nothing while its sweep is open, so the lower of the two is what was there already).
 */
async function settledNative(c: SweepContext, address: Hex): Promise<bigint> {
  const tip = await store.scannedTip(c.db.kysely, c.chain_id);
  const now = await c.client.getBalance({ address });
  if (!tip) return 0n;
  const then = await c.client.getBalance({ address, blockNumber: BigInt(tip.number) });
  return then < now ? then : now;
}

/** What a recorded transaction moved: value if it succeeded, the gas it paid either way. */
async function topupOf(c: SweepContext, tx_id: string): Promise<Topup & { value_sent: bigint }> {
  const tx = await getChainTx(c.db.kysely, tx_id);
  if (!tx) throw new Error(`sweep: no chain transaction ${tx_id}`);
  return { value: tx.status === 'confirmed' ? tx.value_minor : 0n, fee: tx.gas_fee_minor ?? 0n, value_sent: tx.value_minor };
}

/** planned: a native sweep goes straight to sweeping; a token sweep first tops the address up with gas unless it has enough. */
async function startSweep(c: SweepContext, s: SweepRow, token: SweepAsset | null, ctx: Commit): Promise<void> {
  const toSweeping = () =>
    ctx.commit(async (trx) => {
      await setStatus(c, trx, s, 'sweeping', {});
      await again(c, trx, s.id);
    });
  if (!token) return toSweeping();
  // ERC-20: top the address up with enough native coin for the transfer's gas.
  const fees = await c.client.estimateFeesPerGas();
  const need = TOKEN_SWEEP_GAS * fees.maxFeePerGas * 2n;
  const have = await settledNative(c, s.deposit_address as Hex);
  if (have >= need) return toSweeping();
  const r = await c.hot.prepare({ purpose: 'sweep_gas', purpose_id: s.id, to: s.deposit_address as Hex, value_minor: need - have, confirmations_required: 1, gas_limit: NATIVE_GAS });
  if (!r.ok) throw new Error(`gas top-up refused: ${r.reason}`);
  await c.hot.broadcast(r.tx.id);
  await ctx.commit(async (trx) => {
    await setStatus(c, trx, s, 'gas', { gas_tx_id: r.tx.id });
    await again(c, trx, s.id);
  });
}

/** gas: waits for the top-up; a failed one fails the sweep (booking the gas its mined attempt paid). */
async function watchTopup(c: SweepContext, s: SweepRow, ctx: Commit): Promise<void> {
  const v = await c.hot.refresh(s.gas_tx_id!);
  await ctx.commit(async (trx) => {
    if (v.status === 'confirmed') await setStatus(c, trx, s, 'sweeping', {});
    else if (v.status === 'failed') {
      // The top-up moved nothing, but if one of its attempts was mined the hot wallet paid its gas.
      await bookTopupGasOnly(c, trx, s, v.gas_fee_minor ?? 0n);
      await setStatus(c, trx, s, 'failed', { failure_reason: `gas top-up failed: ${v.failure_reason}`, gas_fee_minor: v.gas_fee_minor ?? 0n });
    }
    await again(c, trx, s.id);
  });
}

/**
 * Signs and broadcasts the sweep's own transaction from the receiving address, once; returns its
 * id, or null when the sweep ended here (refused, or a native balance no longer worth the gas).
 */
async function sendSweep(c: SweepContext, s: SweepRow, token: SweepAsset | null, from: Sender, ctx: Commit): Promise<string | null> {
  const existing = await getChainTxByPurpose(c.db.kysely, 'sweep', s.id);
  if (existing) return existing.id;
  const hotAddress = c.hot.address;
  const fees = await c.client.estimateFeesPerGas();
  let r;
  if (token) {
    r = await from.prepare({ purpose: 'sweep', purpose_id: s.id, to: token.contract!, value_minor: 0n, data: erc20TransferData(hotAddress, s.amount_minor), confirmations_required: 1, gas_limit: TOKEN_SWEEP_GAS, fees });
  } else {
    // Native: send what is there now minus the fee at today's price (fixed into the signed tx),
    // never more than planned: coins that arrived since are not known to be settled.
    const now = (await c.client.getBalance({ address: s.deposit_address as Hex })) - NATIVE_GAS * fees.maxFeePerGas;
    const value = now < s.amount_minor ? now : s.amount_minor;
    if (value <= 0n) {
      await ctx.commit((trx) => finish(c, trx, s, 0n, null, false, 'not_worth_the_gas: the balance no longer covers the fee'));
      return null;
    }
    r = await from.prepare({ purpose: 'sweep', purpose_id: s.id, to: hotAddress, value_minor: value, confirmations_required: 1, gas_limit: NATIVE_GAS, fees });
  }
  if (!r.ok) {
    await ctx.commit((trx) => finish(c, trx, s, 0n, null, false, r.reason));
    return null;
  }
  await from.broadcast(r.tx.id);
  return r.tx.id;
}

/** sweeping: sends the sweep, follows it, and at its outcome books it with the final status. */
async function sweepAndFinish(c: SweepContext, s: SweepRow, token: SweepAsset | null, from: Sender, ctx: Commit): Promise<void> {
  const txId = await sendSweep(c, s, token, from, ctx);
  if (!txId) return;
  const v = await from.refresh(txId);
  if (v.status !== 'confirmed' && v.status !== 'failed') {
    await ctx.commit(async (trx) => {
      await store.setSweepTx(trx, s.id, { sweep_tx_id: txId, updated_at_ms: c.clock.now_ms() });
      await again(c, trx, s.id);
    });
    return;
  }
  const topup = s.gas_tx_id ? await topupOf(c, s.gas_tx_id) : null;
  const sent = token ? s.amount_minor : (await topupOf(c, txId)).value_sent;
  await ctx.commit(async (trx) => {
    await store.setSweepTx(trx, s.id, { sweep_tx_id: txId, amount_minor: sent });
    await finish(c, trx, { ...s, amount_minor: sent }, v.gas_fee_minor ?? 0n, topup, v.status === 'confirmed', v.failure_reason);
  });
}

/** Moves one sweep on by a step (the job's handler); a finished sweep is left alone. */
export async function advanceSweep(c: SweepContext, id: string, ctx: Commit): Promise<void> {
  const s = await store.getSweep(c.db.kysely, id);
  if (!s || s.status === 'confirmed' || s.status === 'failed') return;
  const gasAsset = c.native ?? s.asset;
  await c.ledger.ensureAccounts([platformAccount(s.asset, 'hot_wallet'), platformAccount(s.asset, 'deposit_wallets'), platformAccount(gasAsset, 'hot_wallet'), platformAccount(gasAsset, 'deposit_wallets'), platformAccount(gasAsset, 'gas')]);
  const token = c.deps.tokens.find((t) => t.code === s.asset) ?? null;
  const from = c.senderFor(s.deposit_address, s.derivation_index);
  if (s.status === 'planned') return startSweep(c, s, token, ctx);
  if (s.status === 'gas') return watchTopup(c, s, ctx);
  return sweepAndFinish(c, s, token, from, ctx);
}
