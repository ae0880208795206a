// Merchant tools: API keys, invoices, webhook endpoints and their deliveries.
import { useTranslation } from 'react-i18next';
import { PageTitle, ui } from '../../components/Card.tsx';
import { ApiKeysCard } from './ApiKeysCard.tsx';
import { InvoicesCard } from './InvoicesCard.tsx';
import { WebhooksCard } from './WebhooksCard.tsx';

export function MerchantPage() {
  const { t } = useTranslation();
  return (
    <>
      <PageTitle>{t('merchant.title')}</PageTitle>
      <div className={ui.grid}>
        <ApiKeysCard />
        <WebhooksCard />
      </div>
      <InvoicesCard />
    </>
  );
}
