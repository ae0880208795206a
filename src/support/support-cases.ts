// The case engine: opening (or joining, by the merging rule) a case, appending messages, and
// the status, assignment and merge changes of agents. Each change is one transaction with its
// outbox events (`case.created`, `case.message`, `case.updated`) and, for staff, an audit row.
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import { emitEvent } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import * as store from './support-store.ts';
import { attachToCase, attachmentMeta, attachmentsByIds } from './support-attachments-store.ts';
import { messageDto, type AttachmentMeta, type CaseContact } from './support-dto.ts';
import { canTransition, mergesInto, normaliseTxHash, queueDueMs, statusAfterMessage, type AuthorType, type CaseStatus, type Channel, type Priority } from './support-rules.ts';

export const MERGE_CANDIDATES_MAX = 20;

/** What a channel (or the web form, or an agent for a caller) hands in to open a case. */
export interface OpenCaseInput {
  channel: Channel;
  user_id?: string | null;
  contact?: CaseContact;
  subject: string;
  body: string;
  tx_hash?: string | null;
  payment_id?: string | null;
  trade_id?: string | null;
  /** A channel's reference to remember for threading: {kind: 'email.message_id', ref: '<…>'}. */
  external_ref?: { kind: string; ref: string } | null;
  /** The channel's id of this message (a mail's Message-ID): a repeat stores nothing twice. */
  dedupe_key?: string | null;
  attachment_ids?: string[];
  /** The user was linked from an identity the channel cannot prove (an inbound mail's From). */
  unverified?: boolean;
  priority?: Priority;
  /** Who writes the first message (the customer; an agent opening a case for a caller; the system). */
  author?: { type: AuthorType; id?: string | null; name?: string | null };
}

export interface NewMessage {
  author: { type: AuthorType; id?: string | null; name?: string | null };
  channel: Channel;
  body: string;
  internal?: boolean;
  attachment_ids?: string[];
  dedupe_key?: string | null;
  call?: { direction: 'in' | 'out'; started_at: string; duration_s: number } | null;
}

/** Evidence and an automatic first answer gathered BEFORE the case's transaction (reads chains). */
export interface Prepared {
  evidence: Array<{ kind: string; data: unknown }>;
  /** A payment waiting on the chain or a maintenance window: answered at once, case in pending_chain. */
  chain_wait: { body: string } | null;
}

export const NOTHING_PREPARED: Prepared = { evidence: [], chain_wait: null };

export interface CaseEngineDeps {
  db: Db;
  clock: Clock;
  /** SLA due times of a new case (support-sla.ts); none when not wired. */
  slaOnOpen?: (ex: DbExecutor, c: store.CaseRow) => Promise<Partial<store.CaseRow>>;
  /** SLA clock after a change of status or a message (support-sla.ts). */
  slaOnChange?: (ex: DbExecutor, before: store.CaseRow, after: store.CaseRow, message: { author: AuthorType; internal: boolean } | null) => Promise<Partial<store.CaseRow>>;
}

async function attachmentMap(ex: DbExecutor, ids: readonly string[]): Promise<Map<string, AttachmentMeta>> {
  return new Map((await attachmentsByIds(ex, ids)).map((a) => [a.id, attachmentMeta(a)]));
}

