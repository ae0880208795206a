// SLA clocks on the business calendar (API.md "SLA"): policies per channel × priority give first
// response, next response and resolution in business minutes, counted with support-channels'
// pure calendar rules (sla-calendar-rules.ts). The clock stands still in pending_customer and
// pending_chain: pausing notes when, resuming moves every running due time by the business
// minutes that were left. The calendar and the policies are desk settings (support_settings).
import type { DbExecutor } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import { addBusinessMinutes, businessMinutesBetween, DEFAULT_CALENDAR, type BusinessCalendar } from './sla-calendar-rules.ts';
import type { CaseRow } from './support-store.ts';
import { CHANNELS, isPaused, isRecorded, PRIORITIES, type AuthorType, type CaseStatus, type Channel, type Priority } from './support-rules.ts';

export interface SlaPolicy {
  channel: Channel;
  priority: Priority;
  first_response_min: number;
  next_response_min: number;
  resolution_min: number;
}

/** API.md defaults: chat and phone 5 min first response, web and system 60, email and social 240; resolution in 3 business days. */
const FIRST_RESPONSE_MIN: Record<Channel, number> = { chat: 5, phone: 5, web: 60, system: 60, email: 240, social: 240 };
const RESOLUTION_MIN = 3 * 9 * 60;

export const DEFAULT_POLICIES: SlaPolicy[] = CHANNELS.flatMap((channel) => PRIORITIES.map((priority) => ({ channel, priority, first_response_min: FIRST_RESPONSE_MIN[channel], next_response_min: FIRST_RESPONSE_MIN[channel], resolution_min: RESOLUTION_MIN })));

export async function loadCalendar(ex: DbExecutor): Promise<BusinessCalendar> {
  const r = await ex.selectFrom('support_settings').select('value').where('key', '=', 'calendar').executeTakeFirst();
  return r ? (JSON.parse(r.value) as BusinessCalendar) : DEFAULT_CALENDAR;
}

export async function loadPolicies(ex: DbExecutor): Promise<SlaPolicy[]> {
  const r = await ex.selectFrom('support_settings').select('value').where('key', '=', 'sla_policies').executeTakeFirst();
  if (!r) return DEFAULT_POLICIES;
  const saved = JSON.parse(r.value) as SlaPolicy[];
  // A saved set may name only some pairs: the defaults fill the rest.
  return DEFAULT_POLICIES.map((d) => saved.find((s) => s.channel === d.channel && s.priority === d.priority) ?? d);
}

export async function saveSetting(ex: DbExecutor, key: 'calendar' | 'sla_policies', value: unknown, by: string, now_ms: number): Promise<void> {
  const text = JSON.stringify(value);
  const updated = await ex.updateTable('support_settings').set({ value: text, updated_by: by, updated_at_ms: now_ms }).where('key', '=', key).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) await ex.insertInto('support_settings').values({ key, value: text, updated_by: by, updated_at_ms: now_ms }).execute();
}

function policyOf(policies: SlaPolicy[], channel: string, priority: string): SlaPolicy {
  return policies.find((p) => p.channel === channel && p.priority === priority) ?? DEFAULT_POLICIES.find((p) => p.channel === channel && p.priority === priority) ?? DEFAULT_POLICIES[0]!;
}

/** The due times a new case starts with. */
export function openClock(c: Pick<CaseRow, 'channel' | 'priority' | 'created_at_ms'>, policies: SlaPolicy[], cal: BusinessCalendar): Partial<CaseRow> {
  const p = policyOf(policies, c.channel, c.priority);
  return {
    sla_policy: `${p.channel}:${p.priority}`,
    first_response_due_at_ms: addBusinessMinutes(c.created_at_ms, p.first_response_min, cal),
    resolution_due_at_ms: addBusinessMinutes(c.created_at_ms, p.resolution_min, cal),
    next_response_due_at_ms: null,
  };
}

/**
 * What a change does to the clock (pure): pausing, resuming (each running due time moved by the
 * business minutes it had left), a customer message starting the next-response clock once the
 * first response was given, an agent's public reply stopping it.
 */
export function changeClock(before: CaseRow, after: CaseRow, message: { author: AuthorType; internal: boolean } | null, now_ms: number, policies: SlaPolicy[], cal: BusinessCalendar): Partial<CaseRow> {
  const set: Partial<CaseRow> = {};
  const wasPaused = isPaused(before.status as CaseStatus);
  const paused = isPaused(after.status as CaseStatus);
  if (!wasPaused && paused) set.sla_paused_at_ms = now_ms;
  if (wasPaused && !paused && before.sla_paused_at_ms !== null) {
    const since = before.sla_paused_at_ms;
    const shift = (due: number | null) => (due === null ? null : addBusinessMinutes(now_ms, due > since ? businessMinutesBetween(since, due, cal) : 0, cal));
    set.first_response_due_at_ms = after.first_responded_at_ms === null ? shift(after.first_response_due_at_ms) : after.first_response_due_at_ms;
    set.next_response_due_at_ms = shift(after.next_response_due_at_ms);
    set.resolution_due_at_ms = shift(after.resolution_due_at_ms);
    set.sla_paused_at_ms = null;
  }
  if (message && !message.internal && message.author === 'customer' && after.first_responded_at_ms !== null && after.next_response_due_at_ms === null) {
    set.next_response_due_at_ms = addBusinessMinutes(now_ms, policyOf(policies, after.channel, after.priority).next_response_min, cal);
  }
  if (message && !message.internal && message.author === 'agent') set.next_response_due_at_ms = null;
  return set;
}

export type BreachKind = 'first_response' | 'next_response' | 'resolution';

/** The clocks past due now and not recorded yet (none while paused, resolved or closed). */
export function newBreaches(c: CaseRow, now_ms: number): BreachKind[] {
  const status = c.status as CaseStatus;
  if (isPaused(status) || status === 'resolved' || status === 'closed') return [];
  const out: BreachKind[] = [];
  const due = (kind: BreachKind, at: number | null) => at !== null && at <= now_ms && !isRecorded(c.sla_breached, kind, at);
  if (c.first_responded_at_ms === null && due('first_response', c.first_response_due_at_ms)) out.push('first_response');
  if (due('next_response', c.next_response_due_at_ms)) out.push('next_response');
  if (due('resolution', c.resolution_due_at_ms)) out.push('resolution');
  return out;
}

/** Services the case engine calls (slaOnOpen / slaOnChange), reading the settings in the change's transaction. */
export function slaHooks(clock: Clock) {
  return {
    slaOnOpen: async (ex: DbExecutor, c: CaseRow) => openClock(c, await loadPolicies(ex), await loadCalendar(ex)),
    slaOnChange: async (ex: DbExecutor, before: CaseRow, after: CaseRow, message: { author: AuthorType; internal: boolean } | null) => changeClock(before, after, message, clock.now_ms(), await loadPolicies(ex), await loadCalendar(ex)),
  };
}
