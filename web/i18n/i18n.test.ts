// Every string in both languages: the same keys, the same {{variables}}, no empty text, Chinese
// text in zh-CN (an English string copied over is "untranslated"), and every key the pages use
// with a literal t('…') exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EN_CATALOGUE as en, ZH_CATALOGUE as zhCN } from './catalogues.ts';
import { KINDS, STATUSES } from '../pages/payments/PaymentsPage.tsx';

type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const EN = flatten(en);
const ZH = flatten(zhCN);
const vars = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
const CJK = /[\u3400-\u9fff]/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'dist' || name === 'node_modules' || name.startsWith('dist-')) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('i18n catalogues', () => {
  it('have the same keys in en and zh-CN', () => {
    expect([...ZH.keys()].filter((k) => !EN.has(k))).toEqual([]);
    expect([...EN.keys()].filter((k) => !ZH.has(k))).toEqual([]);
  });

  it('have no empty or untranslated string, and the same variables in both', () => {
    for (const [key, text] of EN) {
      const zh = ZH.get(key) ?? '';
      expect(text.trim(), `en ${key}`).not.toBe('');
      expect(CJK.test(text), `en ${key} holds Chinese`).toBe(false);
      expect(CJK.test(zh), `zh-CN ${key} is untranslated: "${zh}"`).toBe(true);
      expect(vars(zh), `variables of ${key}`).toEqual(vars(text));
    }
  });

  it('hold every key the pages use', () => {
    const root = join(import.meta.dirname, '..');
    const used = new Set<string>();
    for (const file of sources(root)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(['"]([a-z_]+\.[a-z_0-9.]+)['"]/g)) used.add(m[1]!);
    }
    for (const k of KINDS) used.add(`kind.${k}`);
    for (const s of STATUSES) used.add(`status.${s}`);
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !EN.has(k))).toEqual([]);
  });
});
