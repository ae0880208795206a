// The two catalogues: the core (en.json, zh-CN.json) plus one file pair per page area in
// areas/ (`<area>.en.json`, `<area>.zh-CN.json`, each `{ "<area>": { … } }`), so that areas
// built side by side never edit the same file. Both are bundled: the switch never waits.
type Tree = { [k: string]: string | Tree };
import en from './en.json';
import zhCN from './zh-CN.json';

const areas = import.meta.glob<{ default: Tree }>('./areas/*.json', { eager: true });

function merged(core: Tree, lang: 'en' | 'zh-CN'): Tree {
  const out: Tree = { ...core };
  for (const [path, mod] of Object.entries(areas)) {
    if (!path.endsWith(`.${lang}.json`)) continue;
    for (const [k, v] of Object.entries(mod.default)) {
      if (k in out) throw new Error(`i18n: ${path} redefines top-level key "${k}"`);
      out[k] = v;
    }
  }
  return out;
}

export const EN_CATALOGUE: Tree = merged(en as Tree, 'en');
export const ZH_CATALOGUE: Tree = merged(zhCN as Tree, 'zh-CN');
