import { useTranslation } from 'react-i18next';
import { useBalances } from '../../api/queries.ts';
import { Card, ui } from '../../components/Card.tsx';
import { ErrorState, Loading } from '../../components/States.tsx';
import { formatAmount } from '../../format.ts';
import css from './Wallet.module.css';

export function Balances() {
  const { t, i18n } = useTranslation();
  const q = useBalances();
  return (
    <Card title={t('wallet.balances')}>
      {q.isPending ? <Loading /> : q.error ? <ErrorState error={q.error} /> : (
        <div className={css.balances}>
          {q.data.data.map((b) => (
            <div key={b.asset} className={css.balance} data-asset={b.asset}>
              <div className={css.asset}>{b.asset}</div>
              <div className={css.available} aria-label={t('wallet.available_of', { asset: b.asset })}>{formatAmount(b.available, i18n.language)}</div>
              <dl className={ui.dl}>
                <dt>{t('wallet.pending_in')}</dt><dd>{formatAmount(b.pending_in, i18n.language)}</dd>
                <dt>{t('wallet.pending_out')}</dt><dd>{formatAmount(b.pending_out, i18n.language)}</dd>
                <dt>{t('wallet.held')}</dt><dd>{formatAmount(b.held, i18n.language)}</dd>
              </dl>
            </div>
          ))}
        </div>
      )}
    </Card>
  );
}
