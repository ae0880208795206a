// Internal transfers: by recipient email, instant, idempotent. One database transaction moves
// the money in the ledger (sender available -> recipient available, or the recipient's held
// balance when the recipient is frozen; the fee -> platform fees) and writes both payments
// (`out` for the sender, `in` for the recipient) with their outbox events.
//
// Refusals are decided in an order that reveals as little as possible about who is registered:
// the sender's own standing, the amount, the KYC limits and the sender's balance come first,
// and only a transfer that would otherwise go through learns `recipient_not_found`
// (docs/decisions/transfers-recipient-enumeration.md).
//
// A transfer held for a frozen recipient is released by itself when `account.unfrozen` reaches
// the outbox: the release worker reads the outbox with its own cursor.
import type { Config } from '../../config.ts';
import type { Db, DbExecutor } from '../../db/database.ts';
import { groupCommit } from '../../db/group-commit.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId, type AccountSpec, type TransferInput } from '../../ledger/ledger-types.ts';
import { consumeOutbox, type OutboxRow } from '../../notify/webhook-outbox.ts';
import { AssertionError } from '../../shared/assert.ts';
import type { Clock } from '../../shared/clock.ts';
import { ProblemError, problems } from '../../shared/errors.ts';
import { deterministicId, newId } from '../../shared/ids.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import type { UserStatus } from '../../shared/principal.ts';
import { assetsFromChains, type AssetInfo } from '../payment-rules.ts';
import { selectHeldPayments } from '../payment-store.ts';
import { createPayment, getPayment, transitionPayment, type Payment, type TimelineEntry } from '../payments.ts';
import { checkLimits, toReferenceCents, transferFeeMinor } from './transfer-rules.ts';
import { intervalWorker } from '../../jobs/interval-worker.ts';

export const PLATFORM_OWNER = 'platform';
export const RELEASE_CONSUMER = 'payments.transfer_release';
const RELEASE_BATCH_MAX = 100;
const HELD_PER_USER_MAX = 500;
const DAY_MS = 24 * 3600_000;
const TODAY_ROWS_MAX = 2000;

/** What transfers need from the accounts module (its face satisfies this). */
export interface TransferAccounts {
  findUserIdByEmail(email: string, ex?: DbExecutor): Promise<string | null>;
  standing(user_id: string, ex?: DbExecutor): Promise<{
    status: UserStatus;
    send: { ok: true } | { ok: false; code: string; until_ms: number | null };
    receive: 'credit' | 'hold' | 'refuse';
    limits: { daily_withdrawal_minor: bigint; single_transfer_minor: bigint };
  }>;
}

export interface TransfersDeps {
  db: Db;
  clock: Clock;
  config: Config;
  ledger: Ledger;
  accounts: TransferAccounts;
}

export interface TransferInputBody {
  to_email: string;
  asset: string;
  amount: string;
  memo?: string | undefined;
}

const USER_FLAGS = { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false };
const NO_FLAGS = { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false };

function userSpec(user_id: string, asset: string, kind: 'user_available' | 'user_held'): AccountSpec {
  return { id: ledgerAccountId('user', user_id, asset, kind), asset, owner_type: 'user', owner_id: user_id, kind, flags: USER_FLAGS };
}
function feesSpec(asset: string): AccountSpec {
  return { id: ledgerAccountId('platform', PLATFORM_OWNER, asset, 'fees'), asset, owner_type: 'platform', owner_id: PLATFORM_OWNER, kind: 'fees', flags: NO_FLAGS };
}

function refuse(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): ProblemError {
  return new ProblemError(status, code, detail, extra);
}

async function sentTodayCents(ex: DbExecutor, user_id: string, assets: ReadonlyMap<string, AssetInfo>, now_ms: number): Promise<bigint> {
  const rows = await ex
    .selectFrom('payments')
    .select(['asset', 'amount_minor'])
    .where('user_id', '=', user_id)
    .where('kind', '=', 'transfer')
    .where('direction', '=', 'out')
    .where('status', '!=', 'failed')
    .where('created_at_ms', '>', now_ms - DAY_MS)
    .limit(TODAY_ROWS_MAX)
    .execute();
  let total = 0n;
  for (const r of rows) total += toReferenceCents(r.asset, r.amount_minor, assets.get(r.asset)?.decimals ?? 0) ?? 0n;
  return total;
}

