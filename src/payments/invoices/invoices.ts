// The invoices module's face (merchants, BTCPay's model, improved).
//
// An invoice gets a FRESH address: its own index on the invoice key path m/44'/60'/1'/0/i, which
// can never collide with users' deposit indexes (m/44'/60'/0'/0/i). The address is watched for
// ever: the deposit scanner asks addressOwners() which addresses are invoices' and credits every
// payment into one to the MERCHANT (as a deposit of the merchant), then calls onDepositChange()
// in the same transaction, which mirrors the deposit into invoice_payments and recomputes the
// invoice's status from all its payments (invoice-payments.ts). A durable job at expires_at
// recomputes it once more (new -> expired). Every change emits `invoice.<status>` to the outbox.
// Here: creating an invoice (address allocation), marking it, refunding it, and the face.
//
//   const invoices = createInvoices({ db, clock, config, keys: createDepositKeys(mnemonic, INVOICE_PATH_PREFIX) });
//   invoices.registerJobs(platform.jobs);
//   const r = await invoices.create({ user_id, asset: 'USDT', amount_minor: 12_500_000n, expires_in_s: 900 });
//   // scanner: await invoices.onDepositChange(trx, [deposit_id])
import type { Config } from '../../config.ts';
import type { Db, DbExecutor } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Hex } from '../../chain/chain.ts';
import type { DepositKeys } from '../../chain/chain.ts';
import { emitEvent, enqueueJob, type JobRunner } from '../../jobs/jobs.ts';
import { ProblemError } from '../../shared/errors.ts';
import { deterministicId, newId } from '../../shared/ids.ts';
import type { UserStatus } from '../../shared/principal.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { assetsFromChains, type AssetInfo } from '../payment-rules.ts';
import { firstScanBlock } from '../custody/deposit-addresses.ts';
import type { Withdrawals } from '../withdrawals/withdrawals.ts';
import { createRefusal, EXPIRES_IN_S_DEFAULT, markRefusal, type CreateRefusal, type InvoiceException, type InvoiceStatus } from './invoice-rules.ts';
import { emitInvoiceEvent, invoiceSnapshot, mirrorDeposits, recomputeInvoice, type InvoiceContext } from './invoice-payments.ts';
import * as store from './invoice-store.ts';
import type { InvoicePaymentRow, InvoiceRefundRow, InvoiceRow } from './invoice-store.ts';

export type { InvoiceRow, InvoicePaymentRow, InvoiceRefundRow } from './invoice-store.ts';
export type { InvoiceStatus, InvoiceException } from './invoice-rules.ts';
export { invoiceSnapshot } from './invoice-payments.ts';

export const EXPIRE_JOB = 'invoice.expire';
const ALLOCATION_ATTEMPTS_MAX = 8;
export const INVOICES_PAGE_MAX = 100;

export interface InvoiceDeps {
  db: Db;
  clock?: Clock;
  config: Pick<Config, 'chains' | 'public_url'>;
  /** Keys on the invoice path (createDepositKeys(mnemonic, INVOICE_PATH_PREFIX)); null without a mnemonic (creation answers 503). */
  keys: DepositKeys | null;
  /** The node's head (RPC), used when the scanner has not recorded one yet. */
  headOf?: (chain_id: number) => Promise<number>;
  /** Refunds go out as withdrawals of the merchant; absent: refunds answer 501. */
  withdrawals?: Withdrawals;
}

export interface NewInvoice {
  user_id: string;
  asset: string;
  amount_minor: bigint;
  order_id?: string | null;
  expires_in_s?: number;
  metadata?: Record<string, unknown> | null;
  /** The request's Idempotency-Key: the same key never makes a second invoice, even across a crash. */
  idempotency_key?: string | null;
}

export type CreateResult = { result: 'created'; invoice: InvoiceRow } | { result: 'refused'; reason: CreateRefusal | 'unknown_asset' | 'unavailable' };

