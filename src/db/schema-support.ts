// Tables owned by the support module (src/support/): cases, messages, channel references,
// evidence, attachments, agent actions, canned replies, settings and the case-number counter.
// Booleans are integers 0/1; `_ms` epoch milliseconds; JSON kept as text.

export interface SupportCountersTable {
  name: string;
  value: number;
}

export interface SupportCasesTable {
  id: string;
  number: number;
  /** new | open | pending_customer | pending_chain | resolved | closed (support-rules.ts) */
  status: string;
  /** low | normal | high | urgent */
  priority: string;
  /** web | chat | email | phone | social | system */
  channel: string;
  subject: string;
  user_id: string | null;
  /** JSON {email?, name?, telegram_chat_id?} */
  contact: string;
  /** The contact's address in lower case, for merging cases of people without an account. */
  contact_email: string | null;
  /** 1 when the user was linked from an unverified channel identity (an inbound mail's From). */
  unverified: number;
  payment_id: string | null;
  tx_hash: string | null;
  trade_id: string | null;
  merged_into: string | null;
  assignee_id: string | null;
  sla_policy: string | null;
  first_response_due_at_ms: number | null;
  next_response_due_at_ms: number | null;
  resolution_due_at_ms: number | null;
  /** Set while the clock is paused (pending_customer, pending_chain). */
  sla_paused_at_ms: number | null;
  /** JSON array of {kind, at} */
  sla_breached: string;
  first_responded_at_ms: number | null;
  resolved_at_ms: number | null;
  /** The nearest due time the queue orders by; a far-future constant when nothing is due. */
  queue_due_ms: number;
  /** Messages written so far; a message's seq is the count after it (taken under the row's lock). */
  message_count: number;
  rating_score: number | null;
  rating_comment: string | null;
  rating_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface SupportMessagesTable {
  id: string;
  case_id: string;
  /** Order within the case (merged messages keep theirs: ordered by time, then seq). */
  seq: number;
  at_ms: number;
  /** customer | agent | system */
  author_type: string;
  author_id: string | null;
  author_name: string | null;
  channel: string;
  body: string;
  internal: number;
  /** JSON array of attachment ids */
  attachment_ids: string;
  /** JSON {direction, started_at, duration_s} for a phone call log entry */
  call: string | null;
  /** A channel's id of the message (mail Message-ID, Telegram update id): stored once. */
  dedupe_key: string | null;
}

export interface SupportCaseRefsTable {
  /** e.g. email.message_id, telegram.chat */
  kind: string;
  ref: string;
  case_id: string;
  created_at_ms: number;
}

export interface SupportEvidenceTable {
  id: string;
  case_id: string;
  kind: string;
  captured_at_ms: number;
  data: string;
}

export interface SupportAttachmentsTable {
  id: string;
  /** user | staff | channel */
  uploader_type: string;
  uploader_id: string | null;
  case_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  blob_key: string;
  created_at_ms: number;
}

export interface SupportActionsTable {
  id: string;
  case_id: string;
  type: string;
  amount_minor: bigint | null;
  asset: string | null;
  target: string | null;
  reason: string;
  status: string;
  requested_by: string;
  decided_by: string | null;
  result: string | null;
  request_key: string | null;
  created_at_ms: number;
  decided_at_ms: number | null;
}

export interface SupportCannedRepliesTable {
  id: string;
  title: string;
  body_en: string;
  body_zh: string;
  created_by: string;
  created_at_ms: number;
}

export interface SupportSettingsTable {
  key: string;
  value: string;
  updated_by: string | null;
  updated_at_ms: number;
}

export interface SupportTables {
  support_counters: SupportCountersTable;
  support_cases: SupportCasesTable;
  support_messages: SupportMessagesTable;
  support_case_refs: SupportCaseRefsTable;
  support_evidence: SupportEvidenceTable;
  support_attachments: SupportAttachmentsTable;
  support_actions: SupportActionsTable;
  support_canned_replies: SupportCannedRepliesTable;
  support_settings: SupportSettingsTable;
}
