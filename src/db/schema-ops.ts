// Tables owned by the ops module (src/ops/): maintenance windows and announcements.

/** Maintenance windows scheduled by staff (src/ops/maintenance*.ts). */
export interface MaintenanceWindowsTable {
  id: string;
  /** global | chain:<chain_id> */
  scope: string;
  starts_at_ms: number;
  ends_at_ms: number;
  message: string;
  message_zh: string | null;
  created_by: string;
  created_at_ms: number;
  /** Set when staff ended it early. */
  ended_at_ms: number | null;
  ended_by: string | null;
}

/** Announcements published by staff (src/ops/announcements.ts), both languages always. */
export interface AnnouncementsTable {
  id: string;
  title_en: string;
  title_zh: string;
  body_en: string;
  body_zh: string;
  /** info | warning | critical */
  severity: string;
  /** global | chain:<chain_id> */
  scope: string;
  starts_at_ms: number;
  /** null: until ended by staff. */
  ends_at_ms: number | null;
  created_by: string;
  created_at_ms: number;
  ended_at_ms: number | null;
  ended_by: string | null;
}

/** One chain's figures at one minute (src/ops/status-samples.ts); states 0..3 as STATE_ORDER. */
export interface StatusSamplesTable {
  chain_id: number;
  at_ms: number;
  head: number | null;
  lag_blocks: number | null;
  deposits_state: number;
  withdrawals_state: number;
  confirm_p50_s: number | null;
  confirm_p95_s: number | null;
  deposits_confirming: number;
  withdrawals_queued: number;
}

export interface OpsTables {
  status_samples: StatusSamplesTable;
  maintenance_windows: MaintenanceWindowsTable;
  announcements: AnnouncementsTable;
}
