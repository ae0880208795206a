// "Where is my money": POST /diagnose answers from Settle's records AND from the chain itself.
//
// For a hash, every configured chain is asked (bounded by a timeout each) what it knows:
//   - no chain has it                                  -> not_found
//   - it reverted                                      -> failed_on_chain
//   - it is still in the mempool                       -> confirming (diagnosis_pending)
//   - it pays one of the caller's addresses in a supported asset -> the caller's payment's own
//     verdict (confirming / held / credited / dropped / reversed…); if the scanner has not seen
//     it yet, the diagnosis records it now through the scanner's path (deposit-ingest.ts)
//   - it pays the caller's address in a token Settle does not carry -> wrong_asset
//   - it pays another user's address                   -> other_account (nothing about them)
//   - it pays none of our addresses                    -> not_ours
// For a payment id: the caller's payment (404 otherwise), with what the chain says about its hash.
// Verdicts beyond the contract's list (API.md), only where none fits: `reversed`, `refunded`
// (deposit statuses) and `failed` (a withdrawal or transfer that failed off chain).
// This file finds the answer (createDiagnosis); diagnosis-routes.ts shapes it for the caller.
import type { Config } from '../../config.ts';
import type { Db, DbExecutor } from '../../db/database.ts';
import type { ChainReader, Hex, TransactionInfo } from '../../chain/chain.ts';
import { assertNever } from '../../shared/assert.ts';
import { ProblemError, problems } from '../../shared/errors.ts';
import type { Locale } from '../../shared/i18n.ts';
import { formatAmount } from '../../shared/money.ts';
import { explainDiagnosis, type DiagnosisCode } from '../payment-messages.ts';
import { assetMap } from '../payment-routes.ts';
import type { AssetInfo, PaymentStatus } from '../payment-rules.ts';
import { getPayment, paymentFromRow, type Payment } from '../payments.ts';
import { depositAddressOwners } from '../custody/deposit-addresses.ts';
import { depositIngest, type IngestResult } from '../deposits/deposit-ingest.ts';
import type { DepositScanner } from '../deposits/deposit-scanner.ts';

export type Verdict =
  | 'credited'
  | 'confirming'
  | 'held'
  | 'not_found'
  | 'not_ours'
  | 'wrong_asset'
  | 'failed_on_chain'
  | 'dropped'
  | 'other_account'
  // extensions (no contract verdict fits):
  | 'reversed'
  | 'refunded'
  | 'failed';

/** Per-chain answer time bound. */
export const CHAIN_TIMEOUT_MS = 5000;

/** What diagnosis needs from the chain side (the deposits face); absent: records only. */
export interface DiagnosisChainDeps {
  readers: ReadonlyMap<number, ChainReader>;
  /** Every address Settle credits on a chain (deposit and invoice addresses) -> its owner. */
  /** Those of `addresses` that are ours on the chain (deposit or invoice addresses) -> their owner. */
  owners: (ex: DbExecutor, chain_id: number, addresses: readonly Hex[]) => Promise<Map<Hex, { user_id: string }>>;
  /** Records a transaction the scanner has not reached yet (deposit-ingest.ts). */
  ingest?: (chain_id: number, tx_hash: Hex) => Promise<IngestResult>;
  timeout_ms?: number;
}

/** verdictOf('confirming') -> 'confirming' */
export function verdictOf(status: PaymentStatus): Verdict {
  switch (status) {
    case 'credited':
    case 'completed':
      return 'credited';
    case 'pending':
    case 'confirming':
    case 'requested':
    case 'review':
    case 'broadcast':
    case 'unknown':
      return 'confirming';
    case 'held':
      return 'held';
    case 'dropped':
      return 'dropped';
    case 'reversed':
      return 'reversed';
    case 'refunded':
      return 'refunded';
    case 'failed':
    case 'cancelled':
      return 'failed';
    default:
      return assertNever(status, 'payment status');
  }
}

/** What the chain says about a transaction, as the caller may see it (redacted for another account's). */
export interface ChainDto {
  found: boolean;
  chain_id: number | null;
  block_number: number | null;
  confirmations: number | null;
  status: string | null;
  from: string | null;
  to: string | null;
  token: string | null;
  asset: string | null;
  amount: string | null;
}

/** A chain that has no such transaction. */
function notOnChain(chain_id: number | null): ChainDto {
  return { found: false, chain_id, block_number: null, confirmations: null, status: null, from: null, to: null, token: null, asset: null, amount: null };
}

/**
 * What a diagnosis found, before it is shaped for the caller: the caller's own payment (whose
 * status gives the verdict), or a verdict from the chain alone.
 */
