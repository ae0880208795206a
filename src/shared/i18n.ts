// Messages for people, in zh-CN and en. Every code has both translations; the type checker
// refuses a catalogue entry that lacks one. Modules add their own catalogues with defineMessages.

export type Locale = 'en' | 'zh-CN';
export const LOCALES: readonly Locale[] = ['en', 'zh-CN'];

export type Catalogue<K extends string> = Record<K, Record<Locale, string>>;

/** defineMessages({ hello: { en: 'Hello {name}', 'zh-CN': '你好 {name}' } }) */
export function defineMessages<K extends string>(catalogue: Catalogue<K>): Catalogue<K> {
  return catalogue;
}

/** translate(cat, 'hello', 'en', { name: 'Ann' }) -> 'Hello Ann' */
export function translate<K extends string>(
  catalogue: Catalogue<K>,
  key: K,
  locale: Locale,
  params: Record<string, string | number> = {},
): string {
  const entry = catalogue[key];
  const template = entry[locale] ?? entry.en;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

/** Picks the best supported locale from an explicit choice or an Accept-Language header. */
export function pickLocale(explicit: string | null | undefined, acceptLanguage?: string): Locale {
  const candidates = [explicit ?? '', ...(acceptLanguage ?? '').split(',').map((p) => p.split(';')[0]!.trim())];
  for (const c of candidates) {
    const lower = c.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}
