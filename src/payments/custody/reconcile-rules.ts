// Pure decisions of the reconciler: what an address should hold on chain according to our own
// records, whether a deposit agrees with its ledger transfers, how a difference is keyed (one
// open incident per key) and how the per chain/asset summary adds up. No I/O here.
//
// The identity proved per (chain, asset):
//   seen on chain = credited + held + pending
// where "seen" is every deposit the scanner recorded that still sits in the canonical chain
// (confirming, held or credited), credited/held are the posted ledger transfers of deposits
// released at depth, and pending the ledger's pending transfers of deposits still confirming.
// Refunds (invoice refunds) are withdrawals out of credited money: reported, not subtracted.
// The outside check re-reads the chain: each deposit address must hold exactly what the
// deposits into it, minus confirmed sweeps out of it, plus gas top-ups, minus gas it paid, say.
//
// Custody (docs/decisions/0006-custody-accounting.md), per (chain, asset):
//   hot wallet:       ledger hot_wallet (posted) + chain effects of our transactions that are mined
//                     but not booked yet = the hot wallet's balance on chain;
//   deposit wallets:  ledger deposit_wallets (pending deposits included) = the sum of what our
//                     receiving addresses (users' and invoices') hold on chain;
//   solvency:         custody assets (hot_wallet + deposit_wallets) >= liabilities (every user
//                     account, fees, and corrections/suspense when they owe).
import { decodeFunctionData, erc20Abi } from 'viem';

export type DiscrepancyKind =
  | 'ledger_unbalanced' // settle ledger verify fails
  | 'deposit_ledger_mismatch' // a deposit row and its ledger transfers disagree
  | 'address_balance_short' // our records say an address holds more than the chain shows
  | 'unrecorded_coins' // the chain shows coins on our address that no record explains
  | 'hot_wallet_mismatch' // the hot wallet's ledger balance (+ in-flight transactions) differs from the chain
  | 'deposit_wallets_mismatch' // the ledger's deposit_wallets differs from what our receiving addresses hold on chain
  | 'custody_shortfall'; // custody assets in the ledger do not cover what the platform owes

export interface Discrepancy {
  kind: DiscrepancyKind;
  chain_id: number | null;
  asset: string | null;
  /** An address, a deposit id, or 'ledger'. */
  subject: string;
  expected_minor: bigint | null;
  actual_minor: bigint | null;
  message: string;
}

/** Stable dedupe key: the same difference found again updates its open incident. */
export function discrepancyKey(d: Pick<Discrepancy, 'kind' | 'chain_id' | 'asset' | 'subject'>): string {
  // A shortfall and a surplus on one address are the same open question about that address.
  const kind = d.kind === 'unrecorded_coins' || d.kind === 'address_balance_short' ? 'address_balance' : d.kind;
  return [kind, d.chain_id ?? '-', d.asset ?? '-', d.subject.toLowerCase()].join(':');
}

/** The deposit statuses whose coins are still in the canonical chain. */
export const ON_CHAIN_STATUSES = ['confirming', 'held', 'credited'] as const;

export interface DepositFact {
  id: string;
  asset: string;
  to_address: string;
  tx_hash: string;
  amount_minor: bigint;
  status: string;
  credit_kind: string;
  orphaned: number;
  block_number: number | null;
}

/** A ledger transfer as the reconciler needs it. */
export interface TransferFact {
  id: string;
  type: 'single' | 'pending' | 'post_pending' | 'void_pending';
  amount_minor: bigint;
  credit_account_id: string;
}

/** True when the deposit's coins should be on the address now. */
export function countsOnChain(d: DepositFact): boolean {
  return (ON_CHAIN_STATUSES as readonly string[]).includes(d.status) && d.orphaned === 0 && d.block_number !== null;
}

/**
 * checkDeposit(d, { pending, post }) -> null when the deposit row and the ledger agree, else why.
 * confirming: a pending transfer of the same amount and no post; held/credited: both, same amount,
 * credited to the account kind the row names.
 */
