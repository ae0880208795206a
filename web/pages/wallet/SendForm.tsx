// Send to another Settle user by email (an internal transfer: instant, no chain fee).
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, newIdempotencyKey } from '../../api/client.ts';
import { useAssets } from '../../api/queries.ts';
import { Card } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import css from './Wallet.module.css';

export function SendForm() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const assets = useAssets();
  const [sent, setSent] = useState<{ id: string; status: string } | null>(null);
  const form = useSubmit(async (data) => {
    const memo = String(data.get('memo') ?? '').trim();
    const p = await api.post('/api/v1/transfers', {
      idempotencyKey: newIdempotencyKey(),
      body: { to_email: String(data.get('to_email')), asset: String(data.get('asset')), amount: String(data.get('amount')).trim(), ...(memo ? { memo } : {}) },
    });
    setSent({ id: p.id, status: p.status });
    await qc.invalidateQueries({ queryKey: ['balances'] });
  }, { recipient_not_found: 'to_email', insufficient_funds: 'amount', limit_exceeded: 'amount', invalid_amount: 'amount' });
  const options = (assets.data?.data ?? []).map((a) => ({ value: a.asset, label: a.asset }));
  return (
    <Card title={t('wallet.send')}>
      <form onSubmit={form.onSubmit} aria-label={t('wallet.send')}>
        <Field label={t('wallet.to_email')} name="to_email" type="email" required error={form.errors.to_email} />
        <Select label={t('wallet.asset')} name="asset" options={options} error={form.errors.asset} />
        <Field label={t('wallet.amount')} name="amount" inputMode="decimal" required pattern="[0-9]+(\.[0-9]+)?" error={form.errors.amount} />
        <Field label={t('wallet.memo')} name="memo" maxLength={140} error={form.errors.memo} />
        <FormError error={form.errors._form} />
        <Submit busy={form.busy}>{t('wallet.send_now')}</Submit>
      </form>
      {sent && <p className={css.done} role="status">{t('wallet.sent')} <Link to={`/payments/${sent.id}`}>{t('wallet.see_payment')}</Link></p>}
    </Card>
  );
}
