// The breach worker (API.md "SLA"): an interval worker that looks at the cases whose nearest due
// time has passed (bounded per tick), records each clock that ran out in `sla.breached`, raises
// the priority one step, fires `case.sla_breached` (the agents' stream shows it to the queue) and
// mails the assignee, all in one transaction per case.
import type { Db } from '../db/database.ts';
import { emitEvent } from '../jobs/jobs.ts';
import { enqueueMail } from '../notify/notify.ts';
import type { Clock } from '../shared/clock.ts';
import { isoTime } from '../shared/clock.ts';
import type { CaseEngine } from './support-cases.ts';
import * as store from './support-store.ts';
import { newBreaches } from './support-sla.ts';
import { raisePriority, type Priority } from './support-rules.ts';

export const BREACHES_PER_TICK_MAX = 100;
export const BREACH_EVERY_MS = 30_000;

export function createBreachWorker(deps: { db: Db; clock: Clock; engine: CaseEngine; emailOf: (user_id: string) => Promise<string | null>; public_url: string }) {
  const { db, clock, engine } = deps;
  return {
    /** One pass: -> how many cases got a breach recorded. */
    async tick(): Promise<number> {
      const now = clock.now_ms();
      const due = await store.overdueCases(db.kysely, now, BREACHES_PER_TICK_MAX);
      let n = 0;
      for (const row of due) {
        const kinds = newBreaches(row, now);
        if (kinds.length === 0) continue;
        const assignee = row.assignee_id ? await deps.emailOf(row.assignee_id) : null;
        await db.transaction(async (trx) => {
          const c = await store.caseById(trx, row.id);
          if (!c) return;
          const fresh = newBreaches(c, now);
          if (fresh.length === 0) return;
          const dues: Record<string, number | null> = { first_response: c.first_response_due_at_ms, next_response: c.next_response_due_at_ms, resolution: c.resolution_due_at_ms };
          const breached = [...(JSON.parse(c.sla_breached) as unknown[]), ...fresh.map((kind) => ({ kind, at: isoTime(now), due: dues[kind] }))];
          const after = await engine.saveCase(trx, c, { sla_breached: JSON.stringify(breached), priority: raisePriority(c.priority as Priority) }, null);
          await emitEvent(trx, { type: 'case.sla_breached', aggregate_type: 'case', aggregate_id: c.id, payload: { case_id: c.id, user_id: c.user_id, number: c.number, breached: fresh, priority: after.priority } }, clock);
          if (assignee) await enqueueMail(trx, { to: assignee, subject: `[#${c.number}] SLA breached: ${fresh.join(', ')}`, text: `Case #${c.number} "${c.subject}" is past its ${fresh.join(', ')} due time; its priority is now ${after.priority}.\n\n${deps.public_url}/agent` }, clock);
          n++;
        });
      }
      return n;
    },
  };
}