export interface RefundInput {
  user_id: string;
  user_status: UserStatus;
  invoice_id: string;
  to_address: string;
  amount_minor: bigint | null;
  idempotency_key: string;
}

export interface Invoices {
  create(input: NewInvoice): Promise<CreateResult>;
  /** The invoice if it exists (owner checks are the caller's: see getOwned). */
  get(id: string, ex?: DbExecutor): Promise<InvoiceRow | null>;
  /** Someone else's invoice is null, exactly like a missing one. */
  getOwned(user_id: string, id: string): Promise<InvoiceRow | null>;
  list(user_id: string, limit: number, cursor?: string | null): Promise<{ data: InvoiceRow[]; next_cursor: string | null }>;
  payments(invoice_id: string, ex?: DbExecutor): Promise<InvoicePaymentRow[]>;
  refunds(invoice_id: string): Promise<InvoiceRefundRow[]>;
  mark(user_id: string, id: string, status: 'settled' | 'invalid', reason: string): Promise<{ result: 'ok'; invoice: InvoiceRow } | { result: 'not_found' } | { result: 'already_final'; invoice: InvoiceRow }>;
  refund(input: RefundInput): Promise<{ refund: InvoiceRefundRow; payment_id: string }>;
  /** Recomputes an invoice's status now (the expiry job; idempotent). */
  recompute(trx: DbExecutor, id: string): Promise<InvoiceRow | null>;
  /**
   * The scanner's hook, inside its transaction: mirrors these deposits (if they pay invoice
   * addresses) and recomputes the invoices they pay. Deposits to other addresses are ignored.
   */
  onDepositChange(trx: DbExecutor, deposit_ids: readonly string[]): Promise<void>;
  /** Invoice addresses of a chain -> merchant and invoice (for the scanner's owner map: payments of kind `invoice`). */
  /** Those of `addresses` that are invoice addresses (any invoice, open or not) -> their merchant. */
  addressOwners(ex: DbExecutor, chain_id: number, addresses: readonly Hex[]): Promise<Map<Hex, { user_id: string; hd_index: number; invoice_id: string }>>;
  /** Whether the (lower-case) address is an invoice's on that chain: withdrawals refuse it. */
  isInvoiceAddress(ex: DbExecutor, chain_id: number, address: string): Promise<boolean>;
  registerJobs(jobs: JobRunner): void;
  checkoutUrl(id: string): string;
  asset(code: string): AssetInfo | null;
}

/** What creating, marking and refunding share: the payment side's context and the deps. */
type ServiceContext = InvoiceContext & { deps: InvoiceDeps; assets: Map<string, AssetInfo> };

/** The issue block: the head the scanner last saw (never above the real head), else the node's. */
async function issuedBlock(ctx: ServiceContext, chain_id: number): Promise<number | null> {
  const head = await store.selectScannedHead(ctx.db.kysely, chain_id);
  if (head !== null) return head;
  if (!ctx.deps.headOf) return null;
  try {
    return await ctx.deps.headOf(chain_id);
  } catch {
    return null;
  }
}

/**
 * Creates an invoice on the next free index of the invoice key path. Indexes are allocated
 * under a lock; a unique violation (a concurrent allocation the lock did not cover) retries.
 */