export function checkDeposit(d: DepositFact, t: { pending: TransferFact | null; post: TransferFact | null }): string | null {
  if (d.status === 'confirming') {
    if (!t.pending) return `deposit ${d.id} is confirming but has no pending ledger transfer`;
    if (t.pending.amount_minor !== d.amount_minor) return `deposit ${d.id}: amount ${d.amount_minor} but its pending transfer holds ${t.pending.amount_minor}`;
    if (t.post) return `deposit ${d.id} is confirming but its transfer is already posted`;
    return null;
  }
  if (d.status === 'held' || d.status === 'credited') {
    if (!t.pending || !t.post) return `deposit ${d.id} is ${d.status} but its ledger transfer is ${t.pending ? 'not posted' : 'missing'}`;
    if (t.pending.amount_minor !== d.amount_minor || t.post.amount_minor !== d.amount_minor) {
      return `deposit ${d.id}: amount ${d.amount_minor} but the ledger credited ${t.post.amount_minor}`;
    }
    if (!t.pending.credit_account_id.endsWith(`:${d.credit_kind}`)) return `deposit ${d.id}: credited to ${t.pending.credit_account_id}, not to ${d.credit_kind}`;
    return null;
  }
  return null;
}

/** A confirmed transaction of ours (hot wallet or deposit key) touching a deposit address. */
export interface OwnTxFact {
  from_address: string;
  to_address: string;
  value_minor: bigint;
  gas_fee_minor: bigint;
}

export interface AddressExpectation {
  /** What our records say the address holds, per asset code. */
  expected: Map<string, bigint>;
}

/**
 * expectedBalances(address, native, deposits, sweepsOut, ownTxs) -> asset -> minor units.
 * Tokens: deposits in − confirmed token sweeps out. Native: native deposits in + our own
 * transactions to the address (gas top-ups) − our own transactions from it (value + gas).
 */
export function expectedBalances(
  address: string,
  native: string | null,
  deposits: readonly DepositFact[],
  tokenSweepsOut: ReadonlyArray<{ asset: string; amount_minor: bigint }>,
  ownTxs: readonly OwnTxFact[],
): Map<string, bigint> {
  const a = address.toLowerCase();
  const out = new Map<string, bigint>();
  const add = (asset: string, v: bigint) => out.set(asset, (out.get(asset) ?? 0n) + v);
  for (const d of deposits) if (d.to_address.toLowerCase() === a && countsOnChain(d)) add(d.asset, d.amount_minor);
  for (const s of tokenSweepsOut) if (s.asset !== native) add(s.asset, -s.amount_minor);
  if (native !== null) {
    for (const t of ownTxs) {
      if (t.to_address.toLowerCase() === a) add(native, t.value_minor);
      if (t.from_address.toLowerCase() === a) add(native, -(t.value_minor + t.gas_fee_minor));
    }
  }
  return out;
}

/** compareAddress(…) -> the discrepancy between records and chain for one address and asset, or null. */
export function compareAddress(chain_id: number, asset: string, address: string, expected_minor: bigint, actual_minor: bigint): Discrepancy | null {
  if (expected_minor === actual_minor) return null;
  const short = actual_minor < expected_minor;
  const diff = short ? expected_minor - actual_minor : actual_minor - expected_minor;
  return {
    kind: short ? 'address_balance_short' : 'unrecorded_coins',
    chain_id,
    asset,
    subject: address.toLowerCase(),
    expected_minor,
    actual_minor,
    message: short
      ? `${address} holds ${actual_minor} ${asset} on chain ${chain_id} but our records say ${expected_minor} (${diff} missing)`
      : `${address} holds ${diff} ${asset} on chain ${chain_id} that no deposit record explains (records ${expected_minor}, chain ${actual_minor})`,
  };
}

/** Per chain and asset: the identity's terms. */
export interface AssetSummary {
  chain_id: number;
  asset: string;
  deposits: number;
  seen_minor: bigint;
  credited_minor: bigint;
  held_minor: bigint;
  pending_minor: bigint;
  refunded_minor: bigint;
  on_chain_minor: bigint;
  expected_on_chain_minor: bigint;
  addresses_checked: number;
  addresses_in_flight: number;
  discrepancies: number;
  /** Hot wallet, deposit wallets and solvency (see CustodySummary). */
  custody: CustodySummary;
}

export function emptySummary(chain_id: number, asset: string): AssetSummary {
  return { chain_id, asset, deposits: 0, seen_minor: 0n, credited_minor: 0n, held_minor: 0n, pending_minor: 0n, refunded_minor: 0n, on_chain_minor: 0n, expected_on_chain_minor: 0n, addresses_checked: 0, addresses_in_flight: 0, discrepancies: 0, custody: emptyCustody() };
}

