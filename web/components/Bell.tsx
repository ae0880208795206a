// The bell in the header: a link to /notifications with the unread count, kept current by the
// live stream (a notification.created event refreshes it: web/live/stream.ts).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import css from './Layout.module.css';

export const UNREAD_KEY = ['notifications', 'unread'];

export function Bell() {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: UNREAD_KEY, queryFn: () => api.get('/api/v1/notifications', { query: { limit: 1, unread: true } }), staleTime: 30_000, refetchInterval: 120_000 });
  const n = q.data?.unread_count ?? 0;
  const shown = n >= 100 ? '99+' : String(n);
  return (
    <Link to="/notifications" className={css.bell} aria-label={t('notify.bell_label', { count: n })} data-testid="bell">
      <span aria-hidden="true">🔔</span>
      {n > 0 && <span className={css.bellCount} data-testid="bell-count">{shown}</span>}
    </Link>
  );
}
