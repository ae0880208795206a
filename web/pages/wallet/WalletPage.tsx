// The wallet: balances of every asset, the deposit address, sending to an email, withdrawing.
import { useTranslation } from 'react-i18next';
import { useMe } from '../../api/session.ts';
import { PageTitle, ui } from '../../components/Card.tsx';
import { AccountNotice } from '../security/AccountNotice.tsx';
import { Balances } from './Balances.tsx';
import { DepositPanel } from './DepositPanel.tsx';
import { SendForm } from './SendForm.tsx';
import { WithdrawForm } from './WithdrawForm.tsx';

export function WalletPage() {
  const { t } = useTranslation();
  const { me } = useMe();
  return (
    <>
      <PageTitle>{t('wallet.title')}</PageTitle>
      {me && <AccountNotice me={me} />}
      <Balances />
      <DepositPanel />
      <div className={ui.grid}>
        <SendForm />
        <WithdrawForm totpEnabled={!!me?.totp_enabled} />
      </div>
    </>
  );
}
