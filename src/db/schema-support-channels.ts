// Tables of the support desk's channels. Email (src/support/email/): every inbound mail is kept
// here, sealed, the moment the SMTP server accepts it and before it answers 250, so a crash
// between receiving and processing loses nothing; a durable job then turns it into a case
// message (idempotent by dedupe_key) and drops the sealed copy.

export interface SupportInboundMailsTable {
  id: string;
  /** email:<Message-ID>, or email:sha256:<hex of the raw mail> when it has none: stored once. */
  dedupe_key: string;
  /** SMTP MAIL FROM ('' for the null reverse-path of bounces). */
  envelope_from: string;
  /** The From header's address, lower case (filled when processed). */
  from_address: string | null;
  size: number;
  /** AES-256-GCM envelope (base64) of the raw mail; null once processed. */
  raw_enc: string | null;
  /** received | processed | ignored | failed */
  status: string;
  /** Why it was ignored (automated_reason) or failed. */
  reason: string | null;
  case_id: string | null;
  received_at_ms: number;
  processed_at_ms: number | null;
}

/** Telegram (src/support/telegram/): the case a chat's messages go to, and the chat's language. */
export interface SupportTelegramChatsTable {
  chat_id: string;
  case_id: string;
  /** en | zh-CN, from the sender's language_code */
  locale: string;
  updated_at_ms: number;
}

export interface SupportChannelTables {
  support_inbound_mails: SupportInboundMailsTable;
  support_telegram_chats: SupportTelegramChatsTable;
}
