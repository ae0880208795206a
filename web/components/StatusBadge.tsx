import { useTranslation } from 'react-i18next';
import { statusTone } from '../pages/payments/status.ts';
import { ui } from './Card.tsx';

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const tone = statusTone(status);
  const cls = tone === 'info' ? ui.badge : `${ui.badge} ${ui[tone]}`;
  return <span className={cls} data-status={status}>{t(`status.${status}`, { defaultValue: status })}</span>;
}