export type Finding =
  | { kind: 'payment'; payment: Payment; chain: ChainDto | null }
  | { kind: 'chain'; verdict: Verdict; code: DiagnosisCode; chain: ChainDto | null; params?: Record<string, string> };

type Found = Extract<TransactionInfo, { found: true }>;
type Leg = { to: Hex; from: Hex; token: Hex | null; amount_minor: bigint };

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asks every chain at once; the first that has the hash, or whether any failed to answer. */
async function askChains(chain: DiagnosisChainDeps, hash: Hex): Promise<{ chain_id: number; info: Found } | { unreachable: boolean }> {
  const ms = chain.timeout_ms ?? CHAIN_TIMEOUT_MS;
  const answers = await Promise.all(
    [...chain.readers.values()].map(async (r) => {
      const a = await withTimeout(r.transaction(hash), ms).catch(() => 'timeout' as const);
      return { chain_id: r.chain_id, a };
    }),
  );
  for (const { chain_id, a } of answers) if (a !== 'timeout' && a.found) return { chain_id, info: a };
  return { unreachable: answers.some((x) => x.a === 'timeout') };
}

function legsOf(info: Found): Leg[] {
  const legs: Leg[] = info.token_transfers.filter((t) => t.amount_minor > 0n).map((t) => ({ to: t.to, from: t.from, token: t.token, amount_minor: t.amount_minor }));
  if (info.to && info.value_minor > 0n) legs.push({ to: info.to, from: info.from, token: null, amount_minor: info.value_minor });
  for (const t of info.internal_transfers) legs.push({ to: t.to, from: t.from, token: null, amount_minor: t.amount_minor });
  return legs;
}

export interface Diagnosis {
  /** The caller's payment with what its chain says about its hash; 404 for anyone else's. */
  byPayment(user_id: string, payment_id: string): Promise<Finding>;
  /** What the records and the chains know of a hash, for this caller. */
  byHash(me: { user_id: string; locale: Locale }, hash: Hex): Promise<Finding>;
}

/** What one diagnosis reads: the records, the chain side (if any) and the configured assets. */
interface DiagnosisContext {
  ex: DbExecutor;
  chain: DiagnosisChainDeps | undefined;
  /** The Settle asset a leg pays on a chain (tokens by contract address, never symbol), or null. */
  assetOf: (chain_id: number, token: Hex | null) => AssetInfo | null;
}

function chainDto(ctx: DiagnosisContext, chain_id: number, info: Found, leg: Leg | null, redact: boolean): ChainDto {
  const asset = leg ? ctx.assetOf(chain_id, leg.token) : null;
  return {
    found: true,
    chain_id,
    block_number: info.block_number,
    confirmations: info.confirmations,
    status: info.status,
    from: redact ? null : (leg?.from ?? info.from),
    to: redact ? null : (leg?.to ?? info.to),
    token: redact ? null : (leg?.token ?? null),
    asset: redact ? null : (asset?.code ?? null),
    amount: redact || !leg ? null : asset ? formatAmount(leg.amount_minor, asset.decimals) : leg.amount_minor.toString(),
  };
}

const fromChain = (verdict: Verdict, code: DiagnosisCode, chain: ChainDto | null, params?: Record<string, string>): Finding => ({ kind: 'chain', verdict, code, chain, ...(params ? { params } : {}) });
const ofPayment = (payment: Payment, chain: ChainDto | null): Finding => ({ kind: 'payment', payment, chain });

async function diagnosePayment(ctx: DiagnosisContext, user_id: string, payment_id: string): Promise<Finding> {
  const { ex, chain } = ctx;
  const found = await getPayment(ex, payment_id);
  if (!found || found.payment.user_id !== user_id) throw problems.notFound('payment');
  const pc = found.payment.chain;
  let chainInfo: ChainDto | null = null;
  const reader = pc?.tx_hash ? chain?.readers.get(pc.chain_id) : undefined;
  if (pc?.tx_hash && reader) {
    const a = await withTimeout(reader.transaction(pc.tx_hash as Hex), chain?.timeout_ms ?? CHAIN_TIMEOUT_MS).catch(() => 'timeout' as const);
    if (a !== 'timeout') {
      const mine = a.found ? legsOf(a).find((l) => l.to === pc.to?.toLowerCase()) ?? null : null;
      chainInfo = a.found ? chainDto(ctx, pc.chain_id, a, mine, false) : notOnChain(pc.chain_id);
    }
  }
  return ofPayment(found.payment, chainInfo);
}

