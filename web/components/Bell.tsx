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
      {/* An inline icon, not an emoji: machines without an emoji font (headless Chromium, many
          Linux desktops) drew the emoji as an empty box. */}
      <svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      {n > 0 && <span className={css.bellCount} data-testid="bell-count">{shown}</span>}
    </Link>
  );
}
