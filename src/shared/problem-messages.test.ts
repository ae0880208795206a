// Goal: every problem code the code base raises has a title in both languages and a Chinese
// detail, so that no zh-CN caller meets an English-only refusal. Method: scan the sources for the
// codes passed to ProblemError / refuse() and the maintenance window refusals, and look each up.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROBLEM_TEXTS, problemTitle } from './problem-messages.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('problem messages', () => {
  it('cover every code raised in src, in en and zh-CN', () => {
    const codes = new Set<string>();
    for (const file of sources(join(import.meta.dirname, '..'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:ProblemError|refuse)\(\d+, '([a-z_]+)'/g)) codes.add(m[1]!);
      for (const m of text.matchAll(/code: '([a-z_]+)', detail:/g)) codes.add(m[1]!);
      for (const m of text.matchAll(/code: '([a-z_]+)', until_ms/g)) codes.add(m[1]!); // account permissions, raised as problems
    }
    for (const reason of ['scope_invalid', 'unknown_chain', 'ends_before_start', 'ends_in_past', 'too_long']) codes.add(`window_${reason}`);
    for (const code of ['invalid_webhook_url', 'too_many_endpoints', 'route_not_found', 'bad_request']) codes.add(code);
    expect(codes.size).toBeGreaterThan(60);
    const missing = [...codes].filter((c) => !PROBLEM_TEXTS[c]);
    expect(missing).toEqual([]);
    for (const [code, text] of Object.entries(PROBLEM_TEXTS)) {
      expect(text.title.en, code).toMatch(/^[A-Z]/);
      for (const zh of [text.title['zh-CN'], text.detail_zh]) expect(zh, code).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('falls back to the status text for a code it does not know', () => {
    expect(problemTitle('something_new', 409, 'en')).toBe('Conflict');
    expect(problemTitle('something_new', 409, 'zh-CN')).toBe('冲突');
    expect(problemTitle('insufficient_funds', 422, 'zh-CN')).toBe('余额不足');
  });
});
