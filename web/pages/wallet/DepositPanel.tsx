// The deposit address of the chosen asset with its QR code, network, minimum and the
// confirmations a deposit needs (tiers by amount), so that nobody sends blind.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { QRCodeSVG } from 'qrcode.react';
import { api } from '../../api/client.ts';
import { useAssets, type AssetInfo } from '../../api/queries.ts';
import { Card, ui } from '../../components/Card.tsx';
import { Select } from '../../components/Form.tsx';
import { ErrorState, Loading } from '../../components/States.tsx';
import { formatAmount } from '../../format.ts';
import { CopyButton } from '../../components/CopyButton.tsx';
import css from './Wallet.module.css';

function Tiers({ info }: { info: AssetInfo }) {
  const { t, i18n } = useTranslation();
  let from = '0';
  return (
    <ul aria-label={t('wallet.tiers')}>
      {info.confirmations.map((tier) => {
        const text = tier.max_amount === null
          ? t('wallet.tier_open', { from: formatAmount(from, i18n.language), blocks: tier.blocks, asset: info.asset })
          : t('wallet.tier_upto', { max: formatAmount(tier.max_amount, i18n.language), blocks: tier.blocks, asset: info.asset });
        from = tier.max_amount ?? from;
        return <li key={`${tier.max_amount}`}>{text}</li>;
      })}
    </ul>
  );
}

function Address({ info }: { info: AssetInfo }) {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: ['deposit-address', info.asset], queryFn: () => api.post('/api/v1/deposit-addresses', { body: { asset: info.asset } }), staleTime: Infinity });
  if (q.isPending) return <Loading />;
  if (q.error) return <ErrorState error={q.error} />;
  return (
    <div className={css.deposit}>
      <div className={css.qr}><QRCodeSVG value={q.data.address} size={148} title={t('wallet.qr_of', { asset: info.asset })} /></div>
      <div>
        <p className={css.address} data-testid="deposit-address">{q.data.address}</p>
        <CopyButton text={q.data.address} />
        <dl className={ui.dl}>
          <dt>{t('wallet.network')}</dt><dd>{info.network} ({t('wallet.chain_id', { id: info.chain_id })})</dd>
          {info.contract_address && <><dt>{t('wallet.contract')}</dt><dd className="mono">{info.contract_address}</dd></>}
          <dt>{t('wallet.min_deposit')}</dt><dd>{info.min_deposit ? `${formatAmount(info.min_deposit, i18n.language)} ${info.asset}` : t('wallet.no_minimum')}</dd>
        </dl>
        <Tiers info={info} />
      </div>
    </div>
  );
}

export function DepositPanel() {
  const { t } = useTranslation();
  const assets = useAssets();
  const [asset, setAsset] = useState<string | null>(null);
  const list = assets.data?.data ?? [];
  const info = list.find((a) => a.asset === asset) ?? list[0];
  return (
    <Card title={t('wallet.deposit')}>
      {assets.isPending ? <Loading /> : assets.error ? <ErrorState error={assets.error} /> : !info ? <p>{t('wallet.no_assets')}</p> : (
        <>
          <div className={css.depositHead}>
            <Select label={t('wallet.asset')} name="deposit_asset" value={info.asset} onChange={(e) => setAsset(e.target.value)} options={list.map((a) => ({ value: a.asset, label: `${a.asset} · ${a.network}` }))} />
            <p className={ui.muted}>{t('wallet.deposit_hint', { asset: info.asset, network: info.network })}</p>
          </div>
          <Address info={info} />
        </>
      )}
    </Card>
  );
}
