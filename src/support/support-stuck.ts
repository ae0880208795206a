// Stuck payments open their own cases (API.md "Stuck payments open cases by themselves"), and
// cases about a payment follow it: two outbox consumers on the one reader (jobs/outbox.ts).
// - `payment.stuck` -> a system case (priority high, the evidence attached, one per payment: its
//   reference `payment.stuck:<payment id>` is kept), joined into the user's live case about the
//   same payment if there is one, and the user is told by mail in their language, all in the
//   event's transaction;
// - any later event of that payment -> the payment is read as it is now; a stuck case whose
//   payment left the stuck state resolves itself with a system message, and a case that waited
//   in pending_chain says the payment moved (resolved when it completed, open otherwise).
import type { Transaction } from 'kysely';
import type { Db, DbExecutor } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { consumeOutbox, type OutboxRow } from '../jobs/jobs.ts';
import { enqueueMail } from '../notify/notify.ts';
import type { Clock } from '../shared/clock.ts';
import type { Locale } from '../shared/i18n.ts';
import { getPayment, type Payment } from '../payments/payments.ts';
import type { CaseEngine, Prepared } from './support-cases.ts';
import * as store from './support-store.ts';
import { movedOnMessage, stuckMessages } from './support-messages.ts';
import type { CaseStatus, Channel } from './support-rules.ts';

export const STUCK_CONSUMER = 'support.stuck_cases';
export const MOVES_CONSUMER = 'support.payment_moves';
export const STUCK_REF_KIND = 'payment.stuck';
export const EVENTS_PER_TICK_MAX = 100;
/** Every payment status's event type (payments emit `payment.<status>`; API.md lists the statuses). */
const MOVE_TYPES = ['pending', 'confirming', 'held', 'credited', 'dropped', 'reversed', 'refunded', 'requested', 'review', 'broadcast', 'completed', 'failed', 'cancelled', 'unknown'].map((s) => `payment.${s}`);

interface StuckPayload {
  payment_id: string;
  user_id: string;
  kind: string;
  status: string;
  since: string;
  expected_ms: number;
  hold: { reason: string } | null;
}

export interface StuckDeps {
  db: Db;
  clock: Clock;
  engine: CaseEngine;
  /** Evidence of a case about this payment (support-wiring.ts evidenceSources). */
  prepare: (input: { user_id: string; payment_id: string }) => Promise<Prepared>;
  /** The user's address and language, for the mail. */
  userInfo: (user_id: string) => Promise<{ email: string; locale: Locale } | null>;
  public_url: string;
}

/** Statuses a payment does not leave by itself: done, one way or another. */
const FINAL = new Set(['credited', 'completed', 'failed', 'cancelled', 'dropped', 'reversed', 'refunded']);

function waitsOnChain(p: Payment): boolean {
  return p.status === 'pending' || p.status === 'confirming' || p.status === 'broadcast' || (p.status === 'held' && p.hold?.reason === 'maintenance');
}