async function diagnoseHash(ctx: DiagnosisContext, me: { user_id: string; locale: Locale }, hash: Hex): Promise<Finding> {
  const { ex, chain } = ctx;
  const recorded = async () => (await ex.selectFrom('payments').selectAll().where('tx_hash', '=', hash).limit(50).execute()).map(paymentFromRow);
  let rows = await recorded();
  const onChain = chain ? await askChains(chain, hash) : { unreachable: true };

  if (!('info' in onChain)) {
    const mine = rows.find((p) => p.user_id === me.user_id);
    if (mine) return ofPayment(mine, null);
    if (rows.length) return fromChain('other_account', 'diagnosis_other_account', null);
    if (onChain.unreachable) throw new ProblemError(503, 'chain_unavailable', explainDiagnosis('diagnosis_chain_unreachable', me.locale).message).inLocale(me.locale);
    return fromChain('not_found', 'diagnosis_not_found', notOnChain(null));
  }

  const { chain_id, info } = onChain;
  if (info.status === 'reverted') return fromChain('failed_on_chain', 'diagnosis_failed_on_chain', chainDto(ctx, chain_id, info, null, false));
  const legs = legsOf(info);
  const owners = await chain!.owners(ex, chain_id, [...new Set(legs.map((l) => l.to))]);
  const ownerOf = (l: Leg) => owners.get(l.to)?.user_id ?? null;
  const supported = legs.filter((l) => ownerOf(l) === me.user_id && ctx.assetOf(chain_id, l.token));
  const unsupported = legs.filter((l) => ownerOf(l) === me.user_id && !ctx.assetOf(chain_id, l.token));
  const others = legs.filter((l) => ownerOf(l) !== null && ownerOf(l) !== me.user_id);

  let mine = rows.find((p) => p.user_id === me.user_id);
  if (!mine && supported.length && info.status === 'success' && chain!.ingest) {
    // Ours and not recorded yet (scanner behind): record it now, through the scanner's path.
    await chain!.ingest(chain_id, hash);
    rows = await recorded();
    mine = rows.find((p) => p.user_id === me.user_id);
  }
  if (mine) return ofPayment(mine, chainDto(ctx, chain_id, info, supported.find((l) => l.to === mine.chain?.to?.toLowerCase()) ?? supported[0] ?? null, false));
  if (info.status === 'pending') return fromChain('confirming', 'diagnosis_pending', chainDto(ctx, chain_id, info, supported[0] ?? legs[0] ?? null, false));
  if (unsupported.length) {
    const leg = unsupported[0]!;
    return fromChain('wrong_asset', 'diagnosis_wrong_asset', chainDto(ctx, chain_id, info, leg, false), { token: leg.token ?? 'native' });
  }
  if (others.length || rows.length) return fromChain('other_account', 'diagnosis_other_account', chainDto(ctx, chain_id, info, null, true));
  return fromChain('not_ours', 'diagnosis_not_ours', chainDto(ctx, chain_id, info, legs[0] ?? null, false));
}

/** const d = createDiagnosis({ db, config }, () => chainDeps); await d.byHash(me, '0x…') */
export function createDiagnosis(deps: { db: Db; config: Config }, chainDeps?: DiagnosisChainDeps | (() => DiagnosisChainDeps | undefined)): Diagnosis {
  const assets = [...assetMap(deps.config).values()];
  // The chain side is read per diagnosis: the platform may attach it after the routes are built.
  const context = (): DiagnosisContext => ({
    ex: deps.db.kysely,
    chain: typeof chainDeps === 'function' ? chainDeps() : chainDeps,
    assetOf: (chain_id, token) => assets.find((a) => a.chain_id === chain_id && (a.contract_address?.toLowerCase() ?? null) === token) ?? null,
  });
  return {
    byPayment: (user_id, payment_id) => diagnosePayment(context(), user_id, payment_id),
    byHash: (me, hash) => diagnoseHash(context(), me, hash),
  };
}

/**
 * The chain side from the deposits face (composition root):
 * diagnosisChainFrom(deposits, (ex, chain_id, addresses) => invoices.addressOwners(ex, chain_id, addresses))
 */
export function diagnosisChainFrom(
  deposits: { readers: Map<number, ChainReader>; scanners: DepositScanner[] },
  extraOwners?: (ex: DbExecutor, chain_id: number, addresses: readonly Hex[]) => Promise<Map<Hex, { user_id: string }>>,
): DiagnosisChainDeps {
  return {
    readers: deposits.readers,
    owners: async (ex, chain_id, addresses) => {
      const owners: Map<Hex, { user_id: string }> = await depositAddressOwners(ex, chain_id, addresses);
      const rest = addresses.filter((a) => !owners.has(a));
      for (const [a, o] of rest.length && extraOwners ? await extraOwners(ex, chain_id, rest) : []) if (!owners.has(a)) owners.set(a, o);
      return owners;
    },
    ingest: depositIngest(deposits),
  };
}
