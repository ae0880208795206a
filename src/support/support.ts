// The support module's face: the only file other modules (channels, routes, platform.ts, the
// live stream) import. Cases, messages, evidence and agent work on them (API.md part 2, "Support").
//
// ── Contract for channel adapters (src/support/email/, src/support/telegram/, …) ─────────────
// Build once: `const support = createSupport({ db, clock, config, … })` (platform.ts hands it to
// each channel's wiring). Every call below is one database transaction with its outbox events;
// none does outside I/O, so a channel stores first and talks to the outside afterwards.
//
//   support.openOrJoinCase({ channel: 'email', user_id?, contact: { email?, name?, telegram_chat_id? },
//       subject, body, tx_hash?, payment_id?, trade_id?,
//       external_ref?: { kind: 'email.message_id', ref: '<abc@host>' },   // remembered for threading
//       dedupe_key?: 'email:<abc@host>',          // the channel's message id: a repeat stores nothing
//       attachment_ids?: [..],                    // from support.storeAttachment (below)
//       unverified?: true })                      // user linked from an unproven identity (mail From)
//     -> { case: CaseSummaryDto, created: boolean, message_id: string | null }
//     Merging (API.md): a live (not closed, not merged) case of the same user — or, without a
//     user, of the same contact email — naming the same tx hash, payment or trade is joined
//     (the body becomes a customer message of it) and `created` is false.
//   support.findCaseByRef(kind, ref) -> CaseSummaryDto | null       e.g. ('email.message_id', '<…>')
//   support.findCaseByNumber(1042)   -> CaseSummaryDto | null       the `[#1042]` subject tag
//   support.addCaseRef(case_id, kind, ref)                           remember one more reference
//   support.addCustomerMessage(case_id, { channel, body, attachment_ids?, dedupe_key?, author_id?, author_name? })
//     -> { message: MessageDto, case: CaseSummaryDto, replayed } | null (null: case closed or merged —
//        open a new case with openOrJoinCase instead)
//   support.addAgentMessage(case_id, agent_id, { body, internal?, channel?, attachment_ids? }, meta?)
//   support.addSystemMessage(case_id, body)
//   support.storeAttachment({ bytes, filename, declared_type? }) -> attachment id | null (refused: type
//     sniffed from the bytes — images, PDF, plain text — or over support_attachment_bytes_max)
//   support.getCase(case_id, 'staff' | 'customer') -> CaseDto | null
//
// Sending replies out: every message written to a case emits the outbox event `case.message`
// (aggregate_type 'case') whose payload is
//   { case_id, user_id, number, case_channel, contact, subject, message: MessageDto }
// A channel consumes it with the one outbox reader, under its own consumer name, and in that
// event's transaction enqueues its own durable send job (so a crash never loses or doubles a
// reply):   consumeCaseMessages(db, 'support.email.out', limit, now, async (trx, ev) => {
//               if (ev.case_channel === 'email' && isOutbound(ev.message)) await enqueueJob(trx, 'support.email.send', …) })
// `isOutbound(message)` is true for public agent and system messages: internal notes and the
// customer's own messages never go out. The job kind and its handler are the channel's.
// ──────────────────────────────────────────────────────────────────────────────────────────────
import type { Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import { newId } from '../shared/ids.ts';
import { consumeEventsOf } from '../jobs/jobs.ts';
import type { Clock } from '../shared/clock.ts';
import * as store from './support-store.ts';
import { attachmentMeta, attachmentsByIds } from './support-attachments-store.ts';
import { attachmentIdsOf, caseDto, caseSummaryDto, messageDto, type AttachmentMeta, type CaseContact, type CaseDto, type CaseSummaryDto, type MessageDto } from './support-dto.ts';
import { createCaseEngine, NOTHING_PREPARED, type NewMessage, type OpenCaseInput, type Prepared } from './support-cases.ts';
import { createAgentOps } from './support-agent.ts';
import type { Channel } from './support-rules.ts';
import { createAttachments } from './support-attachments.ts';
import { fsBlobStore, type BlobStore } from './blob-store.ts';
import { loadEncryptionKey } from '../shared/encryption.ts';
import { join } from 'node:path';

export type { AttachmentMeta, CaseContact, CaseDto, CaseSummaryDto, MessageDto, OpenCaseInput, Prepared, NewMessage };
export { AGENT_ROLES, CASE_STATUSES, CHANNELS, PRIORITIES, type CaseStatus, type Channel, type Priority } from './support-rules.ts';

/** Messages per case shown at most (the latest ones). */
export const CASE_MESSAGES_MAX = 500;
export const CASE_EVIDENCE_MAX = 50;
export const CASE_EVENT_TYPES = ['case.created', 'case.message', 'case.updated', 'case.sla_breached'] as const;

/** The payload of a `case.message` outbox event. */
export interface CaseMessageEvent {
  case_id: string;
  user_id: string | null;
  number: number;
  case_channel: Channel;
  contact: CaseContact;
  subject: string;
  message: MessageDto;
}

/** Whether a message leaves through the case's channel: public agent and system messages. */
export function isOutbound(m: MessageDto): boolean {
  return !m.internal && (m.author.type === 'agent' || m.author.type === 'system');
}

/**
 * One pass of a channel's consumer of `case.message` events (see the contract above):
 *   await consumeCaseMessages(db, 'support.telegram.out', 100, clock.now_ms(), async (trx, ev) => …)
 */
export async function consumeCaseMessages(db: Db, consumer: string, limit: number, now_ms: number, handle: (trx: Transaction<Database>, ev: CaseMessageEvent) => Promise<unknown>): Promise<number> {
  return consumeEventsOf<CaseMessageEvent>(db, consumer, 'case.message', limit, now_ms, handle);
}

export interface SupportDeps {
  db: Db;
  clock: Clock;
  config: Config;
  /** Whether a user id belongs to staff (assignees must be): from the accounts face. */
  isStaffUser?: (user_id: string) => Promise<boolean>;
  /** Evidence and the automatic chain answer for a new case (support-evidence.ts), read before its transaction. */
  prepare?: (input: OpenCaseInput) => Promise<Prepared>;
  /** Where attachment bytes live; default: sealed files in <data dir>/support-attachments. */
  blobs?: BlobStore;
  slaOnOpen?: Parameters<typeof createCaseEngine>[0]['slaOnOpen'];
  slaOnChange?: Parameters<typeof createCaseEngine>[0]['slaOnChange'];
}

async function attachmentsOf(ex: DbExecutor, messages: store.MessageRow[]): Promise<Map<string, AttachmentMeta>> {
  const ids = [...new Set(messages.flatMap(attachmentIdsOf))];
  return new Map((await attachmentsByIds(ex, ids)).map((a) => [a.id, attachmentMeta(a)]));
}

/** const support = createSupport({ db, clock, config }); await support.openOrJoinCase({ channel: 'web', user_id, subject, body }) */
export function createSupport(deps: SupportDeps) {
  const { db, clock } = deps;
  const engine = createCaseEngine({ db, clock, ...(deps.slaOnOpen ? { slaOnOpen: deps.slaOnOpen } : {}), ...(deps.slaOnChange ? { slaOnChange: deps.slaOnChange } : {}) });
  const ex = db.kysely;
  const blobs = deps.blobs ?? fsBlobStore(join(deps.config.data_dir, 'support-attachments'), loadEncryptionKey(deps.config.encryption_key, deps.config.data_dir));
  const attachments = createAttachments({ db, clock, blobs, bytes_max: deps.config.limits.support_attachment_bytes_max });

  async function getCase(case_id: string, view: 'staff' | 'customer'): Promise<CaseDto | null> {
    const c = await store.caseById(ex, case_id);
    if (!c) return null;
    const messages = await store.messagesOf(ex, c.id, view === 'staff', CASE_MESSAGES_MAX);
    return caseDto(c, await store.evidenceOf(ex, c.id, CASE_EVIDENCE_MAX), messages, await attachmentsOf(ex, messages));
  }

  async function summaryOf(case_id: string | null): Promise<CaseSummaryDto | null> {
    const c = case_id ? await store.caseById(ex, case_id) : null;
    return c ? caseSummaryDto(c) : null;
  }

  async function messageResult(r: { message: store.MessageRow; case: store.CaseRow; replayed: boolean } | null) {
    if (!r) return null;
    return { message: messageDto(r.message, await attachmentsOf(ex, [r.message])), case: caseSummaryDto(r.case), replayed: r.replayed };
  }

  const service = {
    engine,
    getCase,
    /** The case without messages and evidence (lists, streams). */
    summary: summaryOf,

    /** The case as its customer sees it, or null when it is not theirs (the routes answer 404). */
    async caseForCustomer(case_id: string, user_id: string): Promise<CaseDto | null> {
      const c = await store.caseById(ex, case_id);
      if (!c || c.user_id !== user_id) return null;
      return getCase(c.id, 'customer');
    },

    async openOrJoinCase(input: OpenCaseInput) {
      const prepared = deps.prepare ? await deps.prepare(input) : NOTHING_PREPARED;
      const r = await engine.openOrJoin(input, prepared);
      return { case: caseSummaryDto(r.case), created: r.created, message_id: r.message_id };
    },

    findCaseByRef: async (kind: string, ref: string) => summaryOf(await store.caseIdByRef(ex, kind, ref)),
    findCaseByNumber: async (number: number) => {
      const c = await store.caseByNumber(ex, number);
      return c ? caseSummaryDto(c) : null;
    },
    async addCaseRef(case_id: string, kind: string, ref: string): Promise<void> {
      await store.insertRef(ex, kind, ref, case_id, clock.now_ms());
    },

    async addCustomerMessage(case_id: string, m: { channel: Channel; body: string; attachment_ids?: string[]; dedupe_key?: string | null; author_id?: string | null; author_name?: string | null }) {
      return messageResult(await engine.addMessage(case_id, { author: { type: 'customer', id: m.author_id ?? null, name: m.author_name ?? null }, channel: m.channel, body: m.body, attachment_ids: m.attachment_ids ?? [], dedupe_key: m.dedupe_key ?? null }));
    },

    async addSystemMessage(case_id: string, body: string, dedupe_key: string | null = null) {
      const c = await store.caseById(ex, case_id);
      if (!c) return null;
      return messageResult(await engine.addMessage(case_id, { author: { type: 'system' }, channel: c.channel as Channel, body, dedupe_key }));
    },

    /**
     * Whether every id is an attachment this uploader stored that is on no case yet, or on
     * `case_id`: nobody attaches another person's file to their case.
     */
    async attachmentsUsable(ids: readonly string[], uploader_id: string | null, case_id: string | null): Promise<boolean> {
      if (ids.length === 0) return true;
      const rows = await attachmentsByIds(ex, [...new Set(ids)]);
      return rows.length === new Set(ids).size && rows.every((a) => (uploader_id === null || a.uploader_id === uploader_id) && (a.case_id === null || a.case_id === case_id));
    },

    /** A customer's or agent's upload (POST /support/attachments). */
    uploadAttachment: attachments.upload,
    downloadAttachment: attachments.download,

    /** A channel keeps a file that came with a message -> its id, or null when refused (type or size). */
    async storeAttachment(a: { bytes: Buffer; filename: string; declared_type?: string }): Promise<string | null> {
      const r = await attachments.upload({ bytes: a.bytes, filename: a.filename, uploader: { type: 'channel', id: null } });
      return r.ok ? r.attachment.id : null;
    },

    /** Captures the evidence of a case again (an agent asked), audited -> the case, or null. */
    async refreshEvidence(case_id: string, staff_id: string, meta: AuditMeta | null): Promise<CaseDto | null> {
      const c = await store.caseById(ex, case_id);
      if (!c) return null;
      const prepared = deps.prepare ? await deps.prepare({ channel: c.channel as Channel, user_id: c.user_id, subject: c.subject, body: '', tx_hash: c.tx_hash, payment_id: c.payment_id, trade_id: c.trade_id }) : NOTHING_PREPARED;
      await db.transaction(async (trx) => {
        const now = clock.now_ms();
        for (const e of prepared.evidence) await store.insertEvidence(trx, { id: newId('evd', now), case_id: c.id, kind: e.kind, captured_at_ms: now, data: JSON.stringify(e.data) });
        await writeAudit(trx, { actor: { type: 'staff', id: staff_id }, action: 'support_evidence_refreshed', subject: { type: 'support_case', id: c.id }, meta, details: { kinds: prepared.evidence.map((e) => e.kind) } }, now);
      });
      return getCase(c.id, 'staff');
    },

    /** CSAT: the customer rates a resolved (or closed) case, once -> the case, or a refusal. */
    async rateCase(case_id: string, user_id: string, score: number, comment: string | null): Promise<{ ok: true; case: CaseDto } | { ok: false; reason: 'not_found' | 'case_not_resolved' | 'already_rated' }> {
      const r = await db.transaction(async (trx) => {
        const c = await store.caseById(trx, case_id);
        if (!c || c.user_id !== user_id) return 'not_found' as const;
        if (c.status !== 'resolved' && c.status !== 'closed') return 'case_not_resolved' as const;
        if (c.rating_score !== null) return 'already_rated' as const;
        const after = await engine.saveCase(trx, c, { rating_score: score, rating_comment: comment, rating_at_ms: clock.now_ms() }, null);
        await engine.emitUpdated(trx, after, { rating: score });
        return 'ok' as const;
      });
      return r === 'ok' ? { ok: true, case: (await getCase(case_id, 'customer'))! } : { ok: false, reason: r };
    },

    async listCases(user_id: string, cursor: string | null, limit: number) {
      const rows = await store.casesOfUser(ex, user_id, cursor, limit + 1);
      const page = rows.slice(0, limit);
      return { data: page.map(caseSummaryDto), next_cursor: rows.length > limit ? page[page.length - 1]!.id : null };
    },

    ...createAgentOps({ db, clock, engine, isStaffUser: deps.isStaffUser ?? (async () => true), summaryOf }),
  };
  return service;
}

export type Support = ReturnType<typeof createSupport>;
export type { AuditMeta };