/** Adds one deposit (already checked against the ledger) to its asset's summary. */
export function addDeposit(s: AssetSummary, d: DepositFact, t: { pending: TransferFact | null; post: TransferFact | null }): void {
  if (!countsOnChain(d)) return;
  s.deposits++;
  s.seen_minor += d.amount_minor;
  if (d.status === 'confirming') s.pending_minor += t.pending?.amount_minor ?? 0n;
  else if (d.status === 'held') s.held_minor += t.post?.amount_minor ?? 0n;
  else if (d.status === 'credited') s.credited_minor += t.post?.amount_minor ?? 0n;
}

/** The identity itself: null when it holds. */
export function identityProblem(s: AssetSummary): Discrepancy | null {
  const accounted = s.credited_minor + s.held_minor + s.pending_minor;
  if (accounted === s.seen_minor) return null;
  return {
    kind: 'deposit_ledger_mismatch',
    chain_id: s.chain_id,
    asset: s.asset,
    subject: 'totals',
    expected_minor: s.seen_minor,
    actual_minor: accounted,
    message: `chain ${s.chain_id} ${s.asset}: deposits seen ${s.seen_minor} ≠ credited ${s.credited_minor} + held ${s.held_minor} + pending ${s.pending_minor}`,
  };
}

// ------------------------------------------------------------------ custody

/** A ledger account's four balances (what the reconciler reads). */
export interface AccountFact {
  owner_type: string;
  kind: string;
  debits_pending_minor: bigint;
  debits_posted_minor: bigint;
  credits_pending_minor: bigint;
  credits_posted_minor: bigint;
}

/** Debit-normal balance, pending included (custody assets: a confirming deposit's coins are already there). */
export function debitBalance(a: AccountFact): bigint {
  return a.debits_posted_minor + a.debits_pending_minor - a.credits_posted_minor - a.credits_pending_minor;
}

/**
 * What a ledger account adds to (assets, liabilities) for the solvency check, pending included on
 * both sides so that an in-flight withdrawal or deposit moves both sides alike. Operator capital
 * (`external`) and spent gas (`gas`) are equity: neither side. Corrections and suspense count as
 * owed only while they owe (a credit balance); a debit balance there is a loss the platform
 * absorbed, which does not make users owed any less.
 */
export function solvencyPart(a: AccountFact): { assets_minor: bigint; liabilities_minor: bigint } {
  const credit = -debitBalance(a);
  if (a.owner_type === 'user') return { assets_minor: 0n, liabilities_minor: credit };
  switch (a.kind) {
    case 'hot_wallet':
    case 'deposit_wallets':
      return { assets_minor: -credit, liabilities_minor: 0n };
    case 'fees':
    case 'escrow':
      return { assets_minor: 0n, liabilities_minor: credit };
    case 'corrections':
    case 'suspense':
      return { assets_minor: 0n, liabilities_minor: credit > 0n ? credit : 0n };
    default:
      return { assets_minor: 0n, liabilities_minor: 0n };
  }
}

/** One of our transactions that touches the hot wallet and is not booked in the ledger yet. */
export interface HotTxFact {
  from_address: string;
  to_address: string;
  value_minor: bigint;
  data: string;
}

/** The receipt of its mined attempt (at or below the block the balances were read at). */
export interface MinedFact {
  kind: 'payload' | 'cancel';
  success: boolean;
  gas_fee_minor: bigint;
}

/**
 * What a mined, not yet booked transaction did to the hot wallet's balance, per asset:
 * sent from it: −value (native) or −amount (ERC-20 transfer) when the payload succeeded, and
 * −gas in any case; sent to it (a sweep): +value or +amount when the payload succeeded.
 * hotWalletEffect(tx, mined, hot, 'ETH', tokens) -> Map { 'USDT' => -50000000n, 'ETH' => -21000000000n }
 */
export function hotWalletEffect(tx: HotTxFact, mined: MinedFact, hot: string, native: string | null, tokens: ReadonlyArray<{ code: string; contract: string }>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const add = (asset: string, v: bigint) => out.set(asset, (out.get(asset) ?? 0n) + v);
  const h = hot.toLowerCase();
  const fromHot = tx.from_address.toLowerCase() === h;
  if (fromHot && native) add(native, -mined.gas_fee_minor);
  if (mined.kind !== 'payload' || !mined.success) return out;
  const token = tokens.find((t) => t.contract.toLowerCase() === tx.to_address.toLowerCase());
  if (token) {
    const transfer = erc20Transfer(tx.data);
    if (!transfer) return out;
    if (fromHot && transfer.to !== h) add(token.code, -transfer.amount_minor);
    if (!fromHot && transfer.to === h) add(token.code, transfer.amount_minor);
    return out;
  }
  if (native && tx.value_minor > 0n) {
    if (fromHot && tx.to_address.toLowerCase() !== h) add(native, -tx.value_minor);
    if (!fromHot && tx.to_address.toLowerCase() === h) add(native, tx.value_minor);
  }
  return out;
}

