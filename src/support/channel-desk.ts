// What the email and Telegram channels need of the case desk (src/support/support.ts, the
// support module's face): the shapes are the face's own, written out structurally so that the
// channels depend on the contract (API.md part 2, "Support") and not on how the desk is built.

export interface DeskContact {
  email?: string;
  name?: string;
  telegram_chat_id?: string;
}

/** The case fields a channel reads (a subset of the face's CaseSummaryDto). */
export interface DeskCase {
  id: string;
  number: number;
  status: string;
  channel: string;
  subject: string;
  user_id: string | null;
  contact: DeskContact;
  merged_into: string | null;
  expected_reply_by: string | null;
}

export interface DeskMessage {
  id: string;
  case_id: string;
  at: string;
  author: { type: 'customer' | 'agent' | 'system'; id: string | null; name: string | null };
  channel: string;
  body: string;
  internal: boolean;
}

export interface DeskOpenInput {
  channel: 'email' | 'social';
  user_id?: string | null;
  contact?: DeskContact;
  subject: string;
  body: string;
  tx_hash?: string | null;
  payment_id?: string | null;
  external_ref?: { kind: string; ref: string } | null;
  dedupe_key?: string | null;
  attachment_ids?: string[];
  unverified?: boolean;
}

export interface Desk {
  openOrJoinCase(input: DeskOpenInput): Promise<{ case: DeskCase; created: boolean; message_id: string | null }>;
  findCaseByRef(kind: string, ref: string): Promise<DeskCase | null>;
  findCaseByNumber(number: number): Promise<DeskCase | null>;
  addCaseRef(case_id: string, kind: string, ref: string): Promise<void>;
  addCustomerMessage(
    case_id: string,
    m: { channel: 'email' | 'social'; body: string; attachment_ids?: string[]; dedupe_key?: string | null; author_id?: string | null; author_name?: string | null },
  ): Promise<{ message: { id: string }; case: DeskCase; replayed: boolean } | null>;
  getCase(case_id: string, view: 'staff' | 'customer'): Promise<(DeskCase & { messages: DeskMessage[] }) | null>;
  /** Keeps a mail's attachment (type sniffed, size-limited, sealed) -> its id, or null when refused. */
  storeAttachment?(a: { bytes: Buffer; filename: string; declared_type: string }): Promise<string | null>;
}

/** The `case.message` outbox event's payload (support.ts CaseMessageEvent). */
export interface CaseMessageEvent {
  case_id: string;
  user_id: string | null;
  number: number;
  case_channel: string;
  contact: DeskContact;
  subject: string;
  message: DeskMessage;
}

/** Public agent and system messages leave through channels; notes and the customer's own never do. */
export function leavesByChannel(m: Pick<DeskMessage, 'internal' | 'author'>): boolean {
  return !m.internal && (m.author.type === 'agent' || m.author.type === 'system');
}

export const EMAIL_REF_KIND = 'email.message_id';
export const TELEGRAM_REF_KIND = 'telegram.chat';
