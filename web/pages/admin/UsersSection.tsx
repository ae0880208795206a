// Staff: find a user (email prefix, user id or deposit address: GET /admin/users?q=), then
// freeze, unfreeze, restrict or set the KYC level. The API checks the role of every call; this
// page only offers what exists. The search and the chosen user live in the URL (?q=&user=), so
// a link to a user's staff view can be shared.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useSearchParams } from 'react-router';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { formatDateTime } from '../../format.ts';
import css from './Admin.module.css';

const FREEZE_REASONS = ['abnormal_login', 'abnormal_activity', 'unverified_identity', 'user_request', 'compliance'] as const;

function UserActions({ id }: { id: string }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['admin-user', id], queryFn: () => api.get('/api/v1/admin/users/{id}', { path: { id } }) });
  // The search results and the unfreeze queue show this user too: all three follow an action.
  const refresh = () => Promise.all([['admin-user', id], ['admin-users'], ['admin-unfreeze']].map((queryKey) => qc.invalidateQueries({ queryKey })));
  const freeze = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/freeze', { path: { id }, body: { reason: String(d.get('reason')) as (typeof FREEZE_REASONS)[number] } }); await refresh(); });
  const unfreeze = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/unfreeze', { path: { id }, body: { reason: String(d.get('reason')) } }); await refresh(); });
  const restrict = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/restrict', { path: { id }, body: { reason: String(d.get('reason')) } }); await refresh(); });
  const kyc = useSubmit(async (d) => { await api.post('/api/v1/admin/users/{id}/kyc-level', { path: { id }, body: { level: Number(d.get('level')) } }); await refresh(); });
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  const u = q.data.user;
  return (
    <>
      <h3>{u.email}</h3>
      <dl className={ui.dl}>
        <dt>{t('admin_users.user_id')}</dt><dd><code>{u.id}</code></dd>
        <dt>{t('admin.status')}</dt><dd><span className={ui.badge} data-testid="admin-user-status">{t(`account.${u.status}`)}</span></dd>
        <dt>{t('admin.kyc')}</dt><dd>{u.kyc_level}</dd>
        <dt>{t('admin.sessions')}</dt><dd>{q.data.live_sessions}</dd>
      </dl>
      {u.freezes.map((f) => <p key={f.since} className={ui.muted}>{f.reason}: {f.message}</p>)}
      <div className={ui.grid}>
        {u.status === 'frozen' ? (
          <form onSubmit={unfreeze.onSubmit} aria-label={t('admin.unfreeze')}>
            <Field label={t('admin.reason')} name="reason" required minLength={3} />
            <FormError error={unfreeze.errors._form} />
            <Submit busy={unfreeze.busy}>{t('admin.unfreeze')}</Submit>
          </form>
        ) : (
          <form onSubmit={freeze.onSubmit} aria-label={t('admin.freeze')}>
            <Select label={t('admin.reason')} name="reason" options={FREEZE_REASONS.map((r) => ({ value: r, label: t(`freeze_reason.${r}`) }))} />
            <FormError error={freeze.errors._form} />
            <Submit busy={freeze.busy}>{t('admin.freeze')}</Submit>
          </form>
        )}
        <form onSubmit={restrict.onSubmit} aria-label={t('admin.restrict')}>
          <Field label={t('admin.reason')} name="reason" required minLength={3} />
          <FormError error={restrict.errors._form} />
          <Submit busy={restrict.busy}>{t('admin.restrict')}</Submit>
        </form>
        <form onSubmit={kyc.onSubmit} aria-label={t('admin.kyc')}>
          <Field label={t('admin.kyc')} name="level" type="number" min={0} max={3} defaultValue={u.kyc_level} required />
          <FormError error={kyc.errors._form} />
          <Submit busy={kyc.busy}>{t('admin.set_kyc')}</Submit>
        </form>
      </div>
    </>
  );
}

/** The users matching `q`, newest first, with "more"; one match alone is opened at once. */
function UserResults({ q, selected, onSelect }: { q: string; selected: string | null; onSelect: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  const r = useInfiniteQuery({
    queryKey: ['admin-users', q],
    queryFn: ({ pageParam }) => api.get('/api/v1/admin/users', { query: { q, limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = r.data?.pages.flatMap((p) => p.data) ?? [];
  const only = rows.length === 1 && !r.hasNextPage ? rows[0]!.id : null;
  useEffect(() => {
    if (only && selected === null) onSelect(only);
  }, [only, selected, onSelect]);
  if (r.isPending) return <Loading />;
  if (r.error) return <ErrorState error={r.error} />;
  if (rows.length === 0) return <Empty>{t('admin_users.none', { q })}</Empty>;
  return (
    <>
      <ul className={css.results} aria-label={t('admin_users.results')}>
        {rows.map((u) => (
          <li key={u.id} data-user={u.id}>
            <button type="button" className={css.result} onClick={() => onSelect(u.id)} aria-pressed={u.id === selected}>
              <span className={css.email}>{u.email}</span>
              <span className={ui.badge}>{t(`account.${u.status}`)}</span>
              <span className={css.meta}><code>{u.id}</code> · {t('admin_users.roles')}: {u.roles.length ? u.roles.join(', ') : t('admin_users.no_roles')} · {t('admin_users.created')} {formatDateTime(u.created_at, i18n.language)}</span>
            </button>
          </li>
        ))}
      </ul>
      {r.hasNextPage && <button type="button" className={ui.secondary} onClick={() => void r.fetchNextPage()} disabled={r.isFetchingNextPage}>{t('payments.more')}</button>}
    </>
  );
}

export function UsersSection() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const q = params.get('q');
  const selected = params.get('user');
  const update = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };
  const find = useSubmit(async (d) => update({ q: String(d.get('q')).trim() || null, user: null }));
  return (
    <Card title={t('admin.users')}>
      <form onSubmit={find.onSubmit} className={ui.row} role="search" aria-label={t('admin_users.search')}>
        <Field label={t('admin_users.query')} hint={t('admin_users.query_hint')} name="q" type="search" required maxLength={254} autoComplete="off" defaultValue={q ?? ''} key={q ?? ''} />
        <Submit busy={false}>{t('admin.find')}</Submit>
      </form>
      {q && <UserResults q={q} selected={selected} onSelect={(id) => update({ user: id })} />}
      {selected && <div data-testid="admin-user" className={css.chosen}><UserActions key={selected} id={selected} /></div>}
    </Card>
  );
}
