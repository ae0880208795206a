// Every payment of the account, newest first, filtered by kind and status; paged by cursor.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { Select } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime, formatMoney } from '../../format.ts';
import css from './Payments.module.css';

export const KINDS = ['deposit', 'withdrawal', 'transfer', 'invoice', 'trade'] as const;
export const STATUSES = ['pending', 'confirming', 'held', 'credited', 'requested', 'review', 'broadcast', 'completed', 'failed', 'cancelled', 'unknown', 'dropped', 'reversed', 'refunded'] as const;

export function PaymentsPage() {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const kind = params.get('kind') ?? '';
  const status = params.get('status') ?? '';
  const q = useInfiniteQuery({
    queryKey: ['payments', kind, status],
    queryFn: ({ pageParam }) => api.get('/api/v1/payments', { query: { limit: 20, ...(kind ? { kind } : {}), ...(status ? { status } : {}), ...(pageParam ? { cursor: pageParam } : {}) } as never }),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <PageTitle>{t('payments.title')}</PageTitle>
      <Card title={t('payments.filters')}>
        <div className={css.filters}>
          <Select label={t('payments.kind')} name="kind" value={kind} onChange={(e) => setFilter('kind', e.target.value)} options={[{ value: '', label: t('payments.all') }, ...KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) }))]} />
          <Select label={t('payments.status')} name="status" value={status} onChange={(e) => setFilter('status', e.target.value)} options={[{ value: '', label: t('payments.all') }, ...STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))]} />
        </div>
      </Card>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : rows.length === 0 ? (
        <Empty>{t('payments.empty')} <Link to="/wallet">{t('payments.empty_action')}</Link></Empty>
      ) : (
        <ul className={css.list} aria-label={t('payments.title')}>
          {rows.map((p) => (
            <li key={p.id}>
              <Link to={`/payments/${p.id}`} className={css.item}>
                <span className={css.what}>{t(`kind.${p.kind}`)} · {t(`direction.${p.direction}`)}</span>
                <span className={css.amount}>{p.direction === 'out' ? '−' : '+'}{formatMoney(p.amount, p.asset, i18n.language)}</span>
                <StatusBadge status={p.status} />
                <span className={ui.muted}>{formatDateTime(p.created_at, i18n.language)}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {q.hasNextPage && <button type="button" className={ui.secondary} onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>{t('payments.more')}</button>}
    </>
  );
}
