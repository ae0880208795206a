// Webhook endpoints: add one (its signing secret shown once), see its delivery log, redeliver.
import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { CopyButton } from '../../components/CopyButton.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';
import css from './Merchant.module.css';

/** A message's badge: delivered (ok), still being retried (warn), given up (bad). */
const TONES: Record<string, string> = { delivered: 'ok', pending: 'warn', dead: 'bad' };

/** The delivery log of one endpoint; while it is open it refreshes itself, so retries and redeliveries show up. */
function Deliveries({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: ['webhook-messages', id], queryFn: () => api.get('/api/v1/webhook-endpoints/{id}/messages', { path: { id }, query: { limit: 20 } }), refetchInterval: 3000 });
  const redeliver = async (message: string) => {
    await api.post('/api/v1/webhook-messages/{id}/redeliver', { path: { id: message } });
    await q.refetch();
  };
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  if (!q.data.data.length) return <p className={ui.muted}>{t('merchant.no_deliveries')}</p>;
  return (
    <ul className={css.list} aria-label={t('merchant.deliveries')}>
      {q.data.data.map((m) => {
        const last = m.attempts[m.attempts.length - 1];
        const tone = ui[TONES[m.status] ?? ''] ?? '';
        return (
          <li key={m.id} data-message={m.id} data-status={m.status}>
            <code>{m.type}</code> <span className={`${ui.badge} ${tone}`} data-testid="message-status">{t(`webhook_status.${m.status}`, { defaultValue: m.status })}</span>
            {last && <span className={ui.muted} data-testid="last-attempt">{t('webhook_status.last_attempt', { count: m.attempts.length, when: formatDateTime(last.at, i18n.language), result: last.status_code ?? last.error ?? '' })}</span>}
            {m.next_attempt_at && <span className={ui.muted}>{t('webhook_status.next', { when: formatDateTime(m.next_attempt_at, i18n.language) })}</span>}
            <button type="button" className={ui.secondary} onClick={() => void redeliver(m.id)}>{t('merchant.redeliver')}</button>
          </li>
        );
      })}
    </ul>
  );
}

export function WebhooksCard() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({ queryKey: ['webhook-endpoints'], queryFn: () => api.get('/api/v1/webhook-endpoints') });
  const add = useSubmit(async (data) => {
    const e = await api.post('/api/v1/webhook-endpoints', { body: { url: String(data.get('url')).trim(), events: ['*'] } });
    setSecret(e.secret);
    await qc.invalidateQueries({ queryKey: ['webhook-endpoints'] });
  }, { invalid_url: 'url', url_not_allowed: 'url' });
  return (
    <Card title={t('merchant.webhooks')}>
      {secret && <div className={css.secret} role="status"><p><strong>{t('merchant.secret_once')}</strong></p><code data-testid="webhook-secret">{secret}</code> <CopyButton text={secret} /></div>}
      <form onSubmit={add.onSubmit}>
        <Field label={t('merchant.url')} name="url" type="url" required error={add.errors.url} />
        <FormError error={add.errors._form} />
        <Submit busy={add.busy}>{t('merchant.add_endpoint')}</Submit>
      </form>
      {list.isPending ? <Loading /> : list.error ? <ErrorState error={list.error} /> : list.data.data.length === 0 ? <Empty>{t('merchant.no_endpoints')}</Empty> : (
        <ul className={css.list}>
          {list.data.data.map((e) => (
            <li key={e.id}>
              <code>{e.url}</code> <span className={ui.muted}>{e.events.join(', ')}</span>{' '}
              <button type="button" className={ui.secondary} aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>{t('merchant.deliveries')}</button>
              {open === e.id && <Deliveries id={e.id} />}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
