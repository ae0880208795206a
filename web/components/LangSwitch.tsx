// The visible language switch of every page (API.md: links with hreflang). Signed in, the
// choice is the account's (PATCH /me); otherwise it is saved in the settle_lang cookie, which
// the server reads to set <html lang> on the next visit.
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client.ts';
import { useMe } from '../api/session.ts';
import { LANGS, switchLang, type Lang } from '../i18n/i18n.ts';
import css from './Layout.module.css';

const NAMES: Record<Lang, string> = { en: 'English', 'zh-CN': '中文' };

export function LangSwitch() {
  const { t, i18n } = useTranslation();
  const { me } = useMe();
  const qc = useQueryClient();
  const choose = async (e: React.MouseEvent, lang: Lang) => {
    e.preventDefault();
    document.cookie = `settle_lang=${lang}; path=/; max-age=31536000; samesite=lax`;
    if (me) {
      await api.patch('/api/v1/me', { body: { locale: lang } });
      await qc.invalidateQueries();
    }
    await switchLang(lang);
  };
  return (
    <div className={css.langs} role="group" aria-label={t('nav.language')}>
      {LANGS.map((lang) => (
        <a key={lang} href={`?lang=${lang}`} hrefLang={lang} lang={lang} aria-current={i18n.language === lang ? 'true' : undefined} onClick={(e) => void choose(e, lang)}>
          {NAMES[lang]}
        </a>
      ))}
    </div>
  );
}
