// "Where is my money": a tx hash or one of my payments, diagnosed in plain words, with what the
// chain itself says about it.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, type ApiAnswer } from '../../api/client.ts';
import { Card, PageTitle, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { formatDateTime, formatMoney } from '../../format.ts';
import { MyCases, OpenCaseForm } from './SupportCases.tsx';

type Diagnosis = ApiAnswer<'/api/v1/diagnose', 'post'>;

function Verdict({ d }: { d: Diagnosis }) {
  const { t, i18n } = useTranslation();
  return (
    <Card title={t('help.verdict')}>
      <p><span className={ui.badge} data-testid="verdict" data-verdict={d.verdict}>{t(`verdict.${d.verdict}`, { defaultValue: d.verdict })}</span></p>
      <p data-testid="diagnosis-message"><strong>{d.explanation.message}</strong></p>
      <p data-testid="diagnosis-next">{d.explanation.next_action}</p>
      {d.explanation.eta && <p>{t('payment.eta', { when: formatDateTime(d.explanation.eta, i18n.language) })}</p>}
      {d.payment && <p><Link to={`/payments/${d.payment.id}`}>{t('help.open_payment')}</Link></p>}
      {d.chain && (
        <>
          <h3>{t('help.chain_view')}</h3>
          <dl className={ui.dl}>
            <dt>{t('help.found')}</dt><dd data-testid="chain-found">{d.chain.found ? t('common.yes') : t('common.no')}</dd>
            {d.chain.confirmations !== null && <><dt>{t('help.confirmations')}</dt><dd>{d.chain.confirmations}</dd></>}
            {d.chain.to && <><dt>{t('payment.to')}</dt><dd className="mono" data-testid="chain-to">{d.chain.to}</dd></>}
            {d.chain.amount && <><dt>{t('wallet.amount')}</dt><dd>{formatMoney(d.chain.amount, d.chain.asset ?? '', i18n.language)}</dd></>}
          </dl>
        </>
      )}
    </Card>
  );
}

export function HelpPage() {
  const { t, i18n } = useTranslation();
  const [result, setResult] = useState<Diagnosis | null>(null);
  const [hash, setHash] = useState<string | null>(null);
  const recent = useQuery({ queryKey: ['payments', 'recent'], queryFn: () => api.get('/api/v1/payments', { query: { limit: 20 } as never }) });
  const byHash = useSubmit(async (data) => {
    const tx_hash = String(data.get('tx_hash')).trim();
    setResult(await api.post('/api/v1/diagnose', { body: { tx_hash } }));
    setHash(tx_hash);
  }, { invalid_tx_hash: 'tx_hash' });
  const byPayment = useSubmit(async (data) => setResult(await api.post('/api/v1/diagnose', { body: { payment_id: String(data.get('payment_id')) } })));
  const options = (recent.data?.data ?? []).map((p) => ({ value: p.id, label: `${t(`kind.${p.kind}`)} ${formatMoney(p.amount, p.asset, i18n.language)} · ${formatDateTime(p.created_at, i18n.language)}` }));
  return (
    <>
      <PageTitle>{t('help.title')}</PageTitle>
      <p className={ui.muted}>{t('help.intro')}</p>
      <div className={ui.grid}>
        <Card title={t('help.by_hash')}>
          <form onSubmit={byHash.onSubmit}>
            <Field label={t('payment.tx_hash')} name="tx_hash" required pattern="0x[0-9a-fA-F]{64}" spellCheck={false} autoComplete="off" error={byHash.errors.tx_hash} />
            <FormError error={byHash.errors._form} />
            <Submit busy={byHash.busy}>{t('help.diagnose')}</Submit>
          </form>
        </Card>
        <Card title={t('help.by_payment')}>
          {options.length === 0 ? <p className={ui.muted}>{t('help.no_payments')}</p> : (
            <form onSubmit={byPayment.onSubmit}>
              <Select label={t('help.payment')} name="payment_id" options={options} />
              <FormError error={byPayment.errors._form} />
              <Submit busy={byPayment.busy}>{t('help.diagnose')}</Submit>
            </form>
          )}
        </Card>
      </div>
      {result && <Verdict d={result} />}
      <div className={ui.grid}>
        <OpenCaseForm key={hash ?? ''} options={options} txHash={hash} />
        <MyCases />
      </div>
    </>
  );
}