export function createCaseEngine(deps: CaseEngineDeps) {
  const { db, clock } = deps;

  /** Emits case.updated with the case's customer and what changed. */
  async function emitUpdated(trx: DbExecutor, c: store.CaseRow, changes: Record<string, unknown>): Promise<void> {
    await emitEvent(trx, { type: 'case.updated', aggregate_type: 'case', aggregate_id: c.id, payload: { case_id: c.id, user_id: c.user_id, number: c.number, changes } }, clock);
  }

  /** Saves a change to a case, recomputing the SLA clock and the queue position. */
  async function saveCase(trx: DbExecutor, before: store.CaseRow, set: Partial<store.CaseRow>, message: { author: AuthorType; internal: boolean } | null): Promise<store.CaseRow> {
    let after: store.CaseRow = { ...before, ...set, updated_at_ms: clock.now_ms() };
    if (deps.slaOnChange) after = { ...after, ...(await deps.slaOnChange(trx, before, after, message)) };
    after.queue_due_ms = queueDueMs(after.status as CaseStatus, after);
    // The message counter is the store's alone (nextMessageSeq): never written back from a copy.
    const { id: _id, message_count: _count, ...rest } = after;
    await store.updateCase(trx, before.id, rest);
    return after;
  }

  /** Appends a message (once per dedupe key) and applies what it does to the status. */
  async function appendMessage(trx: DbExecutor, c: store.CaseRow, m: NewMessage): Promise<{ message: store.MessageRow; case: store.CaseRow }> {
    const now = clock.now_ms();
    const internal = m.internal === true;
    const seq = await store.nextMessageSeq(trx, c.id);
    const row: store.MessageRow = {
      id: newId('msg', now), case_id: c.id, seq, at_ms: now, author_type: m.author.type, author_id: m.author.id ?? null, author_name: m.author.name ?? null,
      channel: m.channel, body: m.body, internal: internal ? 1 : 0, attachment_ids: JSON.stringify(m.attachment_ids ?? []), call: m.call ? JSON.stringify(m.call) : null, dedupe_key: m.dedupe_key ?? null,
    };
    await store.insertMessage(trx, row);
    await attachToCase(trx, m.attachment_ids ?? [], c.id);
    const next = statusAfterMessage(c.status as CaseStatus, m.author.type, internal);
    const set: Partial<store.CaseRow> = next && canTransition(c.status as CaseStatus, next) ? { status: next } : {};
    if (m.author.type === 'agent' && !internal && c.first_responded_at_ms === null) set.first_responded_at_ms = now;
    const after = await saveCase(trx, c, set, { author: m.author.type, internal });
    const dto = messageDto(row, await attachmentMap(trx, m.attachment_ids ?? []));
    await emitEvent(trx, { type: 'case.message', aggregate_type: 'case', aggregate_id: c.id, payload: { case_id: c.id, user_id: c.user_id, number: c.number, case_channel: c.channel, contact: JSON.parse(c.contact) as CaseContact, subject: c.subject, message: dto } }, clock);
    if (after.status !== c.status) await emitUpdated(trx, after, { status: after.status });
    return { message: row, case: after };
  }

  async function createCase(trx: Transaction<Database>, input: OpenCaseInput, keys: { tx_hash: string | null; payment_id: string | null; trade_id: string | null }, prepared: Prepared): Promise<store.CaseRow> {
    const now = clock.now_ms();
    const contact = input.contact ?? {};
    let c: store.CaseRow = {
      id: newId('case', now), number: await store.nextCaseNumber(trx), status: 'new', priority: input.priority ?? 'normal', channel: input.channel, subject: input.subject,
      user_id: input.user_id ?? null, contact: JSON.stringify(contact), contact_email: contact.email?.toLowerCase() ?? null, unverified: input.unverified ? 1 : 0,
      ...keys, merged_into: null, assignee_id: null, sla_policy: null, first_response_due_at_ms: null, next_response_due_at_ms: null, resolution_due_at_ms: null,
      sla_paused_at_ms: null, sla_breached: '[]', first_responded_at_ms: null, resolved_at_ms: null, queue_due_ms: 0, message_count: 0, rating_score: null, rating_comment: null, rating_at_ms: null,
      created_at_ms: now, updated_at_ms: now,
    };
    if (deps.slaOnOpen) c = { ...c, ...(await deps.slaOnOpen(trx, c)) };
    c.queue_due_ms = queueDueMs('new', c);
    await store.insertCase(trx, c);
    if (input.external_ref) await store.insertRef(trx, input.external_ref.kind, input.external_ref.ref, c.id, now);
    for (const e of prepared.evidence) await store.insertEvidence(trx, { id: newId('evd', now), case_id: c.id, kind: e.kind, captured_at_ms: now, data: JSON.stringify(e.data) });
    await emitEvent(trx, { type: 'case.created', aggregate_type: 'case', aggregate_id: c.id, payload: { case_id: c.id, user_id: c.user_id, number: c.number, channel: c.channel } }, clock);
    const author = input.author ?? { type: 'customer' as const, id: input.user_id ?? null, name: contact.name ?? null };
    c = (await appendMessage(trx, c, { author, channel: input.channel, body: input.body, attachment_ids: input.attachment_ids ?? [], dedupe_key: input.dedupe_key ?? null })).case;
    if (prepared.chain_wait) {
      c = (await appendMessage(trx, c, { author: { type: 'system' }, channel: input.channel, body: prepared.chain_wait.body })).case;
      c = await saveCase(trx, c, { status: 'pending_chain' }, null);
      await emitUpdated(trx, c, { status: 'pending_chain' });
    }
    return c;
  }

  async function openOrJoinIn(trx: Transaction<Database>, input: OpenCaseInput, prepared: Prepared = NOTHING_PREPARED): Promise<{ case: store.CaseRow; created: boolean; message_id: string | null }> {
    const keys = { tx_hash: normaliseTxHash(input.tx_hash), payment_id: input.payment_id ?? null, trade_id: input.trade_id ?? null };
    const who = { user_id: input.user_id ?? null, contact_email: input.contact?.email?.toLowerCase() ?? null };
    if (input.dedupe_key) {
      const seen = await store.messageByDedupeKey(trx, input.dedupe_key);
      if (seen) return { case: (await store.caseById(trx, seen.case_id))!, created: false, message_id: seen.id };
    }
    const existing = (await store.mergeCandidates(trx, who, keys, MERGE_CANDIDATES_MAX)).find((c) => mergesInto(keys, { ...c, status: c.status as CaseStatus }));
    if (existing) {
      if (input.external_ref) await store.insertRef(trx, input.external_ref.kind, input.external_ref.ref, existing.id, clock.now_ms());
      const now = clock.now_ms();
      for (const e of prepared.evidence) await store.insertEvidence(trx, { id: newId('evd', now), case_id: existing.id, kind: e.kind, captured_at_ms: now, data: JSON.stringify(e.data) });
      const author = input.author ?? { type: 'customer' as const, id: input.user_id ?? null, name: input.contact?.name ?? null };
      const r = await appendMessage(trx, existing, { author, channel: input.channel, body: input.body, attachment_ids: input.attachment_ids ?? [], dedupe_key: input.dedupe_key ?? null });
      return { case: r.case, created: false, message_id: r.message.id };
    }
    const c = await createCase(trx, input, keys, prepared);
    return { case: c, created: true, message_id: null };
  }

  return {
    appendMessage,
    saveCase,
    emitUpdated,

    /**
     * Opens a case, or joins the customer's live case about the same tx hash, payment or trade
     * (API.md "Merging"): -> {case, created}. A repeated dedupe key returns its case unchanged.
     */
    async openOrJoin(input: OpenCaseInput, prepared: Prepared = NOTHING_PREPARED): Promise<{ case: store.CaseRow; created: boolean; message_id: string | null }> {
      return db.transaction((trx) => openOrJoinIn(trx, input, prepared));
    },

    /** openOrJoin inside the caller's transaction (an outbox consumer's event transaction). */
    openOrJoinIn,

    /** Appends a message to a live case -> the message, or null when the case is closed or merged. */
    async addMessage(case_id: string, m: NewMessage): Promise<{ message: store.MessageRow; case: store.CaseRow; replayed: boolean } | null> {
      return db.transaction(async (trx) => {
        if (m.dedupe_key) {
          const seen = await store.messageByDedupeKey(trx, m.dedupe_key);
          if (seen) return { message: seen, case: (await store.caseById(trx, seen.case_id))!, replayed: true };
        }
        const c = await store.caseById(trx, case_id);
        if (!c || c.status === 'closed' || c.merged_into !== null) return null;
        return { ...(await appendMessage(trx, c, m)), replayed: false };
      });
    },

    /** Changes a case by an agent, audited: -> the case, or a refusal. */
    async staffChange(case_id: string, staff_id: string, meta: AuditMeta | null, action: string, change: (c: store.CaseRow) => Partial<store.CaseRow> | { refused: string }): Promise<{ ok: true; case: store.CaseRow } | { ok: false; reason: string }> {
      return db.transaction(async (trx) => {
        const c = await store.caseById(trx, case_id);
        if (!c) return { ok: false, reason: 'not_found' };
        const set = change(c);
        if ('refused' in set) return { ok: false, reason: set.refused };
        const after = await saveCase(trx, c, set, null);
        await emitUpdated(trx, after, set);
        await writeAudit(trx, { actor: { type: 'staff', id: staff_id }, action, subject: { type: 'support_case', id: c.id }, meta, details: set }, clock.now_ms());
        return { ok: true, case: after };
      });
    },
  };
}

export type CaseEngine = ReturnType<typeof createCaseEngine>;
