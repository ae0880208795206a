// The frame of every page: header with navigation and the language switch, the announcements
// and maintenance banner, and the page itself. On a phone the navigation folds behind a menu
// button (a disclosure: aria-expanded, Escape closes it and gives focus back to the button), so
// every link, "status" and "sign out" included, is reachable without scrolling sideways.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { setSessionLostHandler } from '../api/client.ts';
import { ME_KEY, isStaff, useMe, useSignOut } from '../api/session.ts';
import { asLang, switchLang } from '../i18n/i18n.ts';
import { useLiveUpdates } from '../live/stream.ts';
import { Banner } from './Banner.tsx';
import { Bell } from './Bell.tsx';
import { LangSwitch } from './LangSwitch.tsx';
import css from './Layout.module.css';

const NAV_ID = 'main-nav';

function Nav({ open, onEscape }: { open: boolean; onEscape: () => void }) {
  const { t } = useTranslation();
  const { me } = useMe();
  const signOut = useSignOut();
  const navigate = useNavigate();
  const link = (to: string, label: string) => <NavLink to={to} className={({ isActive }) => (isActive ? css.active : undefined)}>{label}</NavLink>;
  return (
    <nav id={NAV_ID} className={open ? `${css.nav} ${css.open}` : css.nav} aria-label={t('nav.label')} onKeyDown={(e) => { if (e.key === 'Escape') onEscape(); }}>
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

/** The phone's menu button and whether the menu is open; it closes on every page change. */
function useMenu() {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const { pathname } = useLocation();
  useEffect(() => setOpen(false), [pathname]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  return { open, button, toggle: () => setOpen((o) => !o), close };
}

export function Layout() {
  const { t } = useTranslation();
  const { me } = useMe();
  const qc = useQueryClient();
  const menu = useMenu();
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
          <div className={css.tools}>
            {me && <Bell />}
            <LangSwitch />
            <button type="button" ref={menu.button} className={css.menuButton} aria-expanded={menu.open} aria-controls={NAV_ID} onClick={menu.toggle}>
              <span aria-hidden="true" className={css.burger} />{t('nav.menu')}
            </button>
          </div>
        </div>
        <Nav open={menu.open} onEscape={menu.close} />
      </header>
      <Banner />
      <main id="main" className={css.main} tabIndex={-1}>
        <Outlet />
      </main>
      <footer className={css.footer}>{me ? t('footer.signed_in', { email: me.email }) : t('footer.tagline')}</footer>
    </div>
  );
}
