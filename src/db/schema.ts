// The typed schema: one interface per table. Each module keeps its tables in its own file
// (schema-<module>.ts; payments' deposits and custody have theirs) so that modules never edit
// each other's; Database joins them. The files live here rather than in the modules' folders
// because db/ sits below every module: Database composing types from payments/ would be an import
// running back up the layers (CONVENTIONS.md). The jobs' and outbox's own tables are below.
// Columns ending in `_minor` are bigint money (see database.ts); `_ms` are epoch milliseconds.
import type { Generated } from 'kysely';
import type { LedgerTables } from './schema-ledger.ts';
import type { AccountTables } from './schema-accounts.ts';
import type { ChainTables } from './schema-chain.ts';
import type { PaymentTables } from './schema-payments.ts';
import type { DepositTables } from './schema-deposits.ts';
import type { CustodyTables } from './schema-custody.ts';
import type { OpsTables } from './schema-ops.ts';
import type { NotifyTables } from './schema-notify.ts';
import type { SupportChannelTables } from './schema-support-channels.ts';
import type { RiskTables } from './schema-risk.ts';
import type { SupportTables } from './schema-support.ts';
import type { TradeTables } from './schema-trades.ts';

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  /** queued | running | done | failed */
  status: string;
  unique_key: string | null;
  run_at_ms: number;
  attempts: number;
  max_attempts: number;
  lease_until_ms: number | null;
  leased_by: string | null;
  last_error: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface OutboxTable {
  seq: Generated<number>;
  id: string;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  created_at_ms: number;
}

export interface IdempotencyTable {
  scope: string;
  key: string;
  request_hash: string;
  /** in_flight | done */
  state: string;
  response_status: number | null;
  response_body: string | null;
  locked_until_ms: number;
  created_at_ms: number;
  expires_at_ms: number;
}

export interface AuditTable {
  id: string;
  at_ms: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string;
}

/** Saved positions of outbox consumers (webhook dispatcher, transfer release …). */
export interface OutboxCursorsTable {
  consumer: string;
  seq: number;
  updated_at_ms: number;
}

/** One row per singleton loop: who holds it, with which fencing token, until when (decision 0017). */
export interface LeasesTable {
  name: string;
  holder: string;
  /** Increases with every acquisition: a write fenced with an older token is refused. */
  token: number;
  expires_at_ms: number;
  acquired_at_ms: number;
}

/** Each tick of a singleton loop, by holder and token: proof that no loop ran twice at once. */
export interface LeaseTicksTable {
  id: Generated<number>;
  name: string;
  holder: string;
  token: number;
  started_at_ms: number;
  ended_at_ms: number;
}

/** Requests per caller and fixed window, shared by every API process (src/http/rate-limit.ts). */
export interface RateLimitWindowsTable {
  caller: string;
  window_start_ms: number;
  count: number;
}

export interface CoreTables {
  jobs: JobsTable;
  outbox_events: OutboxTable;
  outbox_cursors: OutboxCursorsTable;
  idempotency_keys: IdempotencyTable;
  audit_log: AuditTable;
  leases: LeasesTable;
  lease_ticks: LeaseTicksTable;
  rate_limit_windows: RateLimitWindowsTable;
}

export interface Database extends CoreTables, LedgerTables, AccountTables, ChainTables, DepositTables, CustodyTables, PaymentTables, OpsTables, NotifyTables, SupportTables, SupportChannelTables, RiskTables {}
// The trades module's tables join by declaration merging, so parallel modules never edit one line.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a merging declaration, not an alias
export interface Database extends TradeTables {}
