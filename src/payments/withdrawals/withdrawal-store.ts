// Kysely queries for the withdrawals table (created by migration 2026-11-26T0410_hot_wallet;
// its type is in db/schema-payments.ts).
import { sql } from 'kysely';
import { dialectOf, type DbExecutor } from '../../db/database.ts';
import { exactSumOf, exactSums } from '../../db/exact-sum.ts';
import type { WithdrawalsTable } from '../../db/schema-payments.ts';

export type WithdrawalRow = WithdrawalsTable;


export async function insertWithdrawal(ex: DbExecutor, row: WithdrawalRow): Promise<void> {
  await ex.insertInto('withdrawals').values(row).execute();
}

export async function getWithdrawal(ex: DbExecutor, id: string): Promise<WithdrawalRow | undefined> {
  return ex.selectFrom('withdrawals').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Compare-and-set on the status: false when another worker moved it first (the fence). */
export async function updateWithdrawal(ex: DbExecutor, id: string, fromStatus: string, patch: Partial<WithdrawalRow>): Promise<boolean> {
  const res = await ex.updateTable('withdrawals').set(patch).where('id', '=', id).where('status', '=', fromStatus).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function getWithdrawalsByIds(ex: DbExecutor, ids: readonly string[]): Promise<Array<Pick<WithdrawalRow, 'id' | 'status'>>> {
  if (ids.length === 0) return [];
  return ex.selectFrom('withdrawals').select(['id', 'status']).where('id', 'in', [...ids]).execute();
}

export async function openWithdrawals(ex: DbExecutor, limit: number): Promise<WithdrawalRow[]> {
  return ex.selectFrom('withdrawals').selectAll().where('status', 'in', ['requested', 'broadcast', 'confirming']).orderBy('created_at_ms').limit(limit).execute();
}

/** Amount (without fees) of a user's withdrawals of one asset since a time, failed and cancelled excluded. */
/** What a user has withdrawn (or is withdrawing) since a moment, per asset; refused and failed ones do not count. */
/** What a user withdrew (or is withdrawing) since `since_ms`: one exact total per asset, summed in SQL. */
export async function withdrawnSince(ex: DbExecutor, user_id: string, since_ms: number): Promise<Array<{ asset: string; amount_minor: bigint }>> {
  const rows = await ex
    .selectFrom('withdrawals')
    .select('asset')
    .select(exactSums(dialectOf(ex), 'amount_minor'))
    .where('user_id', '=', user_id)
    .where('created_at_ms', '>=', since_ms)
    .where('status', 'not in', ['failed', 'cancelled'])
    .groupBy('asset')
    .execute();
  return rows.map((r) => ({ asset: r.asset, amount_minor: exactSumOf(r) }));
}

/** Whether a user has sent (or is sending) a withdrawal to this address before; refused and reviewed ones do not count. */
export async function addressUsedBefore(ex: DbExecutor, user_id: string, to_address: string): Promise<boolean> {
  const row = await ex
    .selectFrom('withdrawals')
    .select('id')
    .where('user_id', '=', user_id)
    .where('to_address', '=', to_address.toLowerCase())
    .where('status', 'in', ['requested', 'broadcast', 'confirming', 'completed'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The review queue in one query: the withdrawals in review, oldest first, each with its payment's
 * explanation parameters (JSON text, null if the payment row is missing), where the fired rules are.
 */
export async function reviewQueue(ex: DbExecutor, limit: number): Promise<Array<{ withdrawal: WithdrawalRow; payment_params: string | null }>> {
  const rows = await ex
    .selectFrom('withdrawals')
    .leftJoin('payments', 'payments.id', 'withdrawals.id')
    .selectAll('withdrawals')
    .select('payments.code_params as payment_params')
    .where('withdrawals.status', '=', 'review')
    .orderBy('withdrawals.created_at_ms')
    .orderBy('withdrawals.id')
    .limit(limit)
    .execute();
  return rows.map(({ payment_params, ...withdrawal }) => ({ withdrawal, payment_params }));
}

/** Records one staff approval of a withdrawal in review -> false when this staff member already approved it. */
export async function insertApproval(ex: DbExecutor, row: { withdrawal_id: string; staff_id: string; note: string | null; created_at_ms: number }): Promise<boolean> {
  const r = await ex.insertInto('withdrawal_approvals').values(row).onConflict((oc) => oc.columns(['withdrawal_id', 'staff_id']).doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** The staff ids that approved a withdrawal, oldest first. */
export async function approversOf(ex: DbExecutor, withdrawal_id: string): Promise<string[]> {
  const rows = await ex.selectFrom('withdrawal_approvals').select('staff_id').where('withdrawal_id', '=', withdrawal_id).orderBy('created_at_ms').orderBy('staff_id').execute();
  return rows.map((r) => r.staff_id);
}

/**
 * Withdrawals in `statuses` with no live job of `job_kind` driving them (the job's payload is
 * exactly {"id":"<withdrawal id>"}), by id after `after`: the withdrawal watch's page.
 */
export async function undrivenWithdrawals(ex: DbExecutor, statuses: readonly string[], job_kind: string, after: string, limit: number): Promise<Array<Pick<WithdrawalRow, 'id' | 'user_id' | 'status'>>> {
  return ex
    .selectFrom('withdrawals as wd')
    .select(['wd.id', 'wd.user_id', 'wd.status'])
    .where('wd.status', 'in', [...statuses])
    .where('wd.id', '>', after)
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('jobs as j').select('j.id').where('j.kind', '=', job_kind).where('j.status', 'in', ['queued', 'running']).where('j.payload', '=', sql<string>`'{"id":"' || wd.id || '"}'`),
    )))
    .orderBy('wd.id')
    .limit(limit)
    .execute();
}

/** The last error of the newest `job_kind` job driving withdrawal `id`. */
export async function lastJobError(ex: DbExecutor, job_kind: string, id: string): Promise<string | null> {
  const row = await ex.selectFrom('jobs').select('last_error').where('kind', '=', job_kind).where('payload', '=', JSON.stringify({ id })).orderBy('updated_at_ms', 'desc').limit(1).executeTakeFirst();
  return row?.last_error ?? null;
}

/** The user's withdrawals since a time (not failed or cancelled), newest first, at most `limit` — the velocity facts (index withdrawals_user). */
export async function recentWithdrawals(ex: DbExecutor, user_id: string, since_ms: number, limit: number): Promise<Array<{ asset: string; amount_minor: bigint; created_at_ms: number }>> {
  const rows = await ex
    .selectFrom('withdrawals')
    .select(['asset', 'amount_minor', 'created_at_ms'])
    .where('user_id', '=', user_id)
    .where('created_at_ms', '>=', since_ms)
    .where('status', 'not in', ['failed', 'cancelled'])
    .orderBy('created_at_ms', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ asset: r.asset, amount_minor: BigInt(r.amount_minor), created_at_ms: Number(r.created_at_ms) }));
}
