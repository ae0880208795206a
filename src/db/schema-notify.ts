// Tables owned by the notify module (src/notify/): webhook endpoints, messages and delivery
// attempts, and the per-user event feed.

export interface WebhookEndpointsTable {
  id: string;
  user_id: string;
  url: string;
  /** JSON array of event types ('payment.*' and '*' allowed). */
  events: string;
  /** Sealed: `enc:v1:<AES-256-GCM envelope>` of whsec_<base64> (rows from before sealing: the plain whsec_…, sealed by the webhook worker). */
  secret: string;
  /** After a rotation: the replaced secret (sealed), still signing until previous_secret_until_ms (migration T0650). */
  previous_secret: string | null;
  previous_secret_until_ms: number | null;
  created_at_ms: number;
  deleted_at_ms: number | null;
}

/** One event for one endpoint: delivered in order per (endpoint, ordering_key). */
export interface WebhookMessagesTable {
  /** The webhook-id header: stable across retries. */
  id: string;
  endpoint_id: string;
  user_id: string;
  event_id: string;
  event_seq: number;
  type: string;
  /** The aggregate (payment or invoice id): order is kept per key. */
  ordering_key: string;
  body: string;
  /** pending | delivered | dead */
  status: string;
  attempts: number;
  next_attempt_at_ms: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at_ms: number;
  delivered_at_ms: number | null;
  /** The process sending it now, and until when its claim holds (a crashed sender's claim expires). */
  claimed_by: string | null;
  claimed_until_ms: number | null;
}

export interface WebhookAttemptsTable {
  message_id: string;
  n: number;
  at_ms: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** The caller's own event feed (GET /events?after=), keyed by outbox seq. */
export interface UserEventsTable {
  seq: number;
  user_id: string;
  event_id: string;
  type: string;
  body: string;
  created_at_ms: number;
}

/**
 * One in-app notification (owned by notify since issue 14; migration 2026-12-07T2200). Rendered
 * in the reader's language when read, from `template` and `params`; `title`/`body` keep the
 * English text of the moment (and are all that rows written before templates have).
 */
export interface NotificationsTable {
  id: string;
  user_id: string;
  /** An API kind: 'deposit.credited', 'security.new_device' … */
  kind: string;
  title: string;
  body: string;
  link: string | null;
  /** The words' key in notify's catalogue (null: a row from before templates). */
  template: string | null;
  /** JSON object: each value a string or {en, 'zh-CN'}. */
  params: string | null;
  /** What produced it ('<outbox event id>:<kind>'): unique, so that a producer notifies once. */
  source_key: string | null;
  created_at_ms: number;
  read_at_ms: number | null;
}

/** A user's choice per kind; no row: the kind's default (security.* cannot be turned off). */
export interface NotificationPreferencesTable {
  user_id: string;
  kind: string;
  in_app: number;
  email: number;
  updated_at_ms: number;
}

export interface NotifyTables {
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
  user_events: UserEventsTable;
}
