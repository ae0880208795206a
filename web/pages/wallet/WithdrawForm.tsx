// Withdraw to an address: fill in, review (fee and total shown before confirming), confirm with
// the 2FA code when 2FA is on (or the step-up the API asks for). One idempotency key per review,
// so a retry after a step-up never withdraws twice.
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, api, newIdempotencyKey } from '../../api/client.ts';
import { useAssets } from '../../api/queries.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Field, FormError, Select, Submit, useSubmit } from '../../components/Form.tsx';
import { StepUp } from '../../components/StepUp.tsx';
import { formatAmount } from '../../format.ts';
import css from './Wallet.module.css';

interface Draft { asset: string; to_address: string; amount: string; fee: string; network: string; key: string }

function addDecimals(a: string, b: string): string {
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const toInt = (x: string) => BigInt((x.split('.')[0] ?? '0') + (x.split('.')[1] ?? '').padEnd(scale, '0'));
  const sum = (toInt(a) + toInt(b)).toString().padStart(scale + 1, '0');
  return scale ? `${sum.slice(0, -scale)}.${sum.slice(-scale)}`.replace(/\.?0+$/, '') : sum;
}

export function WithdrawForm({ totpEnabled }: { totpEnabled: boolean }) {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const assets = useAssets();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [stepUp, setStepUp] = useState<string[] | null>(null);
  const [done, setDone] = useState<{ id: string } | null>(null);
  const list = assets.data?.data ?? [];
  const review = useSubmit(async (data) => {
    const info = list.find((a) => a.asset === data.get('asset'));
    if (!info) return;
    setDone(null);
    setDraft({ asset: info.asset, to_address: String(data.get('to_address')).trim(), amount: String(data.get('amount')).trim(), fee: info.withdrawal_fee, network: info.network, key: newIdempotencyKey() });
  });
  const confirm = useSubmit(async (data) => {
    if (!draft) return;
    const totp = String(data.get('totp_code') ?? '').trim();
    try {
      const p = await api.post('/api/v1/withdrawals', { idempotencyKey: draft.key, body: { asset: draft.asset, to_address: draft.to_address, amount: draft.amount, ...(totp ? { totp_code: totp } : {}) } });
      setDone({ id: p.id });
      setDraft(null);
      await qc.invalidateQueries({ queryKey: ['balances'] });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'step_up_required') setStepUp((error.problem.factors as string[] | undefined) ?? ['password']);
      throw error;
    }
  }, { invalid_address: 'to_address', insufficient_funds: 'amount', totp_required: 'totp_code', invalid_totp: 'totp_code', step_up_failed: 'totp_code' });
  const fmt = (v: string) => `${formatAmount(v, i18n.language)} ${draft?.asset ?? ''}`;
  return (
    <Card title={t('wallet.withdraw')}>
      {!draft ? (
        <form onSubmit={review.onSubmit} aria-label={t('wallet.withdraw')}>
          <Select label={t('wallet.asset')} name="asset" options={list.map((a) => ({ value: a.asset, label: `${a.asset} · ${a.network}` }))} />
          <Field label={t('wallet.to_address')} name="to_address" required pattern="0x[0-9a-fA-F]{40}" autoComplete="off" spellCheck={false} />
          <Field label={t('wallet.amount')} name="amount" inputMode="decimal" required pattern="[0-9]+(\.[0-9]+)?" />
          <Submit busy={review.busy}>{t('wallet.review')}</Submit>
        </form>
      ) : (
        <form onSubmit={confirm.onSubmit} aria-label={t('wallet.confirm_withdrawal')}>
          <dl className={`${ui.dl} ${css.review}`}>
            <dt>{t('wallet.to_address')}</dt><dd className="mono">{draft.to_address}</dd>
            <dt>{t('wallet.network')}</dt><dd>{draft.network}</dd>
            <dt>{t('wallet.amount')}</dt><dd>{fmt(draft.amount)}</dd>
            <dt>{t('wallet.fee')}</dt><dd>{fmt(draft.fee)}</dd>
            <dt>{t('wallet.total')}</dt><dd><strong>{fmt(addDecimals(draft.amount, draft.fee))}</strong></dd>
          </dl>
          {confirm.errors.to_address && <p role="alert" className={ui.bad}>{confirm.errors.to_address}</p>}
          {confirm.errors.amount && <p role="alert" className={ui.bad}>{confirm.errors.amount}</p>}
          {totpEnabled && <Field label={t('auth.totp')} name="totp_code" inputMode="numeric" autoComplete="one-time-code" required error={confirm.errors.totp_code} />}
          <FormError error={confirm.errors._form} />
          <div className={ui.row}>
            <Submit busy={confirm.busy}>{t('wallet.confirm_withdrawal')}</Submit>
            <button type="button" className={ui.secondary} onClick={() => setDraft(null)}>{t('common.back')}</button>
          </div>
        </form>
      )}
      {stepUp && <StepUp factors={stepUp} onDone={() => setStepUp(null)} />}
      {done && <p className={css.done} role="status">{t('wallet.withdrawal_requested')} <Link to={`/payments/${done.id}`}>{t('wallet.see_payment')}</Link></p>}
    </Card>
  );
}
