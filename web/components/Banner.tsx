// Announcements and active maintenance windows, on every page (GET /announcements, public).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.ts';
import { asLang } from '../i18n/i18n.ts';
import { formatDateTime } from '../format.ts';
import css from './Layout.module.css';

export function Banner() {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: ['announcements'], queryFn: () => api.get('/api/v1/announcements'), refetchInterval: 60_000, staleTime: 30_000 });
  const lang = asLang(i18n.language);
  const items = q.data?.data ?? [];
  if (!items.length) return null;
  return (
    <section className={css.banner} aria-label={t('banner.label')}>
      {items.map((a) => (
        <p key={a.id} role={a.active ? 'alert' : undefined}>
          <strong>{a.active ? t('banner.maintenance_now') : t('banner.maintenance_soon')}</strong>{' '}
          {a.messages[lang]}{' '}
          <span className={css.bannerWhen}>{t('banner.until', { when: formatDateTime(a.ends_at, lang) })}</span>
        </p>
      ))}
    </section>
  );
}
