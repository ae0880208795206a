// A frozen or restricted account says why (the API's own words) and what to do next, with the
// way to ask for an unfreeze.
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Me } from '../../api/session.ts';
import css from './Security.module.css';

export function AccountNotice({ me }: { me: Me }) {
  const { t } = useTranslation();
  if (me.status === 'active') return null;
  return (
    <section className={css.notice} role="alert" aria-label={t('account.status_label')}>
      <h2>{t(`account.status_${me.status === 'frozen' ? 'frozen' : me.status === 'restricted' ? 'restricted' : 'closed'}`)}</h2>
      {me.freezes.map((f) => (
        <div key={`${f.reason}-${f.since}`}>
          <p data-testid="freeze-message">{f.message}</p>
          {f.what_to_do.length > 0 && <ul>{f.what_to_do.map((w) => <li key={w}>{w}</li>)}</ul>}
        </div>
      ))}
      {me.status === 'frozen' && <Link to="/security#unfreeze">{t('account.unfreeze_path')}</Link>}
    </section>
  );
}
