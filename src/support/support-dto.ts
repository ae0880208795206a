// How cases and messages look outside the module (API.md part 2, "Support"): the same shapes on
// the customer routes, the agent routes, webhooks and the live streams. Pure conversions.
import { isoTime } from '../shared/clock.ts';
import type { CaseRow, EvidenceRow, MessageRow } from './support-store.ts';
import { expectedReplyMs, isPaused, type CaseStatus } from './support-rules.ts';

export interface AttachmentMeta {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

export interface MessageDto {
  id: string;
  case_id: string;
  at: string;
  author: { type: 'customer' | 'agent' | 'system'; id: string | null; name: string | null };
  channel: string;
  body: string;
  internal: boolean;
  attachments: AttachmentMeta[];
  call: { direction: string; started_at: string; duration_s: number } | null;
}

export interface CaseContact {
  email?: string;
  name?: string;
  telegram_chat_id?: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

/** The attachment ids a message row carries. */
export function attachmentIdsOf(m: Pick<MessageRow, 'attachment_ids'>): string[] {
  return JSON.parse(m.attachment_ids) as string[];
}

export function messageDto(m: MessageRow, attachments: ReadonlyMap<string, AttachmentMeta>): MessageDto {
  return {
    id: m.id,
    case_id: m.case_id,
    at: isoTime(m.at_ms),
    author: { type: m.author_type as MessageDto['author']['type'], id: m.author_id, name: m.author_name },
    channel: m.channel,
    body: m.body,
    internal: m.internal === 1,
    attachments: attachmentIdsOf(m).flatMap((id) => attachments.get(id) ?? []),
    call: m.call ? (JSON.parse(m.call) as MessageDto['call']) : null,
  };
}

/** The case fields every view shares (lists show these; one case adds evidence and messages). */
export function caseSummaryDto(c: CaseRow) {
  const status = c.status as CaseStatus;
  return {
    id: c.id,
    number: c.number,
    status,
    priority: c.priority,
    subject: c.subject,
    channel: c.channel,
    user_id: c.user_id,
    contact: JSON.parse(c.contact) as CaseContact,
    unverified: c.unverified === 1,
    payment_id: c.payment_id,
    tx_hash: c.tx_hash,
    trade_id: c.trade_id,
    merged_into: c.merged_into,
    assignee_id: c.assignee_id,
    sla: {
      policy: c.sla_policy,
      first_response_due_at: iso(c.first_response_due_at_ms),
      next_response_due_at: iso(c.next_response_due_at_ms),
      resolution_due_at: iso(c.resolution_due_at_ms),
      paused: isPaused(status),
      breached: JSON.parse(c.sla_breached) as Array<{ kind: string; at: string }>,
    },
    expected_reply_by: iso(expectedReplyMs(status, c)),
    rating: c.rating_score === null ? null : { score: c.rating_score, comment: c.rating_comment, at: iso(c.rating_at_ms) },
    created_at: isoTime(c.created_at_ms),
    updated_at: isoTime(c.updated_at_ms),
  };
}

export type CaseSummaryDto = ReturnType<typeof caseSummaryDto>;

export function evidenceDto(e: EvidenceRow) {
  return { id: e.id, kind: e.kind, captured_at: isoTime(e.captured_at_ms), data: JSON.parse(e.data) as unknown };
}

/** The whole case: summary, evidence and messages (internal notes only when the caller is staff). */
export function caseDto(c: CaseRow, evidence: EvidenceRow[], messages: MessageRow[], attachments: ReadonlyMap<string, AttachmentMeta>) {
  return { ...caseSummaryDto(c), evidence: evidence.map(evidenceDto), messages: messages.map((m) => messageDto(m, attachments)) };
}

export type CaseDto = ReturnType<typeof caseDto>;
