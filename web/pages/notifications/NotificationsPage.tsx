// /notifications: my notifications, newest first, in my language (unread ones marked; reading one
// marks it), and which kinds reach me in-app and by mail (security notices are locked on).
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, type ApiAnswer } from '../../api/client.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { FormError } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading, errorText } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';

type Note = ApiAnswer<'/api/v1/notifications', 'get'>['data'][number];

function NoteItem({ n }: { n: Note }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const read = async () => {
    if (n.read_at) return;
    await api.post('/api/v1/notifications/{id}/read', { path: { id: n.id } });
    await qc.invalidateQueries({ queryKey: ['notifications'] });
  };
  const internal = n.link?.startsWith('/') && !n.link.startsWith('/api/');
  return (
    <li data-testid="notification" data-unread={n.read_at ? undefined : 'true'}>
      <p><strong>{n.read_at ? '' : `● `}{n.title}</strong> <small>{formatDateTime(n.created_at, i18n.language)}</small></p>
      <p style={{ whiteSpace: 'pre-line' }}>{n.body}</p>
      <p>
        {n.link && (internal ? <Link to={n.link} onClick={() => void read()}>{t('notify.open')}</Link> : <a href={n.link} onClick={() => void read()}>{t('notify.open')}</a>)}{' '}
        {!n.read_at && <button type="button" className={ui.secondary} onClick={() => void read()}>{t('notify.mark_read')}</button>}
      </p>
    </li>
  );
}

function NotificationList() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [unread, setUnread] = useState(false);
  const q = useInfiniteQuery({
    queryKey: ['notifications', 'list', unread],
    queryFn: ({ pageParam }) => api.get('/api/v1/notifications', { query: { limit: 20, unread, ...(pageParam ? { cursor: pageParam } : {}) } }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const all = q.data?.pages.flatMap((p) => p.data) ?? [];
  const readAll = async () => { await api.post('/api/v1/notifications/read-all'); await qc.invalidateQueries({ queryKey: ['notifications'] }); };
  return (
    <Card title={t('notify.list')} actions={<>
      <label><input type="checkbox" checked={unread} onChange={(e) => setUnread(e.target.checked)} /> {t('notify.unread_only')}</label>{' '}
      <button type="button" className={ui.secondary} onClick={() => void readAll()}>{t('notify.mark_all_read')}</button>
    </>}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : all.length === 0 ? <Empty>{t('notify.none')}</Empty> : (
        <ul data-testid="notifications">{all.map((n) => <NoteItem key={n.id} n={n} />)}</ul>
      )}
      {q.hasNextPage && <button type="button" className={ui.secondary} onClick={() => void q.fetchNextPage()}>{t('notify.more')}</button>}
    </Card>
  );
}

function Preferences() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['notification-preferences'], queryFn: () => api.get('/api/v1/me/notification-preferences') });
  const [error, setError] = useState<string | undefined>();
  const set = async (kind: string, channel: 'in_app' | 'email', on: boolean) => {
    const cur = q.data!.kinds[kind]!;
    setError(undefined);
    try {
      await api.put('/api/v1/me/notification-preferences', { body: { kinds: { [kind]: { in_app: cur.in_app, email: cur.email, [channel]: on } } } });
    } catch (e) {
      setError(errorText(e, t));
    }
    await qc.invalidateQueries({ queryKey: ['notification-preferences'] });
  };
  return (
    <Card title={t('notify.preferences')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : (
        <table>
          <thead><tr><th>{t('notify.kind')}</th><th>{t('notify.in_app')}</th><th>{t('notify.email')}</th></tr></thead>
          <tbody>{Object.entries(q.data.kinds).map(([kind, ch]) => (
            <tr key={kind}>
              <td>{t(`notify.kinds.${kind.replace('.', '_')}`, { defaultValue: kind })}{ch.locked && <small> · {t('notify.locked')}</small>}</td>
              <td><input type="checkbox" aria-label={`${kind} ${t('notify.in_app')}`} checked={ch.in_app} disabled={ch.locked} onChange={(e) => void set(kind, 'in_app', e.target.checked)} /></td>
              <td><input type="checkbox" aria-label={`${kind} ${t('notify.email')}`} checked={ch.email} disabled={ch.locked} onChange={(e) => void set(kind, 'email', e.target.checked)} /></td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <FormError error={error} />
    </Card>
  );
}

export function NotificationsPage() {
  const { t } = useTranslation();
  return (
    <>
      <PageTitle>{t('notify.title')}</PageTitle>
      <NotificationList />
      <Preferences />
    </>
  );
}
