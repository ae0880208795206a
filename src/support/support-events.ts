// How `case` outbox events look outside: the webhook renderer (webhooks and the customer's event
// feed, which GET /stream reads) and the stream reader. Internal notes never leave: a
// `case.message` of an internal note renders to nothing, and a case without a user has no feed.
import type { OutboxRow } from '../jobs/jobs.ts';
import type { Principal } from '../shared/principal.ts';
import type { MessageDto } from './support-dto.ts';
import type { Support } from './support.ts';

interface CaseEventPayload {
  case_id: string;
  user_id: string | null;
  message?: MessageDto;
}

/** webhooks.registerRenderer('case', caseEventRenderer(support)) */
export function caseEventRenderer(support: Pick<Support, 'getCase'>) {
  return async (event: Pick<OutboxRow, 'type' | 'payload'>): Promise<{ user_id: string; data: unknown } | null> => {
    const p = JSON.parse(event.payload) as CaseEventPayload;
    if (!p.user_id) return null;
    if (event.type === 'case.message') return p.message && !p.message.internal ? { user_id: p.user_id, data: p.message } : null;
    const c = await support.getCase(p.case_id, 'customer');
    return c ? { user_id: p.user_id, data: c } : null;
  };
}

/** The SSE event name of a stored case event type: messages stay messages, the rest is an update. */
export function caseStreamEvent(type: string): string {
  return type === 'case.message' ? 'case.message' : 'case.updated';
}

/**
 * The LiveReader of `case` events for GET /stream: the message (never an internal note) or the
 * case as its customer sees it now, only to that customer.
 */
export function liveCaseReader(support: Pick<Support, 'caseForCustomer'>) {
  return {
    event: caseStreamEvent,
    async read(principal: Principal, body: { type: string; data: unknown }): Promise<unknown> {
      if (body.type === 'case.message') {
        const m = body.data as MessageDto | null;
        if (!m || m.internal) return null;
        return (await support.caseForCustomer(m.case_id, principal.user_id)) ? m : null;
      }
      const id = (body.data as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? support.caseForCustomer(id, principal.user_id) : null;
    },
  };
}
