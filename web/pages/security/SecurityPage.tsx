// Security: 2FA, sessions, the security log, freeze / unfreeze, password and email.
import { useTranslation } from 'react-i18next';
import { useMe } from '../../api/session.ts';
import { PageTitle, ui } from '../../components/Card.tsx';
import { Loading } from '../../components/States.tsx';
import { AccountNotice } from './AccountNotice.tsx';
import { CredentialsCard } from './CredentialsCard.tsx';
import { FreezeCard } from './FreezeCard.tsx';
import { SecurityLogCard, SessionsCard } from './SessionsCard.tsx';
import { TotpCard } from './TotpCard.tsx';

export function SecurityPage() {
  const { t } = useTranslation();
  const { me } = useMe();
  if (!me) return <Loading />;
  return (
    <>
      <PageTitle>{t('security.title')}</PageTitle>
      <AccountNotice me={me} />
      <div className={ui.grid}>
        <FreezeCard me={me} />
        <TotpCard me={me} />
        <SessionsCard />
        <CredentialsCard />
      </div>
      <SecurityLogCard />
    </>
  );
}
