// What a sweep costs and books, without I/O: the gas figures planning and advancing share, and the
// ledger transfers that end a sweep (decision 0006: asset deposit_wallets -> hot_wallet, a native
// top-up hot_wallet -> deposit_wallets, every fee to `gas` from the wallet that paid it).
import type { TransferInput } from '../../ledger/ledger.ts';
import { platformAccountId } from './chart.ts';
import type { SweepRow } from './sweep-store.ts';

export const SWEEP_JOB = 'chain.sweep.advance';
/** Gas for one ERC-20 transfer from a deposit address, with margin (OpenZeppelin ERC-20 uses ~35–52k). */
export const TOKEN_SWEEP_GAS = 90_000n;
export const NATIVE_GAS = 21_000n;
/** A sweep is worth it when its gas costs at most 1/WORTH_FACTOR of what it moves (native). */
export const WORTH_FACTOR = 10n;

/** What a top-up moved to the address (0 when it failed) and the gas the hot wallet paid for it. */
export interface Topup {
  value: bigint;
  fee: bigint;
}

/**
 * The transfers that end a sweep: the asset moved (when it succeeded), the native top-up, the
 * top-up's gas and the sweep's own gas, in the chain's native coin (`gasAsset`).
 * sweepTransfers(s, 'ETH', 42_000n, { value: 5n, fee: 21_000n }, true).map((t) => t.id)
 *   -> ['sweep:<id>:asset', 'sweep:<id>:topup', 'sweep:<id>:topup_gas', 'sweep:<id>:gas']
 */
export function sweepTransfers(s: SweepRow, gasAsset: string, sweepFee: bigint, topup: Topup | null, ok: boolean): TransferInput[] {
  const batch: TransferInput[] = [];
  const tid = (part: string) => `sweep:${s.id}:${part}`;
  const hotAcct = (asset: string) => platformAccountId(asset, 'hot_wallet');
  const depAcct = (asset: string) => platformAccountId(asset, 'deposit_wallets');
  const gasAcct = platformAccountId(gasAsset, 'gas');
  if (ok) batch.push({ id: tid('asset'), debit_account_id: hotAcct(s.asset), credit_account_id: depAcct(s.asset), amount_minor: s.amount_minor, asset: s.asset, reason: 'sweep', reference: s.id });
  if (topup && topup.value > 0n) batch.push({ id: tid('topup'), debit_account_id: depAcct(gasAsset), credit_account_id: hotAcct(gasAsset), amount_minor: topup.value, asset: gasAsset, reason: 'sweep_gas_topup', reference: s.id });
  if (topup && topup.fee > 0n) batch.push({ id: tid('topup_gas'), debit_account_id: gasAcct, credit_account_id: hotAcct(gasAsset), amount_minor: topup.fee, asset: gasAsset, reason: 'gas', reference: s.id });
  if (sweepFee > 0n) batch.push({ id: tid('gas'), debit_account_id: gasAcct, credit_account_id: depAcct(gasAsset), amount_minor: sweepFee, asset: gasAsset, reason: 'gas', reference: s.id });
  return batch;
}

/** The gas of a failed top-up alone (it moved nothing, but the hot wallet paid for its mined attempt). */
export function topupGasTransfer(s: SweepRow, gasAsset: string, fee: bigint): TransferInput {
  return { id: `sweep:${s.id}:topup_gas`, debit_account_id: platformAccountId(gasAsset, 'gas'), credit_account_id: platformAccountId(gasAsset, 'hot_wallet'), amount_minor: fee, asset: gasAsset, reason: 'gas', reference: s.id };
}
