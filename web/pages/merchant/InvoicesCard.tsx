// Invoices: create one (asset, amount, order id), see each one's status and exception.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, api, newIdempotencyKey } from '../../api/client.ts';
import { useAssets } from '../../api/queries.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { Empty, ErrorState, Loading } from '../../components/States.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime, formatMoney } from '../../format.ts';

export function InvoicesCard() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const assets = useAssets();
  const list = useQuery({ queryKey: ['invoices'], queryFn: () => api.get('/api/v1/invoices', { query: { limit: 20 } }), refetchInterval: 5_000 });
  const create = useSubmit(async (data) => {
    const order_id = String(data.get('order_id') ?? '').trim();
    await api.post('/api/v1/invoices', { idempotencyKey: newIdempotencyKey(), body: { asset: String(data.get('asset')), amount: String(data.get('amount')).trim(), ...(order_id ? { order_id } : {}) } });
    await qc.invalidateQueries({ queryKey: ['invoices'] });
  }, { amount_not_positive: 'amount', unknown_asset: 'asset' });
  const notMerchant = list.error instanceof ApiError && list.error.code === 'merchant_required';
  return (
    <Card title={t('merchant.invoices')}>
      <form onSubmit={create.onSubmit}>
        <Select label={t('wallet.asset')} name="asset" options={(assets.data?.data ?? []).map((a) => ({ value: a.asset, label: a.asset }))} error={create.errors.asset} />
        <Field label={t('wallet.amount')} name="amount" inputMode="decimal" required pattern="[0-9]+(\.[0-9]+)?" error={create.errors.amount} />
        <Field label={t('merchant.order_id')} name="order_id" maxLength={100} />
        <FormError error={create.errors._form} />
        <Submit busy={create.busy}>{t('merchant.create_invoice')}</Submit>
      </form>
      {notMerchant ? <Empty>{t('merchant.need_key')}</Empty> : list.isPending ? <Loading /> : list.error ? <ErrorState error={list.error} /> : list.data.data.length === 0 ? <Empty>{t('merchant.no_invoices')}</Empty> : (
        <div className={ui.tableWrap}>
          <table aria-label={t('merchant.invoices')}>
            <thead><tr><th>{t('merchant.order')}</th><th>{t('wallet.amount')}</th><th>{t('payments.status')}</th><th>{t('merchant.expires')}</th></tr></thead>
            <tbody>
              {list.data.data.map((inv) => (
                <tr key={inv.id} data-invoice={inv.id}>
                  <td><a href={inv.checkout_url}>{inv.order_id ?? inv.id}</a></td>
                  <td>{formatMoney(inv.amount_paid, inv.asset, i18n.language)} / {formatMoney(inv.amount_due, inv.asset, i18n.language)}</td>
                  <td><StatusBadge status={inv.status} />{inv.exception && <> <span className={`${ui.badge} ${ui.warn}`}>{t(`exception.${inv.exception}`)}</span></>}</td>
                  <td>{formatDateTime(inv.expires_at, i18n.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
