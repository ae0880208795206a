// Announcements and maintenance windows, on every page (GET /announcements, public): the active
// ones, and planned maintenance before it starts. Each leaves by itself at its end (refetched).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { asLang } from '../i18n/i18n.ts';
import { formatDateTime } from '../format.ts';
import css from './Layout.module.css';

export function Banner() {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: ['announcements'], queryFn: () => api.get('/api/v1/announcements'), refetchInterval: 30_000, staleTime: 15_000 });
  const lang = asLang(i18n.language);
  const items = (q.data?.data ?? []).filter((a) => a.active || a.kind === 'maintenance');
  if (!items.length) return null;
  return (
    <section className={css.banner} aria-label={t('banner.label')} data-testid="banner">
      {items.map((a) => (
        <p key={a.id} role={a.active && a.severity !== 'info' ? 'alert' : undefined} className={a.severity === 'critical' ? css.bannerCritical : undefined} data-severity={a.severity}>
          <strong>{a.kind === 'maintenance' ? (a.active ? t('banner.maintenance_now') : t('banner.maintenance_soon')) : `${a.titles[lang]}:`}</strong>{' '}
          {a.messages[lang]}{' '}
          {a.kind === 'maintenance' && !a.active && <span className={css.bannerWhen}>{t('notify.banner_from', { when: formatDateTime(a.starts_at, lang) })} </span>}
          {a.ends_at && <span className={css.bannerWhen}>{t('banner.until', { when: formatDateTime(a.ends_at, lang) })}</span>}
        </p>
      ))}
    </section>
  );
}