export function createStuckCases(deps: StuckDeps) {
  const { db, clock, engine } = deps;

  async function openStuckCase(trx: Transaction<Database>, p: StuckPayload, prepared: { evidence: Prepared['evidence']; user: { email: string; locale: Locale } | null }): Promise<void> {
    if (await store.caseIdByRef(trx, STUCK_REF_KIND, p.payment_id)) return;
    const locale = prepared.user?.locale ?? 'en';
    const text = stuckMessages(locale, p);
    const r = await engine.openOrJoinIn(trx, {
      channel: 'system', user_id: p.user_id, contact: prepared.user ? { email: prepared.user.email } : {}, subject: text.subject, body: text.body,
      payment_id: p.payment_id, priority: 'high', author: { type: 'system' }, external_ref: { kind: STUCK_REF_KIND, ref: p.payment_id },
    }, { evidence: [{ kind: 'stuck', data: p }, ...prepared.evidence], chain_wait: null });
    if (!r.created && r.case.priority !== 'high' && r.case.priority !== 'urgent') await engine.saveCase(trx, r.case, { priority: 'high' }, null);
    if (prepared.user) await enqueueMail(trx, { to: prepared.user.email, subject: `[#${r.case.number}] ${text.subject}`, text: `${text.body}\n\n${deps.public_url}/help/cases/${r.case.id}` }, clock);
  }

  /** What a payment's move does to one case about it (inside the event's transaction). */
  async function follow(trx: DbExecutor, c: store.CaseRow, payment: Payment, locale: Locale): Promise<void> {
    if (await store.caseIdByRef(trx, STUCK_REF_KIND, payment.id) === c.id && c.channel === 'system') {
      const stuck = (await store.evidenceOf(trx, c.id, 50)).find((e) => e.kind === 'stuck');
      const was = stuck ? (JSON.parse(stuck.data) as StuckPayload).status : null;
      if (was === payment.status || c.status === 'resolved') return;
      const r = await engine.appendMessage(trx, c, { author: { type: 'system' }, channel: c.channel as Channel, body: movedOnMessage(locale, payment.status) });
      const after = await engine.saveCase(trx, r.case, { status: 'resolved', resolved_at_ms: clock.now_ms() }, null);
      await engine.emitUpdated(trx, after, { status: 'resolved' });
      return;
    }
    if (c.status !== 'pending_chain' || waitsOnChain(payment)) return;
    const next: CaseStatus = FINAL.has(payment.status) && (payment.status === 'credited' || payment.status === 'completed') ? 'resolved' : 'open';
    const r = await engine.appendMessage(trx, c, { author: { type: 'system' }, channel: c.channel as Channel, body: movedOnMessage(locale, payment.status) });
    const after = await engine.saveCase(trx, r.case, next === 'resolved' ? { status: next, resolved_at_ms: clock.now_ms() } : { status: next }, null);
    await engine.emitUpdated(trx, after, { status: next });
  }

  return {
    /** One pass over new `payment.stuck` events (bounded). */
    async stuckTick(): Promise<number> {
      const prepare = async (event: OutboxRow) => {
        const p = JSON.parse(event.payload) as StuckPayload;
        const [prepared, user] = await Promise.all([deps.prepare({ user_id: p.user_id, payment_id: p.payment_id }).catch(() => ({ evidence: [], chain_wait: null })), deps.userInfo(p.user_id)]);
        return { evidence: prepared.evidence, user };
      };
      return consumeOutbox(db, STUCK_CONSUMER, EVENTS_PER_TICK_MAX, clock.now_ms(), async (trx, event, prepared) => {
        if (event.type !== 'payment.stuck') return;
        await openStuckCase(trx, JSON.parse(event.payload) as StuckPayload, prepared ?? { evidence: [], user: null });
      }, prepare, { types: ['payment.stuck'] });
    },

    /** One pass over new payment events: cases about a payment that moved say so (bounded). */
    async movesTick(): Promise<number> {
      // The user's language is read before the event's transaction (on SQLite a read through the
      // pool inside it would wait for ever), and only for payments some live case is about.
      const prepare = async (event: OutboxRow): Promise<Locale> => {
        if (!(await store.liveCasesAboutPayment(db.kysely, event.aggregate_id, 1)).length) return 'en';
        const user_id = (JSON.parse(event.payload) as { user_id?: string }).user_id;
        return (user_id ? (await deps.userInfo(user_id))?.locale : null) ?? 'en';
      };
      return consumeOutbox(db, MOVES_CONSUMER, EVENTS_PER_TICK_MAX, clock.now_ms(), async (trx, event, locale) => {
        if (event.aggregate_type !== 'payment') return;
        const cases = await store.liveCasesAboutPayment(trx, event.aggregate_id, 20);
        if (cases.length === 0) return;
        const found = await getPayment(trx, event.aggregate_id);
        if (!found) return;
        for (const c of cases) await follow(trx, c, found.payment, locale ?? 'en');
      }, prepare, { types: MOVE_TYPES });
    },
  };
}