/** The recipient and amount of ERC-20 transfer(to, amount) calldata, or null. */
export function erc20Transfer(data: string): { to: string; amount_minor: bigint } | null {
  try {
    const d = decodeFunctionData({ abi: erc20Abi, data: data as `0x${string}` });
    if (d.functionName !== 'transfer') return null;
    const [to, amount] = d.args as readonly [string, bigint];
    return { to: to.toLowerCase(), amount_minor: amount };
  } catch {
    return null;
  }
}

/** Per chain and asset: the custody checks' terms. `status` says whether a check ran. */
export interface CustodySummary {
  hot_wallet: {
    status: 'checked' | 'no_hot_wallet' | 'in_flight' | 'unreachable';
    address: string | null;
    ledger_minor: bigint;
    /** Effects of mined transactions the ledger has not booked yet (added to ledger_minor). */
    in_flight_minor: bigint;
    in_flight_txs: number;
    on_chain_minor: bigint;
  };
  deposit_wallets: {
    status: 'checked' | 'in_flight' | 'partial' | 'unreachable';
    ledger_minor: bigint;
    on_chain_minor: bigint;
    addresses: number;
  };
  assets_minor: bigint;
  liabilities_minor: bigint;
}

export function emptyCustody(): CustodySummary {
  return {
    hot_wallet: { status: 'no_hot_wallet', address: null, ledger_minor: 0n, in_flight_minor: 0n, in_flight_txs: 0, on_chain_minor: 0n },
    deposit_wallets: { status: 'unreachable', ledger_minor: 0n, on_chain_minor: 0n, addresses: 0 },
    assets_minor: 0n,
    liabilities_minor: 0n,
  };
}

/** The custody discrepancies of one (chain, asset) summary, for the checks that ran. */
export function custodyProblems(chain_id: number, asset: string, c: CustodySummary): Discrepancy[] {
  const out: Discrepancy[] = [];
  const hw = c.hot_wallet;
  if (hw.status === 'checked') {
    const expected = hw.ledger_minor + hw.in_flight_minor;
    if (expected !== hw.on_chain_minor) {
      const diff = hw.on_chain_minor - expected;
      out.push({
        kind: 'hot_wallet_mismatch', chain_id, asset, subject: hw.address ?? 'hot_wallet', expected_minor: expected, actual_minor: hw.on_chain_minor,
        message: `hot wallet ${hw.address} holds ${hw.on_chain_minor} ${asset} on chain ${chain_id} but the ledger says ${expected} (${hw.ledger_minor} booked ${hw.in_flight_minor >= 0n ? '+' : '−'} ${hw.in_flight_minor < 0n ? -hw.in_flight_minor : hw.in_flight_minor} in flight): ${diff > 0n ? `${diff} unbooked (an operator top-up not recorded?)` : `${-diff} missing`}`,
      });
    }
  }
  const dw = c.deposit_wallets;
  if (dw.status === 'checked' && dw.ledger_minor !== dw.on_chain_minor) {
    out.push({
      kind: 'deposit_wallets_mismatch', chain_id, asset, subject: 'deposit_wallets', expected_minor: dw.ledger_minor, actual_minor: dw.on_chain_minor,
      message: `the ledger's deposit_wallets says ${dw.ledger_minor} ${asset} on chain ${chain_id} but our ${dw.addresses} receiving address(es) hold ${dw.on_chain_minor}`,
    });
  }
  if (c.assets_minor < c.liabilities_minor) {
    out.push({
      kind: 'custody_shortfall', chain_id, asset, subject: 'solvency', expected_minor: c.liabilities_minor, actual_minor: c.assets_minor,
      message: `chain ${chain_id} ${asset}: custody (hot wallet + deposit wallets) ${c.assets_minor} does not cover what is owed ${c.liabilities_minor} (users, fees, corrections): short by ${c.liabilities_minor - c.assets_minor}`,
    });
  }
  return out;
}
