// Staff pages: users, unfreeze requests, withdrawal reviews, maintenance windows, announcements, incidents, risk rules (risk and admin).
import { useTranslation } from 'react-i18next';
import { Navigate } from 'react-router';
import { isStaff, useMe } from '../../api/session.ts';
import { PageTitle, ui } from '../../components/Card.tsx';
import { MaintenanceSection } from './MaintenanceSection.tsx';
import { AnnouncementsSection } from './AnnouncementsSection.tsx';
import { Incidents, UnfreezeRequests, WithdrawalReviews } from './QueuesSection.tsx';
import { UsersSection } from './UsersSection.tsx';
import { RiskSection } from './RiskSection.tsx';

export function AdminPage() {
  const { t } = useTranslation();
  const { me } = useMe();
  if (me && !isStaff(me)) return <Navigate to="/wallet" replace />;
  return (
    <>
      <PageTitle>{t('admin.title')}</PageTitle>
      <UsersSection />
      <div className={ui.grid}>
        <UnfreezeRequests />
        <WithdrawalReviews />
      </div>
      <MaintenanceSection />
      <AnnouncementsSection />
      <Incidents />
      {me?.roles.some((r) => r === 'risk' || r === 'admin') && <RiskSection />}
    </>
  );
}
