// Kysely queries of the support desk (cases, messages, channel references, evidence); no
// business decisions. Rows come back with numbers as numbers on both dialects.
import type { Selectable } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { SupportCasesTable, SupportEvidenceTable, SupportMessagesTable } from '../db/schema-support.ts';
import type { CaseStatus } from './support-rules.ts';

export type CaseRow = Selectable<SupportCasesTable>;
export type MessageRow = Selectable<SupportMessagesTable>;
export type EvidenceRow = Selectable<SupportEvidenceTable>;

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function caseFromRow(r: CaseRow): CaseRow {
  return {
    ...r,
    number: Number(r.number),
    unverified: Number(r.unverified),
    first_response_due_at_ms: num(r.first_response_due_at_ms),
    next_response_due_at_ms: num(r.next_response_due_at_ms),
    resolution_due_at_ms: num(r.resolution_due_at_ms),
    sla_paused_at_ms: num(r.sla_paused_at_ms),
    first_responded_at_ms: num(r.first_responded_at_ms),
    resolved_at_ms: num(r.resolved_at_ms),
    queue_due_ms: Number(r.queue_due_ms),
    message_count: Number(r.message_count),
    rating_score: num(r.rating_score),
    rating_at_ms: num(r.rating_at_ms),
    created_at_ms: Number(r.created_at_ms),
    updated_at_ms: Number(r.updated_at_ms),
  };
}

function messageFromRow(r: MessageRow): MessageRow {
  return { ...r, seq: Number(r.seq), at_ms: Number(r.at_ms), internal: Number(r.internal) };
}

/** The next case number (one row, updated in the caller's transaction: numbers never repeat). */
export async function nextCaseNumber(ex: DbExecutor): Promise<number> {
  await ex.updateTable('support_counters').set((eb) => ({ value: eb('value', '+', 1) })).where('name', '=', 'case_number').execute();
  const r = await ex.selectFrom('support_counters').select('value').where('name', '=', 'case_number').executeTakeFirstOrThrow();
  return Number(r.value);
}

export async function insertCase(ex: DbExecutor, row: CaseRow): Promise<void> {
  await ex.insertInto('support_cases').values(row).execute();
}

export async function caseById(ex: DbExecutor, id: string): Promise<CaseRow | null> {
  const r = await ex.selectFrom('support_cases').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? caseFromRow(r) : null;
}

export async function caseByNumber(ex: DbExecutor, number: number): Promise<CaseRow | null> {
  const r = await ex.selectFrom('support_cases').selectAll().where('number', '=', number).executeTakeFirst();
  return r ? caseFromRow(r) : null;
}

export async function updateCase(ex: DbExecutor, id: string, set: Partial<CaseRow>): Promise<void> {
  await ex.updateTable('support_cases').set(set).where('id', '=', id).execute();
}

/**
 * Live cases of one customer (by user id, else by contact address) naming the same tx hash,
 * payment or trade: the candidates of the merging rule, oldest first.
 */
export async function mergeCandidates(ex: DbExecutor, who: { user_id: string | null; contact_email: string | null }, keys: { tx_hash: string | null; payment_id: string | null; trade_id: string | null }, limit: number): Promise<CaseRow[]> {
  if (!keys.tx_hash && !keys.payment_id && !keys.trade_id) return [];
  if (!who.user_id && !who.contact_email) return [];
  const rows = await ex
    .selectFrom('support_cases')
    .selectAll()
    .$if(who.user_id !== null, (q) => q.where('user_id', '=', who.user_id!))
    .$if(who.user_id === null, (q) => q.where('user_id', 'is', null).where('contact_email', '=', who.contact_email!))
    .where('status', '!=', 'closed')
    .where('merged_into', 'is', null)
    .where((eb) => {
      const ors = [];
      if (keys.tx_hash) ors.push(eb('tx_hash', '=', keys.tx_hash));
      if (keys.payment_id) ors.push(eb('payment_id', '=', keys.payment_id));
      if (keys.trade_id) ors.push(eb('trade_id', '=', keys.trade_id));
      return eb.or(ors);
    })
    .orderBy('created_at_ms')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(caseFromRow);
}

/** A user's cases, newest first, keyset-paged by id (ids sort by creation time). */
export async function casesOfUser(ex: DbExecutor, user_id: string, before_id: string | null, limit: number): Promise<CaseRow[]> {
  const rows = await ex
    .selectFrom('support_cases')
    .selectAll()
    .where('user_id', '=', user_id)
    .$if(before_id !== null, (q) => q.where('id', '<', before_id!))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(caseFromRow);
}

export interface QueueFilter {
  statuses: CaseStatus[] | null;
  /** A staff id, 'none' for unassigned, or null for anyone. */
  assignee: string | null;
  channel: string | null;
  priority: string | null;
}

