// "in 1 min 30 sec", ticking each second; "any moment now" once the ETA has passed.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDuration } from '../../format.ts';

export function Countdown({ until }: { until: string }) {
  const { t, i18n } = useTranslation();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const left = Date.parse(until) - now;
  return <span role="timer" aria-live="off">{left > 0 ? t('payment.in', { duration: formatDuration(left, i18n.language) }) : t('payment.any_moment')}</span>;
}
