// Pure rules of the support desk: the case statuses and their transition table, what a message
// does to a case's status, the priority ladder, the queue's due time, and the merging rule.
// No I/O: the store and the service (support.ts) act on these answers.
import { assertNever } from '../shared/assert.ts';
import type { Role } from '../shared/principal.ts';

/** Who works the desk (API.md: agent routes answer agent, risk and admin). */
export const AGENT_ROLES: readonly Role[] = ['agent', 'risk', 'admin'];

export const CASE_STATUSES = ['new', 'open', 'pending_customer', 'pending_chain', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const CHANNELS = ['web', 'chat', 'email', 'phone', 'social', 'system'] as const;
export type Channel = (typeof CHANNELS)[number];
export type AuthorType = 'customer' | 'agent' | 'system';

/** Queue position of a case with nothing due (resolved, closed, paused): after every due one. */
export const NOTHING_DUE_MS = 8_640_000_000_000_000;

/**
 * Which status may follow which. A closed case never reopens (a new message opens a new case);
 * a resolved one reopens when the customer writes again.
 */
const TRANSITIONS: Record<CaseStatus, readonly CaseStatus[]> = {
  new: ['open', 'pending_customer', 'pending_chain', 'resolved', 'closed'],
  open: ['pending_customer', 'pending_chain', 'resolved', 'closed'],
  pending_customer: ['open', 'pending_chain', 'resolved', 'closed'],
  pending_chain: ['open', 'pending_customer', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: [],
};

/** canTransition('resolved', 'open') -> true; canTransition('closed', 'open') -> false */
export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Whether the case still takes messages and merges (everything but closed). */
export function isLive(status: CaseStatus): boolean {
  switch (status) {
    case 'new':
    case 'open':
    case 'pending_customer':
    case 'pending_chain':
    case 'resolved':
      return true;
    case 'closed':
      return false;
    default:
      return assertNever(status);
  }
}

/** Whether the SLA clock stands still in this status (waiting on the customer or the chain). */
export function isPaused(status: CaseStatus): boolean {
  switch (status) {
    case 'pending_customer':
    case 'pending_chain':
      return true;
    case 'new':
    case 'open':
    case 'resolved':
    case 'closed':
      return false;
    default:
      return assertNever(status);
  }
}

/**
 * The status after a message, or null to keep the current one: a customer writing wakes a case
 * that waited on them or was resolved; an agent's public reply makes a new case open. Internal
 * notes and system messages change nothing.
 *   statusAfterMessage('pending_customer', 'customer', false) -> 'open'
 */
export function statusAfterMessage(status: CaseStatus, author: AuthorType, internal: boolean): CaseStatus | null {
  if (internal || author === 'system') return null;
  switch (status) {
    case 'new':
      return author === 'agent' ? 'open' : null;
    case 'open':
      return null;
    case 'pending_customer':
    case 'pending_chain':
    case 'resolved':
      return author === 'customer' ? 'open' : null;
    case 'closed':
      return null;
    default:
      return assertNever(status);
  }
}

/** One step up the ladder (urgent stays urgent): raisePriority('normal') -> 'high' */
export function raisePriority(p: Priority): Priority {
  switch (p) {
    case 'low':
      return 'normal';
    case 'normal':
      return 'high';
    case 'high':
    case 'urgent':
      return 'urgent';
    default:
      return assertNever(p);
  }
}

export interface SlaClock {
  /** JSON [{kind, at, due}] of the breaches recorded (support-sla-breach.ts); absent: none. */
  sla_breached?: string;
  first_response_due_at_ms: number | null;
  next_response_due_at_ms: number | null;
  resolution_due_at_ms: number | null;
  first_responded_at_ms: number | null;
}

/**
 * The due time the queue orders by: the earliest of the clocks still running (first response
 * until answered, next response, resolution); NOTHING_DUE_MS when paused, resolved or closed.
 */
export function queueDueMs(status: CaseStatus, clock: SlaClock): number {
  if (isPaused(status) || status === 'resolved' || status === 'closed') return NOTHING_DUE_MS;
  // A clock whose breach is recorded no longer places the case: the next running one does, so
  // the breach worker's scan of overdue cases moves on (the raised priority marks the breach).
  const open = (kind: string, due: number | null) => (due !== null && !isRecorded(clock.sla_breached ?? '[]', kind, due) ? due : null);
  const dues = [clock.first_responded_at_ms === null ? open('first_response', clock.first_response_due_at_ms) : null, open('next_response', clock.next_response_due_at_ms), open('resolution', clock.resolution_due_at_ms)].filter((d): d is number => d !== null);
  return dues.length ? Math.min(...dues) : NOTHING_DUE_MS;
}

/** Whether a breach of this clock at this due time is already recorded in `sla_breached` (JSON). */
export function isRecorded(sla_breached: string, kind: string, due: number): boolean {
  return (JSON.parse(sla_breached) as Array<{ kind: string; due?: number | null }>).some((b) => b.kind === kind && (b.due === undefined || b.due === null || b.due === due));
}

/**
 * What the customer is told to expect: the response they are waiting for (first, then next), or
 * null when they are not waiting on an agent (paused, resolved, closed, or nothing computed).
 */
export function expectedReplyMs(status: CaseStatus, clock: SlaClock): number | null {
  if (isPaused(status) || status === 'resolved' || status === 'closed') return null;
  if (clock.first_responded_at_ms === null) return clock.first_response_due_at_ms;
  return clock.next_response_due_at_ms;
}

/** What a new case names, for the merging rule of API.md. */
export interface CaseSubjectKeys {
  tx_hash: string | null;
  payment_id: string | null;
  trade_id: string | null;
}

/** normaliseTxHash('0xABC…') -> '0xabc…' (hashes are compared in lower case). */
export function normaliseTxHash(hash: string | null | undefined): string | null {
  const h = hash?.trim().toLowerCase();
  return h ? h : null;
}

/** Whether a new case about `keys` merges into an existing live case (same tx hash, payment or trade). */
export function mergesInto(keys: CaseSubjectKeys, existing: CaseSubjectKeys & { status: CaseStatus; merged_into: string | null }): boolean {
  if (!isLive(existing.status) || existing.merged_into !== null) return false;
  return (keys.tx_hash !== null && keys.tx_hash === existing.tx_hash) || (keys.payment_id !== null && keys.payment_id === existing.payment_id) || (keys.trade_id !== null && keys.trade_id === existing.trade_id);
}

/** Why a merge of one case into another is refused, or null when it may go ahead. */
export type MergeRefusal = 'same_case' | 'source_closed' | 'target_closed' | 'different_customer';

export function mergeRefusal(source: { id: string; status: CaseStatus; merged_into: string | null; user_id: string | null }, target: { id: string; status: CaseStatus; merged_into: string | null; user_id: string | null }): MergeRefusal | null {
  if (source.id === target.id) return 'same_case';
  if (!isLive(source.status) || source.merged_into !== null) return 'source_closed';
  if (!isLive(target.status) || target.merged_into !== null) return 'target_closed';
  if (source.user_id !== null && target.user_id !== null && source.user_id !== target.user_id) return 'different_customer';
  return null;
}
