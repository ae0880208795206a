// The /stream subscription (API.md "Live updates"): a payment.updated event puts the payment
// into the query cache, so that its page and the lists change without a reload; a
// notification.created event refreshes the bell and the notifications list. EventSource
// resumes by itself with Last-Event-ID after a dropped connection.
import { useEffect } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { Payment } from '../api/session.ts';

export const STREAM_URL = '/api/v1/stream';

export function applyPaymentEvent(qc: QueryClient, payment: Payment): void {
  qc.setQueryData(['payment', payment.id], payment);
  void qc.invalidateQueries({ queryKey: ['payments'] });
  void qc.invalidateQueries({ queryKey: ['balances'] });
  // A merchant's invoice moves with its payments.
  if (payment.kind === 'invoice') void qc.invalidateQueries({ queryKey: ['invoices'] });
}

/** case.message carries the message (case_id), case.updated the case (id). */
export function applyCaseEvent(qc: QueryClient, body: { data: { id?: string; case_id?: string } }): void {
  const id = body.data.case_id ?? body.data.id;
  if (id) void qc.invalidateQueries({ queryKey: ['support-case', id] });
  void qc.invalidateQueries({ queryKey: ['support-cases'] });
}

export function useLiveUpdates(enabled: boolean): void {
  const qc = useQueryClient();
  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const source = new EventSource(STREAM_URL);
    source.addEventListener('payment.updated', (e) => {
      const body = JSON.parse((e as MessageEvent<string>).data) as { type: string; data: Payment };
      applyPaymentEvent(qc, body.data);
    });
    // A new notification: the bell's count and the list refresh (every ['notifications', …] query).
    source.addEventListener('notification.created', () => {
      void qc.invalidateQueries({ queryKey: ['notifications'] });
    });
    // A support case changed or got a message: its page and the list refetch (internal notes
    // never reach /stream; the customer's view comes from GET /support/cases/{id}).
    const onCase = (e: Event) => applyCaseEvent(qc, JSON.parse((e as MessageEvent<string>).data) as { type: string; data: { id?: string; case_id?: string } });
    source.addEventListener('case.message', onCase);
    source.addEventListener('case.updated', onCase);
    return () => source.close();
  }, [enabled, qc]);
}
