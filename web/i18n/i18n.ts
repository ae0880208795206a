// i18next with both catalogues bundled (each is a few KB): the language switch never waits.
// The first language is the one the server put in <html lang> (API.md: account locale, then
// ?lang=, the saved choice, Accept-Language).
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { EN_CATALOGUE, ZH_CATALOGUE } from './catalogues.ts';

export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

export function asLang(v: string | null | undefined): Lang {
  return v && v.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function initI18n(lang: Lang): typeof i18next {
  void i18next.use(initReactI18next).init({
    resources: { en: { translation: EN_CATALOGUE }, 'zh-CN': { translation: ZH_CATALOGUE } },
    lng: lang,
    fallbackLng: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  return i18next;
}

/** Switches the app's language and the document's lang attribute together. */
export async function switchLang(lang: Lang): Promise<void> {
  await i18next.changeLanguage(lang);
  document.documentElement.lang = lang;
}
