// Staff: maintenance windows (schedule one, end one early).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';

/** The value of a datetime-local input (local time) as an ISO instant. */
function localToIso(v: string): string {
  return new Date(v).toISOString();
}

export function MaintenanceSection() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-maintenance'], queryFn: () => api.get('/api/v1/admin/maintenance-windows', { query: { limit: 20 } }) });
  const refresh = async () => { await qc.invalidateQueries({ queryKey: ['admin-maintenance'] }); await qc.invalidateQueries({ queryKey: ['announcements'] }); };
  const create = useSubmit(async (d) => {
    const zh = String(d.get('message_zh') ?? '').trim();
    await api.post('/api/v1/admin/maintenance-windows', { body: { scope: String(d.get('scope')).trim(), starts_at: localToIso(String(d.get('starts_at'))), ends_at: localToIso(String(d.get('ends_at'))), message: String(d.get('message')), ...(zh ? { message_zh: zh } : {}) } });
    await refresh();
  });
  const end = async (id: string) => { await api.post('/api/v1/admin/maintenance-windows/{id}/end', { path: { id } }); await refresh(); };
  return (
    <Card title={t('admin.maintenance')}>
      <form onSubmit={create.onSubmit}>
        <Field label={t('admin.scope')} name="scope" defaultValue="global" required hint={t('admin.scope_hint')} />
        <Field label={t('admin.starts_at')} name="starts_at" type="datetime-local" required />
        <Field label={t('admin.ends_at')} name="ends_at" type="datetime-local" required />
        <Field label={t('admin.message_en')} name="message" required />
        <Field label={t('admin.message_zh')} name="message_zh" lang="zh-CN" />
        <FormError error={create.errors._form} />
        <Submit busy={create.busy}>{t('admin.schedule')}</Submit>
      </form>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('admin.no_windows')}</Empty> : (
        <ul>{q.data.data.map((w) => (
          <li key={w.id}>{w.scope} · {formatDateTime(w.starts_at, i18n.language)} → {formatDateTime(w.ends_at, i18n.language)} · {w.message}{' '}
            {w.active && <button type="button" className={ui.secondary} onClick={() => void end(w.id)}>{t('admin.end_now')}</button>}</li>
        ))}</ul>
      )}
    </Card>
  );
}
