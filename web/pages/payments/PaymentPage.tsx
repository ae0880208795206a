// One payment: what is happening in plain words (the API's explanation and next action, in the
// account's language), confirmations with a progress bar, the ETA as a local time with a
// countdown, the timeline and the chain facts. /stream updates it in place (web/live/).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api } from '../../api/client.ts';
import type { Payment } from '../../api/session.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { ErrorState, Loading } from '../../components/States.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime, formatMoney } from '../../format.ts';
import { Countdown } from './Countdown.tsx';
import css from './Payments.module.css';

function Confirmations({ p }: { p: Payment }) {
  const { t } = useTranslation();
  if (!p.confirmations) return null;
  const { current, required } = p.confirmations;
  return (
    <div>
      <label htmlFor="confirmations">{t('payment.confirmations', { current: Math.min(current, required), required })}</label>
      <progress id="confirmations" className={css.progress} value={Math.min(current, required)} max={required} data-testid="confirmations" />
    </div>
  );
}

function ChainFacts({ p }: { p: Payment }) {
  const { t } = useTranslation();
  if (!p.chain) return null;
  return (
    <Card title={t('payment.chain')}>
      <dl className={ui.dl}>
        <dt>{t('payment.chain_id')}</dt><dd>{p.chain.chain_id}</dd>
        <dt>{t('payment.tx_hash')}</dt><dd className="mono">{p.chain.tx_hash ?? '—'}</dd>
        <dt>{t('payment.block')}</dt><dd>{p.chain.block_number ?? '—'}</dd>
        <dt>{t('payment.from')}</dt><dd className="mono">{p.chain.from ?? '—'}</dd>
        <dt>{t('payment.to')}</dt><dd className="mono">{p.chain.to ?? '—'}</dd>
        {p.chain.token && <><dt>{t('payment.token')}</dt><dd className="mono">{p.chain.token}</dd></>}
      </dl>
    </Card>
  );
}

export function PaymentView({ p }: { p: Payment }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <>
      <Card title={t(`kind.${p.kind}`) + ' · ' + t(`direction.${p.direction}`)}>
        <div className={css.head}>
          <span className={css.big}>{formatMoney(p.amount, p.asset, lang)}</span>
          <StatusBadge status={p.status} />
        </div>
        <p className={css.explain} data-testid="explanation">{p.explanation.message}</p>
        <p className={css.next} data-testid="next-action"><strong>{t('payment.next')}</strong> {p.explanation.next_action}</p>
        <Confirmations p={p} />
        {p.explanation.eta && (
          <p>{t('payment.eta', { when: formatDateTime(p.explanation.eta, lang) })} · <Countdown until={p.explanation.eta} /></p>
        )}
        <dl className={ui.dl}>
          <dt>{t('payment.fee')}</dt><dd>{formatMoney(p.fee, p.asset, lang)}</dd>
          {p.counterparty?.email && <><dt>{t('payment.counterparty')}</dt><dd>{p.counterparty.email}</dd></>}
          {p.memo && <><dt>{t('payment.memo')}</dt><dd>{p.memo}</dd></>}
          <dt>{t('payment.created')}</dt><dd>{formatDateTime(p.created_at, lang)}</dd>
          <dt>{t('payment.id')}</dt><dd className="mono">{p.id}</dd>
        </dl>
      </Card>
      <div className={ui.grid}>
        <Card title={t('payment.timeline')}>
          <ol className={css.timeline}>
            {p.timeline.map((e) => (
              <li key={`${e.at}-${e.status}`}>
                <StatusBadge status={e.status} /> <span className={ui.muted}>{formatDateTime(e.at, lang)}</span>
                <div>{e.message}</div>
              </li>
            ))}
          </ol>
        </Card>
        <ChainFacts p={p} />
      </div>
    </>
  );
}

export function PaymentPage() {
  const { t } = useTranslation();
  const { id = '' } = useParams();
  // Live updates put new versions in this cache entry; the slow refetch only moves the
  // confirmation count between events (a new block is not an event).
  const q = useQuery({
    queryKey: ['payment', id],
    queryFn: () => api.get('/api/v1/payments/{id}', { path: { id } }),
    refetchInterval: (query) => (['pending', 'confirming', 'broadcast'].includes(query.state.data?.status ?? '') ? 5_000 : false),
  });
  return (
    <>
      <PageTitle>{t('payment.title')}</PageTitle>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : <PaymentView p={q.data} />}
    </>
  );
}