export function createTransfers(deps: TransfersDeps) {
  const { db, clock, ledger, accounts } = deps;
  const assets = new Map(assetsFromChains(deps.config.chains).map((a) => [a.code, a]));

  async function moveMoney(trx: Transaction<Database>, transfer_id: string, sender: string, recipient: string, asset: string, amount: bigint, fee: bigint, toHeld: boolean): Promise<void> {
    const credit = userSpec(recipient, asset, toHeld ? 'user_held' : 'user_available');
    await ledger.ensureAccounts([userSpec(sender, asset, 'user_available'), credit, feesSpec(asset)], trx);
    const batch: TransferInput[] = [
      { id: `${transfer_id}:amount`, debit_account_id: userSpec(sender, asset, 'user_available').id, credit_account_id: credit.id, amount_minor: amount, asset, linked: fee > 0n, reason: 'transfer', reference: transfer_id },
    ];
    if (fee > 0n) batch.push({ id: `${transfer_id}:fee`, debit_account_id: userSpec(sender, asset, 'user_available').id, credit_account_id: feesSpec(asset).id, amount_minor: fee, asset, reason: 'transfer.fee', reference: transfer_id });
    const results = await ledger.createTransfersIn(trx, batch);
    if (results.some((r) => r.result === 'exceeds_credits')) throw refuse(422, 'insufficient_funds', `Your available ${asset} balance does not cover the amount and the fee.`);
    for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`transfer ${transfer_id}: ledger refused ${r.id}: ${r.result}`);
  }

  const service = {
    assets,

    /**
     * Sends a transfer; returns the sender's payment. Throws ProblemError refusals.
     * await transfers.send('usr_a', { to_email: 'b@x.test', asset: 'USDT', amount: '10' }, idempotencyKey)
     */
    async send(sender_id: string, input: TransferInputBody, idempotency_key: string | null): Promise<{ payment: Payment; timeline: TimelineEntry[] }> {
      const asset = assets.get(input.asset);
      if (!asset) throw refuse(422, 'unknown_asset', `No configured asset is called ${input.asset}.`);
      const parsed = parseAmount(input.amount, asset.decimals);
      if (!parsed.ok || parsed.amount_minor === 0n) throw refuse(422, 'invalid_amount', parsed.ok ? 'The amount must be more than zero.' : `The amount is not valid for ${asset.code} (${parsed.reason}, ${asset.decimals} decimals at most).`);
      const amount = parsed.amount_minor;
      const fee = transferFeeMinor(amount);
      const transfer_id = idempotency_key ? deterministicId('trf', sender_id, idempotency_key) : newId('trf', clock.now_ms());
      const out_id = deterministicId('pay', transfer_id, 'out');

      // Concurrent transfers share one commit (one fsync) on SQLite; each still runs alone, in
      // arrival order, inside its own savepoint, and is acknowledged only once committed.
      await groupCommit(db).transaction(async (trx) => {
        const now = clock.now_ms();
        const me = await accounts.standing(sender_id, trx);
        if (!me.send.ok) throw refuse(403, me.send.code, me.send.code === 'account_frozen' ? 'Your account is frozen: it can receive, but cannot send.' : me.send.code === 'account_restricted' ? 'Your account is restricted: sending is not allowed.' : 'Your account cannot send.');
        // The day's total (a scan of today's transfers) is read only when the limits apply: assets
        // without a reference price are not limited.
        const amount_cents = toReferenceCents(asset.code, amount, asset.decimals);
        const sent_today_cents = amount_cents === null ? 0n : await sentTodayCents(trx, sender_id, assets, now);
        const limit = checkLimits(amount_cents, sent_today_cents, { single_transfer_minor: me.limits.single_transfer_minor, daily_minor: me.limits.daily_withdrawal_minor });
        if (limit) throw refuse(422, 'limit_exceeded', `This transfer is above your verification level's ${limit.limit === 'daily' ? 'daily' : 'single-transfer'} limit of ${formatAmount(limit.limit_cents, 2)} USD.`, { limit: limit.limit, limit_usd: formatAmount(limit.limit_cents, 2), used_usd: formatAmount(limit.used_cents, 2) });
        const [balance] = await ledger.balancesOf('user', sender_id, [asset.code], trx);
        if ((balance?.available_minor ?? 0n) < amount + fee) throw refuse(422, 'insufficient_funds', `Your available ${asset.code} balance does not cover ${formatAmount(amount, asset.decimals)} plus the fee of ${formatAmount(fee, asset.decimals)}.`);
        const recipient = await accounts.findUserIdByEmail(input.to_email, trx);
        const them = recipient ? await accounts.standing(recipient, trx) : null;
        if (!recipient || !them || them.receive === 'refuse') throw refuse(422, 'recipient_not_found', 'No account can receive at that email address. Check it with the recipient.');
        if (recipient === sender_id) throw refuse(422, 'recipient_is_sender', 'You cannot send to yourself.');
        const held = them.receive === 'hold';

        await moveMoney(trx, transfer_id, sender_id, recipient, asset.code, amount, fee, held);
        const memo = input.memo ?? null;
        await createPayment(trx, { id: out_id, user_id: sender_id, kind: 'transfer', direction: 'out', asset: asset.code, amount_minor: amount, fee_minor: fee, status: 'completed', counterparty: recipient, reference: transfer_id, memo }, clock);
        await createPayment(
          trx,
          { id: deterministicId('pay', transfer_id, 'in'), user_id: recipient, kind: 'transfer', direction: 'in', asset: asset.code, amount_minor: amount, fee_minor: 0n, status: held ? 'held' : 'completed', hold: held ? 'account_frozen' : null, counterparty: sender_id, reference: transfer_id, memo },
          clock,
        );
      });
      const found = await getPayment(db.kysely, out_id);
      if (!found) throw problems.notFound('payment');
      return found;
    },

    /** Releases a user's transfers held for a freeze (idempotent: release ids are deterministic). */
    async releaseHeld(trx: Transaction<Database>, user_id: string): Promise<number> {
      const standing = await accounts.standing(user_id, trx);
      if (standing.receive !== 'credit') return 0;
      const held = (await selectHeldPayments(trx, user_id, 'account_frozen', HELD_PER_USER_MAX)).filter((p) => p.kind === 'transfer' && p.status === 'held');
      for (const p of held) {
        await ledger.ensureAccounts([userSpec(user_id, p.asset, 'user_held'), userSpec(user_id, p.asset, 'user_available')], trx);
        const results = await ledger.createTransfersIn(trx, [
          { id: `${p.reference}:release`, debit_account_id: userSpec(user_id, p.asset, 'user_held').id, credit_account_id: userSpec(user_id, p.asset, 'user_available').id, amount_minor: p.amount_minor, asset: p.asset, reason: 'transfer.release', reference: p.id },
        ]);
        for (const r of results) if (r.result !== 'ok' && r.result !== 'exists') throw new AssertionError(`release of ${p.id}: ledger refused: ${r.result}`);
        await transitionPayment(trx, p.id, { status: 'completed', hold: null, code: 'released' }, clock);
      }
      return held.length;
    },

    /** One pass of the release consumer over the outbox; returns events read. */
    async releaseTick(): Promise<number> {
      return consumeOutbox(db, RELEASE_CONSUMER, RELEASE_BATCH_MAX, clock.now_ms(), async (trx, event: OutboxRow) => {
        if (event.type !== 'account.unfrozen') return;
        const { user_id } = JSON.parse(event.payload) as { user_id: string };
        await service.releaseHeld(trx, user_id);
      });
    },

    /** A Worker for platform.workers: polls the outbox for unfreezes. */
    releaseWorker(poll_ms = 1000) {
      return intervalWorker('transfers.release', poll_ms, () => service.releaseTick());
    },
  };
  return service;
}

export type Transfers = ReturnType<typeof createTransfers>;
