// Staff queues: unfreeze requests, withdrawal reviews, incidents.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime, formatMoney } from '../../format.ts';

export function UnfreezeRequests() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-unfreeze'], queryFn: () => api.get('/api/v1/admin/unfreeze-requests') });
  const approve = async (id: string) => { await api.post('/api/v1/admin/unfreeze-requests/{id}/approve', { path: { id }, body: {} }); await qc.invalidateQueries({ queryKey: ['admin-unfreeze'] }); };
  return (
    <Card title={t('admin.unfreeze_requests')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('admin.queue_empty')}</Empty> : (
        <ul>{q.data.data.map((r) => (
          <li key={r.id}><code>{r.user_id}</code> · {r.reasons.map((x) => t(`freeze_reason.${x}`, { defaultValue: x })).join(', ')} · {formatDateTime(r.created_at, i18n.language)} · {r.approvals}/{r.approvals_required}{' '}
            <button type="button" className={ui.secondary} onClick={() => void approve(r.id)}>{t('admin.approve')}</button></li>
        ))}</ul>
      )}
    </Card>
  );
}

export function WithdrawalReviews() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-reviews'], queryFn: () => api.get('/api/v1/admin/withdrawals/reviews') });
  const done = () => qc.invalidateQueries({ queryKey: ['admin-reviews'] });
  const approve = async (id: string) => { await api.post('/api/v1/admin/withdrawals/{id}/approve', { path: { id }, body: {} }); await done(); };
  const reject = async (id: string) => { await api.post('/api/v1/admin/withdrawals/{id}/reject', { path: { id }, body: { reason: 'rejected_by_staff' } }); await done(); };
  return (
    <Card title={t('admin.reviews')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('admin.queue_empty')}</Empty> : (
        <ul>{q.data.data.map((w) => (
          <li key={w.id}>{formatMoney(w.amount, w.asset, i18n.language)} → <code>{w.to_address}</code> · {formatDateTime(w.requested_at, i18n.language)} · {w.rules.join(', ')}{' '}
            <button type="button" className={ui.secondary} onClick={() => void approve(w.id)}>{t('admin.approve')}</button>{' '}
            <button type="button" className={ui.secondary} onClick={() => void reject(w.id)}>{t('admin.reject')}</button></li>
        ))}</ul>
      )}
    </Card>
  );
}

export function Incidents() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-incidents'], queryFn: () => api.get('/api/v1/admin/incidents') });
  const ack = async (id: string) => { await api.post('/api/v1/admin/incidents/{id}/acknowledge', { path: { id }, body: {} }); await qc.invalidateQueries({ queryKey: ['admin-incidents'] }); };
  return (
    <Card title={t('admin.incidents')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('admin.no_incidents')}</Empty> : (
        <ul>{q.data.data.map((i) => (
          <li key={i.id}><strong>{i.kind}</strong> {i.subject} · {formatDateTime(i.opened_at, i18n.language)}{' '}
            {i.acknowledged_at ? <span className={ui.badge}>{t('admin.acknowledged')}</span> : <button type="button" className={ui.secondary} onClick={() => void ack(i.id)}>{t('admin.acknowledge')}</button>}</li>
        ))}</ul>
      )}
    </Card>
  );
}
