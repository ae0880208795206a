// The frame of every page: header with navigation and the language switch, the announcements
// and maintenance banner, and the page itself.
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { setSessionLostHandler } from '../api/client.ts';
import { ME_KEY, isStaff, useMe, useSignOut } from '../api/session.ts';
import { asLang, switchLang } from '../i18n/i18n.ts';
import { useLiveUpdates } from '../live/stream.ts';
import { Banner } from './Banner.tsx';
import { LangSwitch } from './LangSwitch.tsx';
import css from './Layout.module.css';

function Nav() {
  const { t } = useTranslation();
  const { me } = useMe();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const link = (to: string, label: string) => <NavLink to={to} className={({ isActive }) => (isActive ? css.active : undefined)}>{label}</NavLink>;
  return (
    <nav className={css.nav} aria-label={t('nav.label')}>
      {me && (
        <>
          {link('/wallet', t('nav.wallet'))}
          {link('/payments', t('nav.payments'))}
          {link('/help', t('nav.help'))}
          {link('/security', t('nav.security'))}
          {link('/merchant', t('nav.merchant'))}
          {isStaff(me) && link('/admin', t('nav.admin'))}
        </>
      )}
      {link('/status', t('nav.status'))}
      {me ? (
        <button type="button" className={css.linkButton} onClick={() => void signOut().then(() => navigate('/login'))}>{t('nav.sign_out')}</button>
      ) : (
        link('/login', t('nav.sign_in'))
      )}
    </nav>
  );
}

export function Layout() {
  const { t } = useTranslation();
  const { me } = useMe();
  const qc = useQueryClient();
  useLiveUpdates(!!me);
  useEffect(() => setSessionLostHandler(() => qc.setQueryData(ME_KEY, null)), [qc]);
  // Signed in, the account's language rules (API.md): the page follows it.
  useEffect(() => {
    if (me && asLang(me.locale) !== document.documentElement.lang) void switchLang(asLang(me.locale));
  }, [me]);
  return (
    <div className={css.shell}>
      <a className={css.skip} href="#main">{t('nav.skip')}</a>
      <header className={css.header}>
        <div className={css.bar}>
          <span className={css.brand}>Settle</span>
          <LangSwitch />
        </div>
        <Nav />
      </header>
      <Banner />
      <main id="main" className={css.main} tabIndex={-1}>
        <Outlet />
      </main>
      <footer className={css.footer}>{me ? t('footer.signed_in', { email: me.email }) : t('footer.tagline')}</footer>
    </div>
  );
}