/** The agent queue: nearest due first (ties by id), keyset-paged after (due, id). */
export async function queuePage(ex: DbExecutor, f: QueueFilter, after: { due_ms: number; id: string } | null, limit: number): Promise<CaseRow[]> {
  const rows = await ex
    .selectFrom('support_cases')
    .selectAll()
    .where('merged_into', 'is', null)
    .$if(f.statuses !== null, (q) => q.where('status', 'in', f.statuses!))
    .$if(f.assignee === 'none', (q) => q.where('assignee_id', 'is', null))
    .$if(f.assignee !== null && f.assignee !== 'none', (q) => q.where('assignee_id', '=', f.assignee!))
    .$if(f.channel !== null, (q) => q.where('channel', '=', f.channel!))
    .$if(f.priority !== null, (q) => q.where('priority', '=', f.priority!))
    .$if(after !== null, (q) => q.where((eb) => eb.or([eb('queue_due_ms', '>', after!.due_ms), eb.and([eb('queue_due_ms', '=', after!.due_ms), eb('id', '>', after!.id)])])))
    .orderBy('queue_due_ms')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(caseFromRow);
}

/** Takes the next message number of a case (the update locks its row until the transaction ends). */
export async function nextMessageSeq(ex: DbExecutor, case_id: string): Promise<number> {
  await ex.updateTable('support_cases').set((eb) => ({ message_count: eb('message_count', '+', 1) })).where('id', '=', case_id).execute();
  const r = await ex.selectFrom('support_cases').select('message_count').where('id', '=', case_id).executeTakeFirstOrThrow();
  return Number(r.message_count);
}

export async function insertMessage(ex: DbExecutor, row: MessageRow): Promise<void> {
  await ex.insertInto('support_messages').values(row).execute();
}

export async function messageByDedupeKey(ex: DbExecutor, key: string): Promise<MessageRow | null> {
  const r = await ex.selectFrom('support_messages').selectAll().where('dedupe_key', '=', key).executeTakeFirst();
  return r ? messageFromRow(r) : null;
}

export async function messageById(ex: DbExecutor, id: string): Promise<MessageRow | null> {
  const r = await ex.selectFrom('support_messages').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? messageFromRow(r) : null;
}

/** A case's messages in order (bounded; a case past the bound shows its latest ones). */
export async function messagesOf(ex: DbExecutor, case_id: string, with_internal: boolean, limit: number): Promise<MessageRow[]> {
  const rows = await ex
    .selectFrom('support_messages')
    .selectAll()
    .where('case_id', '=', case_id)
    .$if(!with_internal, (q) => q.where('internal', '=', 0))
    .orderBy('at_ms', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map(messageFromRow).reverse();
}

/** Moves every message, reference and piece of evidence of one case onto another (merging). */
export async function moveCaseContents(ex: DbExecutor, from_id: string, to_id: string): Promise<void> {
  await ex.updateTable('support_messages').set({ case_id: to_id }).where('case_id', '=', from_id).execute();
  await ex.updateTable('support_case_refs').set({ case_id: to_id }).where('case_id', '=', from_id).execute();
  await ex.updateTable('support_evidence').set({ case_id: to_id }).where('case_id', '=', from_id).execute();
  await ex.updateTable('support_attachments').set({ case_id: to_id }).where('case_id', '=', from_id).execute();
}

/** Records a channel's reference to a case (first writer wins: a reference names one case). */
export async function insertRef(ex: DbExecutor, kind: string, ref: string, case_id: string, now_ms: number): Promise<void> {
  await ex.insertInto('support_case_refs').values({ kind, ref, case_id, created_at_ms: now_ms }).onConflict((oc) => oc.columns(['kind', 'ref']).doNothing()).execute();
}

export async function caseIdByRef(ex: DbExecutor, kind: string, ref: string): Promise<string | null> {
  const r = await ex.selectFrom('support_case_refs').select('case_id').where('kind', '=', kind).where('ref', '=', ref).executeTakeFirst();
  return r?.case_id ?? null;
}

export async function insertEvidence(ex: DbExecutor, row: EvidenceRow): Promise<void> {
  await ex.insertInto('support_evidence').values(row).execute();
}

export async function evidenceOf(ex: DbExecutor, case_id: string, limit: number): Promise<EvidenceRow[]> {
  const rows = await ex.selectFrom('support_evidence').selectAll().where('case_id', '=', case_id).orderBy('captured_at_ms').orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, captured_at_ms: Number(r.captured_at_ms) }));
}

/** Live cases about a payment (the stuck-case and pending_chain followers). */
export async function liveCasesAboutPayment(ex: DbExecutor, payment_id: string, limit: number): Promise<CaseRow[]> {
  const rows = await ex.selectFrom('support_cases').selectAll().where('payment_id', '=', payment_id).where('status', 'not in', ['closed']).where('merged_into', 'is', null).orderBy('id').limit(limit).execute();
  return rows.map(caseFromRow);
}

/** Cases whose nearest running due time has passed, most overdue first (the breach worker's page). */
export async function overdueCases(ex: DbExecutor, now_ms: number, limit: number): Promise<CaseRow[]> {
  const rows = await ex.selectFrom('support_cases').selectAll().where('queue_due_ms', '<=', now_ms).where('status', 'in', ['new', 'open']).where('merged_into', 'is', null).orderBy('queue_due_ms').orderBy('id').limit(limit).execute();
  return rows.map(caseFromRow);
}