async function createInvoice(ctx: ServiceContext, input: NewInvoice): Promise<CreateResult> {
  const { db, clock } = ctx;
  const keys = ctx.deps.keys;
  const asset = ctx.assets.get(input.asset);
  if (!asset || asset.chain_id === null) return { result: 'refused', reason: 'unknown_asset' };
  const expires_in_s = input.expires_in_s ?? EXPIRES_IN_S_DEFAULT;
  const metadata_json = input.metadata ? JSON.stringify(input.metadata) : null;
  const refusal = createRefusal({ amount_minor: input.amount_minor, expires_in_s, order_id: input.order_id ?? null, metadata_json });
  if (refusal) return { result: 'refused', reason: refusal };
  const chain_id = asset.chain_id;
  // Read before the transaction (an RPC call): a block at or before the one current now.
  const issued_at_block = await issuedBlock(ctx, chain_id);
  if (issued_at_block === null || !keys) return { result: 'refused', reason: 'unavailable' };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const now = clock.now_ms();
        await store.lockInvoiceAllocation(trx, db.dialect);
        // The idempotency layer answers a retry from the stored answer; if the process died after
        // this transaction committed but before that answer was stored, the retry lands here.
        const made = input.idempotency_key ? await store.selectInvoiceByKey(trx, input.user_id, input.idempotency_key) : null;
        if (made) return { result: 'created' as const, invoice: made };
        const hd_index = await store.nextInvoiceIndex(trx);
        const row: InvoiceRow = {
          id: newId('inv', now),
          user_id: input.user_id,
          chain_id,
          asset: asset.code,
          amount_due_minor: input.amount_minor,
          amount_paid_minor: 0n,
          status: 'new',
          exception: null,
          address: keys.address(hd_index),
          hd_index,
          issued_at_block,
          order_id: input.order_id ?? null,
          metadata: metadata_json,
          mark_reason: null,
          marked_by: null,
          expires_at_ms: now + expires_in_s * 1000,
          status_since_ms: now,
          created_at_ms: now,
          updated_at_ms: now,
          idempotency_key: input.idempotency_key ?? null,
        };
        await store.insertInvoice(trx, row);
        // Were this the chain's first address, the cursor it creates must still cover the users'
        // deposit addresses issued before it (and start_block): a payment to them is never skipped.
        const start_block = ctx.deps.config.chains.find((c) => c.chain_id === chain_id)?.start_block;
        await store.pullCursorBack(trx, chain_id, issued_at_block, (await firstScanBlock(trx, chain_id, start_block, issued_at_block)) ?? issued_at_block, now);
        await enqueueJob(trx, EXPIRE_JOB, { id: row.id }, { run_at_ms: row.expires_at_ms, unique_key: `${EXPIRE_JOB}:${row.id}` }, clock);
        await emitInvoiceEvent(ctx, trx, row);
        return { result: 'created' as const, invoice: row };
      });
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= ALLOCATION_ATTEMPTS_MAX) throw error;
    }
  }
}

async function markInvoice(ctx: ServiceContext, user_id: string, id: string, status: 'settled' | 'invalid', reason: string): ReturnType<Invoices['mark']> {
  const { db, clock } = ctx;
  return db.transaction(async (trx) => {
    const inv = await store.selectInvoiceForUpdate(trx, db.dialect, id);
    if (!inv || inv.user_id !== user_id) return { result: 'not_found' as const };
    if (markRefusal(inv.status as InvoiceStatus, inv.exception as InvoiceException | null)) return { result: 'already_final' as const, invoice: inv };
    const now = clock.now_ms();
    const after: InvoiceRow = { ...inv, status, exception: 'marked', mark_reason: reason, marked_by: user_id, status_since_ms: now, updated_at_ms: now };
    await store.updateInvoice(trx, id, { status, exception: 'marked', mark_reason: reason, marked_by: user_id, status_since_ms: now, updated_at_ms: now });
    await emitInvoiceEvent(ctx, trx, after);
    return { result: 'ok' as const, invoice: after };
  });
}

/** Someone else's invoice is null, exactly like a missing one. */
async function selectOwned(ctx: InvoiceContext, user_id: string, id: string): Promise<InvoiceRow | null> {
  const r = await store.selectInvoice(ctx.db.kysely, id);
  return r && r.user_id === user_id ? r : null;
}

