// Kysely queries for email confirmation codes (table email_verifications, one row per user).
import type { DbExecutor } from '../db/database.ts';
import type { EmailVerificationsTable } from '../db/schema-accounts.ts';

export type EmailCodeRow = EmailVerificationsTable;

export async function emailCodeOf(ex: DbExecutor, user_id: string): Promise<EmailCodeRow | undefined> {
  return ex.selectFrom('email_verifications').selectAll().where('user_id', '=', user_id).executeTakeFirst();
}

/** Replaces the user's pending code (one at a time: a new code voids the old one). */
export async function saveEmailCode(ex: DbExecutor, row: EmailCodeRow): Promise<void> {
  await ex.deleteFrom('email_verifications').where('user_id', '=', row.user_id).execute();
  await ex.insertInto('email_verifications').values(row).execute();
}

/**
 * Spends one try of the pending code for `email`, before the code is compared, so that parallel
 * guesses cannot share a try -> false when no try is left (or the code is for another address).
 */
export async function spendEmailCodeTry(ex: DbExecutor, user_id: string, email: string, attempts_max: number, now_ms: number): Promise<boolean> {
  const r = await ex
    .updateTable('email_verifications')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('user_id', '=', user_id)
    .where('email', '=', email)
    .where('attempts', '<', attempts_max)
    .where('expires_at_ms', '>', now_ms)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deleteEmailCode(ex: DbExecutor, user_id: string): Promise<void> {
  await ex.deleteFrom('email_verifications').where('user_id', '=', user_id).execute();
}

/** Marks the user's email confirmed, only if it is still the address the code was mailed to. */
export async function markEmailVerified(ex: DbExecutor, user_id: string, email: string, now_ms: number): Promise<boolean> {
  const r = await ex.updateTable('users').set({ email_verified_at_ms: now_ms, updated_at_ms: now_ms }).where('id', '=', user_id).where('email', '=', email).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
