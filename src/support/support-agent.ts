// What agents do to cases: reply and note, assign, change status, merge, log calls, and read the
// queue. Every change is one transaction with its outbox event and an audit row.
import type { Db } from '../db/database.ts';
import { writeAudit, type AuditMeta } from '../db/audit-log.ts';
import type { Clock } from '../shared/clock.ts';
import * as store from './support-store.ts';
import { caseSummaryDto, messageDto, type CaseSummaryDto } from './support-dto.ts';
import type { CaseEngine } from './support-cases.ts';
import { canTransition, mergeRefusal, type CaseStatus, type Channel, type Priority } from './support-rules.ts';

export interface AgentOpsDeps {
  db: Db;
  clock: Clock;
  engine: CaseEngine;
  isStaffUser: (user_id: string) => Promise<boolean>;
  summaryOf: (case_id: string | null) => Promise<CaseSummaryDto | null>;
}

export type AgentRefusal = 'not_found' | 'case_closed' | 'not_staff' | 'transition_invalid' | 'same_case' | 'source_closed' | 'target_closed' | 'different_customer';

/** An opaque queue cursor: the last case's due time and id. */
export function queueCursor(c: { queue_due_ms: number; id: string }): string {
  return Buffer.from(`${c.queue_due_ms}:${c.id}`).toString('base64url');
}

export function parseQueueCursor(cursor: string | null): { due_ms: number; id: string } | null {
  if (!cursor) return null;
  const m = /^(\d{1,19}):([a-z]{1,10}_[0-9a-z]{1,60})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? { due_ms: Number(m[1]), id: m[2]! } : null;
}

export function createAgentOps(deps: AgentOpsDeps) {
  const { db, clock, engine } = deps;

  async function audit(ex: Parameters<typeof writeAudit>[0], staff_id: string, action: string, case_id: string, meta: AuditMeta | null, details: Record<string, unknown>): Promise<void> {
    await writeAudit(ex, { actor: { type: 'staff', id: staff_id }, action, subject: { type: 'support_case', id: case_id }, meta, details }, clock.now_ms());
  }

  /** An agent's reply or internal note (channel: the case's own unless given) -> the message, or a refusal. */
  async function addAgentMessage(case_id: string, agent_id: string, m: { body: string; internal?: boolean; channel?: Channel; attachment_ids?: string[]; call?: { direction: 'in' | 'out'; started_at: string; duration_s: number } | null; author_name?: string | null }, meta: AuditMeta | null = null) {
    const r = await db.transaction(async (trx) => {
      const c = await store.caseById(trx, case_id);
      if (!c) return { ok: false as const, reason: 'not_found' as const };
      if (c.status === 'closed' || c.merged_into !== null) return { ok: false as const, reason: 'case_closed' as const };
      const done = await engine.appendMessage(trx, c, { author: { type: 'agent', id: agent_id, name: m.author_name ?? null }, channel: m.channel ?? (c.channel as Channel), body: m.body, internal: m.internal === true, attachment_ids: m.attachment_ids ?? [], call: m.call ?? null });
      await audit(trx, agent_id, m.call ? 'support_call_logged' : m.internal ? 'support_note_added' : 'support_reply_sent', c.id, meta, { message_id: done.message.id });
      return { ok: true as const, ...done };
    });
    if (!r.ok) return r;
    return { ok: true as const, message: messageDto(r.message, new Map()), case: caseSummaryDto(r.case) };
  }

  return {
    addAgentMessage,

    /** Logs a phone call on a case: a message with channel phone and the call's facts. */
    async logCall(case_id: string, agent_id: string, call: { direction: 'in' | 'out'; started_at: string; duration_s: number; notes: string; attachment_ids?: string[] }, meta: AuditMeta | null) {
      return addAgentMessage(case_id, agent_id, { body: call.notes, channel: 'phone', internal: false, attachment_ids: call.attachment_ids ?? [], call: { direction: call.direction, started_at: call.started_at, duration_s: call.duration_s } }, meta);
    },

    /** Assigns a case to a staff member (the caller when absent). */
    async assign(case_id: string, staff_id: string, assignee_id: string | null, meta: AuditMeta | null) {
      const to = assignee_id ?? staff_id;
      if (to !== staff_id && !(await deps.isStaffUser(to))) return { ok: false as const, reason: 'not_staff' as const };
      return engine.staffChange(case_id, staff_id, meta, 'support_case_assigned', () => ({ assignee_id: to }));
    },

    /** Changes a case's status along the transition table. */
    async setStatus(case_id: string, staff_id: string, status: CaseStatus, meta: AuditMeta | null) {
      return engine.staffChange(case_id, staff_id, meta, 'support_case_status', (c) => {
        if (c.merged_into !== null || !canTransition(c.status as CaseStatus, status)) return { refused: 'transition_invalid' };
        return status === 'resolved' ? { status, resolved_at_ms: clock.now_ms() } : { status };
      });
    },

    async setPriority(case_id: string, staff_id: string, priority: Priority, meta: AuditMeta | null) {
      return engine.staffChange(case_id, staff_id, meta, 'support_case_priority', () => ({ priority }));
    },

    /**
     * Merges one case into another: its messages, references, evidence and attachments move to
     * the target, the source is closed with `merged_into` set, and both get a system message.
     */
    async merge(source_id: string, into_id: string, staff_id: string, meta: AuditMeta | null) {
      return db.transaction(async (trx) => {
        const source = await store.caseById(trx, source_id);
        const target = await store.caseById(trx, into_id);
        if (!source || !target) return { ok: false as const, reason: 'not_found' as const };
        const refused = mergeRefusal({ ...source, status: source.status as CaseStatus }, { ...target, status: target.status as CaseStatus });
        if (refused) return { ok: false as const, reason: refused };
        await store.moveCaseContents(trx, source.id, target.id);
        const closed = await engine.saveCase(trx, source, { status: 'closed', merged_into: target.id }, null);
        await engine.emitUpdated(trx, closed, { status: 'closed', merged_into: target.id });
        const r = await engine.appendMessage(trx, target, { author: { type: 'system' }, channel: target.channel as Channel, body: `Case #${source.number} was merged into this case.` });
        const fill = { tx_hash: target.tx_hash ?? source.tx_hash, payment_id: target.payment_id ?? source.payment_id, trade_id: target.trade_id ?? source.trade_id };
        const after = await engine.saveCase(trx, r.case, fill, null);
        await audit(trx, staff_id, 'support_case_merged', source.id, meta, { into_case_id: target.id });
        return { ok: true as const, case: after };
      });
    },

    /** The queue: nearest SLA due first, filtered, cursor-paged. */
    async queue(filter: store.QueueFilter, cursor: string | null, limit: number) {
      const rows = await store.queuePage(db.kysely, filter, parseQueueCursor(cursor), limit + 1);
      const page = rows.slice(0, limit);
      return { data: page.map(caseSummaryDto), next_cursor: rows.length > limit ? queueCursor(page[page.length - 1]!) : null };
    },

    /** An audit row for something staff did to a case outside the engine (evidence refresh …). */
    async auditCase(case_id: string, staff_id: string, action: string, meta: AuditMeta | null, details: Record<string, unknown>) {
      await audit(db.kysely, staff_id, action, case_id, meta, details);
    },

  };
}
