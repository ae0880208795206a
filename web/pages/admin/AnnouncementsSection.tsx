// Staff: announcements (publish one in both languages, end one early). Admins only may act; the
// API refuses others.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';

const localToIso = (v: string) => new Date(v).toISOString();

export function AnnouncementsSection() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-announcements'], queryFn: () => api.get('/api/v1/admin/announcements', { query: { limit: 20 } }) });
  const refresh = async () => { await qc.invalidateQueries({ queryKey: ['admin-announcements'] }); await qc.invalidateQueries({ queryKey: ['announcements'] }); };
  const create = useSubmit(async (d) => {
    const s = (k: string) => String(d.get(k) ?? '');
    const ends = s('ends_at');
    await api.post('/api/v1/admin/announcements', {
      body: {
        title: { en: s('title_en'), 'zh-CN': s('title_zh') }, body: { en: s('body_en'), 'zh-CN': s('body_zh') },
        severity: s('severity') as 'info' | 'warning' | 'critical', starts_at: localToIso(s('starts_at')), ...(ends ? { ends_at: localToIso(ends) } : {}), scope: s('scope').trim() || 'global',
      },
    });
    await refresh();
  });
  const end = async (id: string) => { await api.post('/api/v1/admin/announcements/{id}/end', { path: { id } }); await refresh(); };
  return (
    <Card title={t('notify.admin_title')}>
      <form onSubmit={create.onSubmit}>
        <Field label={t('notify.admin_title_en')} name="title_en" required maxLength={200} />
        <Field label={t('notify.admin_title_zh')} name="title_zh" lang="zh-CN" required maxLength={200} />
        <Field label={t('notify.admin_body_en')} name="body_en" required maxLength={4000} />
        <Field label={t('notify.admin_body_zh')} name="body_zh" lang="zh-CN" required maxLength={4000} />
        <Select label={t('notify.admin_severity')} name="severity" options={[{ value: 'info', label: t('notify.severity_info') }, { value: 'warning', label: t('notify.severity_warning') }, { value: 'critical', label: t('notify.severity_critical') }]} />
        <Field label={t('admin.scope')} name="scope" defaultValue="global" hint={t('admin.scope_hint')} />
        <Field label={t('admin.starts_at')} name="starts_at" type="datetime-local" required />
        <Field label={t('notify.admin_ends_at')} name="ends_at" type="datetime-local" />
        <FormError error={create.errors._form} />
        <Submit busy={create.busy}>{t('notify.admin_publish')}</Submit>
      </form>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('notify.admin_none')}</Empty> : (
        <ul>{q.data.data.map((a) => (
          <li key={a.id}>[{a.severity}] {a.title.en} / {a.title['zh-CN']} · {a.scope} · {formatDateTime(a.starts_at, i18n.language)} → {a.ends_at ? formatDateTime(a.ends_at, i18n.language) : '…'}{' '}
            {(a.active || (!a.ended_early && (a.ends_at === null || a.ends_at > new Date().toISOString()))) && <button type="button" className={ui.secondary} onClick={() => void end(a.id)}>{t('admin.end_now')}</button>}</li>
        ))}</ul>
      )}
    </Card>
  );
}