/** Refunds go out as a withdrawal of the merchant, at most what the invoice's payments brought in. */
async function refundInvoice(ctx: ServiceContext, input: RefundInput): ReturnType<Invoices['refund']> {
  const { db, clock } = ctx;
  const withdrawals = ctx.deps.withdrawals;
  if (!withdrawals) throw new ProblemError(501, 'refunds_unavailable', 'Refunds need the withdrawals module, which is not configured here.');
  const inv = await selectOwned(ctx, input.user_id, input.invoice_id);
  if (!inv) throw new ProblemError(404, 'not_found', 'No such invoice.');
  const refunded = (await store.selectRefunds(db.kysely, inv.id)).reduce((s, r) => s + r.amount_minor, 0n);
  const refundable = inv.amount_paid_minor - refunded;
  const amount_minor = input.amount_minor ?? refundable;
  if (amount_minor <= 0n || amount_minor > refundable) {
    throw new ProblemError(422, 'refund_exceeds_paid', `At most ${refundable} (minor units) of this invoice's payments can still be refunded.`, { refundable_minor: refundable.toString() });
  }
  const id = deterministicId('irf', inv.id, input.idempotency_key);
  // The withdrawal is the merchant's: it checks the address, the merchant's standing and balance.
  const w = await withdrawals.request({ user_id: input.user_id, user_status: input.user_status, idempotency_key: `invoice-refund:${id}`, asset: inv.asset, to_address: input.to_address, amount_minor });
  const refund: InvoiceRefundRow = { id, invoice_id: inv.id, payment_id: w.payment.id, to_address: input.to_address.toLowerCase(), amount_minor, created_at_ms: clock.now_ms() };
  await db.transaction(async (trx) => {
    if (await store.insertRefund(trx, refund)) await emitEvent(trx, { type: 'invoice.refund_requested', aggregate_type: 'invoice', aggregate_id: inv.id, payload: { ...invoiceSnapshot(inv), refund_id: id, payment_id: w.payment.id, amount_minor: amount_minor.toString(), to_address: refund.to_address } }, clock);
  });
  return { refund, payment_id: w.payment.id };
}

export function createInvoices(deps: InvoiceDeps): Invoices {
  const { db } = deps;
  const ctx: ServiceContext = { db, clock: deps.clock ?? systemClock, deps, assets: new Map(assetsFromChains(deps.config.chains).map((a) => [a.code, a])) };
  const recompute = (trx: DbExecutor, id: string) => recomputeInvoice(ctx, trx, id);

  return {
    create: (input) => createInvoice(ctx, input),
    get: (id, ex = db.kysely) => store.selectInvoice(ex, id),

    getOwned: (user_id, id) => selectOwned(ctx, user_id, id),

    async list(user_id, limit, cursor) {
      const rows = await store.queryInvoices(db.kysely, { user_id, before_id: cursor, limit });
      return { data: rows, next_cursor: rows.length === limit ? rows[rows.length - 1]!.id : null };
    },

    payments: (invoice_id, ex = db.kysely) => store.selectInvoicePayments(ex, invoice_id),
    refunds: (invoice_id) => store.selectRefunds(db.kysely, invoice_id),
    mark: (user_id, id, status, reason) => markInvoice(ctx, user_id, id, status, reason),
    refund: (input) => refundInvoice(ctx, input),
    recompute,
    onDepositChange: (trx, deposit_ids) => mirrorDeposits(ctx, trx, deposit_ids),

    async isInvoiceAddress(ex, chain_id, address) {
      return (await store.selectInvoiceByAddress(ex, chain_id, address)) !== null;
    },

    async addressOwners(ex, chain_id, addresses) {
      const m = await store.invoiceAddressOwners(ex, chain_id, addresses);
      return new Map([...m].map(([a, o]) => [a as Hex, { user_id: o.user_id, hd_index: o.hd_index, invoice_id: o.invoice_id }]));
    },

    registerJobs(jobs) {
      jobs.register(EXPIRE_JOB, async (payload, jctx) => {
        const { id } = payload as { id: string };
        await jctx.commit((trx) => recompute(trx, id));
      });
    },

    checkoutUrl: (id) => `${deps.config.public_url}/checkout/${id}`,
    asset: (code) => ctx.assets.get(code) ?? null,
  };
}
