// Where I am signed in (end any other session) and my security log.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';

export function SessionsCard() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['sessions'], queryFn: () => api.get('/api/v1/me/sessions') });
  const end = async (id: string) => {
    await api.delete('/api/v1/me/sessions/{id}', { path: { id } });
    await qc.invalidateQueries({ queryKey: ['sessions'] });
  };
  return (
    <Card title={t('security.sessions')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : (
        <ul aria-label={t('security.sessions')}>
          {q.data.data.map((s) => (
            <li key={s.id}>
              <div>{s.user_agent ?? t('security.unknown_device')} · {s.ip ?? '—'}</div>
              <div className={ui.muted}>{t('security.last_seen', { when: formatDateTime(s.last_seen_at, i18n.language) })}</div>
              {s.current ? <span className={ui.badge}>{t('security.this_session')}</span> : <button type="button" className={ui.secondary} onClick={() => void end(s.id)}>{t('security.end_session')}</button>}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function SecurityLogCard() {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: ['security-events'], queryFn: () => api.get('/api/v1/me/security-events') });
  return (
    <Card title={t('security.log')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : q.data.data.length === 0 ? <Empty>{t('security.log_empty')}</Empty> : (
        <div className={ui.tableWrap}>
          <table>
            <thead><tr><th>{t('security.when')}</th><th>{t('security.what')}</th><th>{t('security.ip')}</th></tr></thead>
            <tbody>
              {q.data.data.slice(0, 20).map((e) => (
                <tr key={e.id}><td>{formatDateTime(e.at, i18n.language)}</td><td>{t(`audit.${e.action}`, { defaultValue: e.action })}</td><td>{e.ip ?? '—'}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
