// Public status: overall state, each chain's deposits / withdrawals state, head and lag,
// confirmation times and backlog, maintenance windows, announcements, incidents and the charts.
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { asLang } from '../../i18n/i18n.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';
import { StatusCharts } from './StatusCharts.tsx';

export function StatusPage() {
  const { t, i18n } = useTranslation();
  const lang = asLang(i18n.language);
  const q = useQuery({ queryKey: ['status'], queryFn: () => api.get('/api/v1/status'), refetchInterval: 15_000 });
  if (q.isPending) return <><PageTitle>{t('status_page.title')}</PageTitle><Loading /></>;
  if (q.error) return <><PageTitle>{t('status_page.title')}</PageTitle><ErrorState error={q.error} /></>;
  const s = q.data;
  const tone = s.status === 'operational' ? ui.ok : s.status === 'maintenance' ? ui.warn : ui.bad;
  return (
    <>
      <PageTitle>{t('status_page.title')}</PageTitle>
      <Card title={t('status_page.overall')}>
        <p><span className={`${ui.badge} ${tone}`} data-testid="overall-status">{t(`status_page.${s.status}`)}</span></p>
      </Card>
      <Card title={t('status_page.chains')}>
        {s.chains.length === 0 ? <Empty>{t('status_page.no_chains')}</Empty> : (
          <div className={ui.tableWrap}>
            <table className={ui.nowrap}>
              <thead><tr><th>{t('status_page.chain')}</th><th>{t('status_page.head')}</th><th>{t('status_page.lag')}</th><th>{t('status_page.block_time')}</th><th>{t('status_page.deposits')}</th><th>{t('status_page.withdrawals')}</th><th>{t('status_page.confirm_time')}</th><th>{t('status_page.backlog')}</th></tr></thead>
              <tbody>
                {s.chains.map((c) => (
                  <tr key={c.chain_id}>
                    <td>{c.name} <span className={ui.muted}>#{c.chain_id}</span></td>
                    <td>{c.head ?? '—'}</td>
                    <td>{c.lag_blocks ?? '—'}</td>
                    <td>{c.block_time_s === null ? '—' : t('status_page.seconds', { n: c.block_time_s })}</td>
                    <td data-testid={`deposits-${c.chain_id}`}>{t(`status_page.state_${c.deposits}`)}</td>
                    <td data-testid={`withdrawals-${c.chain_id}`}>{t(`status_page.state_${c.withdrawals}`)}</td>
                    <td>{c.confirmation_time_s.p50 === null ? '—' : t('status_page.p50_p95', { p50: Math.round(c.confirmation_time_s.p50), p95: Math.round(c.confirmation_time_s.p95 ?? 0) })}</td>
                    <td>{t('status_page.backlog_counts', { deposits: c.backlog.deposits_confirming, withdrawals: c.backlog.withdrawals_queued })}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={t('status_page.maintenance_windows')}>
        {s.maintenance.length === 0 ? <Empty>{t('status_page.no_maintenance')}</Empty> : (
          <ul>{s.maintenance.map((m) => <li key={m.id}>{lang === 'zh-CN' && m.message_zh ? m.message_zh : m.message} — {formatDateTime(m.starts_at, lang)} → {formatDateTime(m.ends_at, lang)}</li>)}</ul>
        )}
      </Card>
      <Card title={t('status_page.announcements')}>
        {s.announcements.length === 0 ? <Empty>{t('status_page.no_announcements')}</Empty> : (
          <ul>{s.announcements.map((a) => <li key={a.id}><strong>{a.titles[lang]}</strong> {a.messages[lang]}</li>)}</ul>
        )}
      </Card>
      <Card title={t('status_page.incidents')}>
        {s.incidents.length === 0 ? <Empty>{t('status_page.no_incidents')}</Empty> : (
          <ul>{s.incidents.map((i) => (
            <li key={i.id}>{t(`status_page.incident_${i.status}`)} · {i.kind}{i.chain_id === null ? '' : ` #${i.chain_id}`} — {formatDateTime(i.started_at, lang)}
              <ul>{i.updates.map((u) => <li key={u.at + u.status}>{formatDateTime(u.at, lang)}: {t(`status_page.incident_${u.status}`)}</li>)}</ul>
            </li>
          ))}</ul>
        )}
      </Card>
      <StatusCharts />
    </>
  );
}
