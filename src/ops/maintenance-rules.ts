// Maintenance windows as pure rules: which windows are active, which block a money-moving
// request, how long to tell the client to wait.
import type { MaintenanceWindowsTable } from '../db/schema-ops.ts';

/** A maintenance window is its table's row (db/schema-ops.ts), defined once there. */
export type MaintenanceWindow = MaintenanceWindowsTable;

export const SCOPE_RE = /^(global|chain:[1-9][0-9]{0,15})$/;

/** When the window really ends: its planned end, or earlier if staff ended it. */
export function effectiveEndMs(w: MaintenanceWindow): number {
  return w.ended_at_ms !== null ? Math.min(w.ended_at_ms, w.ends_at_ms) : w.ends_at_ms;
}

export function isActive(w: MaintenanceWindow, now_ms: number): boolean {
  return w.starts_at_ms <= now_ms && now_ms < effectiveEndMs(w);
}

/**
 * What a money-moving route declares in its config:
 * - 'global': blocked by global windows only (internal transfers);
 * - 'chain': also blocked by the window of the chain the request's asset lives on
 *   (withdrawals, new invoices).
 */
export type MoneyMoving = 'global' | 'chain';

/**
 * The window that blocks a request, the one ending last if several do.
 * blockingWindow(windows, now, 'chain', 31337) -> the global or chain:31337 window, or null
 */
export function blockingWindow(windows: readonly MaintenanceWindow[], now_ms: number, kind: MoneyMoving, chain_id: number | null): MaintenanceWindow | null {
  let best: MaintenanceWindow | null = null;
  for (const w of windows) {
    if (!isActive(w, now_ms)) continue;
    const applies = w.scope === 'global' || (kind === 'chain' && chain_id !== null && w.scope === `chain:${chain_id}`);
    if (applies && (!best || effectiveEndMs(w) > effectiveEndMs(best))) best = w;
  }
  return best;
}

/** Seconds for Retry-After: at least 1, rounded up. */
export function retryAfterSeconds(w: MaintenanceWindow, now_ms: number): number {
  return Math.max(1, Math.ceil((effectiveEndMs(w) - now_ms) / 1000));
}

export type WindowRefusal = 'scope_invalid' | 'ends_before_start' | 'ends_in_past' | 'unknown_chain' | 'too_long';

/** Windows longer than this are refused (a typo in a date should not close the platform for a year). */
export const WINDOW_LENGTH_MS_MAX = 7 * 24 * 3600_000;

export function validateWindow(input: { scope: string; starts_at_ms: number; ends_at_ms: number }, now_ms: number, chain_ids: readonly number[]): WindowRefusal | null {
  if (!SCOPE_RE.test(input.scope)) return 'scope_invalid';
  if (input.scope.startsWith('chain:') && !chain_ids.includes(Number(input.scope.slice(6)))) return 'unknown_chain';
  if (input.ends_at_ms <= input.starts_at_ms) return 'ends_before_start';
  if (input.ends_at_ms <= now_ms) return 'ends_in_past';
  if (input.ends_at_ms - input.starts_at_ms > WINDOW_LENGTH_MS_MAX) return 'too_long';
  return null;
}
