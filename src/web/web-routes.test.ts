// The web app on the API's port: page paths (deep links) answer the app's HTML with <html lang>
// chosen as API.md says and a CSP without 'unsafe-inline' in script-src; hashed assets are
// cached for a year; unknown paths and API routes keep their problem+json 404.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/helpers/accounts-testkit.ts';
import { ensureWebBuilt, WEB_DIST } from './web-build.ts';

const PW = 'correct horse battery staple 9';
let t: TestPlatform;

beforeAll(async () => {
  await ensureWebBuilt();
  t = await startTestPlatform('sqlite');
}, 120_000);
afterAll(async () => t?.close());

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

describe('web app pages', () => {
  it('answers HTML for every page path, deep links included, with a strict CSP', async () => {
    for (const path of ['/', '/login', '/wallet', '/payments/pay_123', '/help', '/security', '/merchant', '/status', '/admin']) {
      const res = await get(path);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('<div id="root">');
      const csp = String(res.headers['content-security-policy']);
      const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src')) ?? '';
      expect(scriptSrc.trim()).toBe("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('sets <html lang> from ?lang=, then the saved choice, then Accept-Language', async () => {
    expect((await get('/login', { 'accept-language': 'zh-CN,zh;q=0.9' })).body).toContain('<html lang="zh-CN"');
    expect((await get('/login', { 'accept-language': 'en-US' })).body).toContain('<html lang="en"');
    const chosen = await get('/login?lang=zh-CN', { 'accept-language': 'en-US' });
    expect(chosen.body).toContain('<html lang="zh-CN"');
    const cookie = String(chosen.headers['set-cookie']);
    expect(cookie).toContain('settle_lang=zh-CN');
    expect((await get('/wallet', { 'accept-language': 'en-US', cookie: 'settle_lang=zh-CN' })).body).toContain('<html lang="zh-CN"');
  });

  it("uses the signed-in user's locale over everything else", async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'web@example.com', password: PW, locale: 'zh-CN' } });
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'web@example.com', password: PW } });
    const session = (login.cookies as Array<{ name: string; value: string }>).find((c) => c.name === 'settle_session');
    expect(session).toBeDefined();
    const res = await get('/wallet?lang=en', { cookie: `settle_session=${session!.value}; settle_lang=en`, 'accept-language': 'en' });
    expect(res.body).toContain('<html lang="zh-CN"');
  });

  it('serves hashed assets with a long immutable cache', async () => {
    const js = readdirSync(join(WEB_DIST, 'assets')).find((f) => f.endsWith('.js'))!;
    const res = await get(`/assets/${js}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['cache-control']).toContain('max-age=31536000');
    expect(res.headers['content-type']).toMatch(/javascript/);
  });

  it('keeps problem+json 404s for unknown paths and API routes', async () => {
    for (const path of ['/api/v1/nope', '/no-such-page', '/assets/missing.js']) {
      const res = await get(path, { accept: 'application/json' });
      expect(res.statusCode, path).toBe(404);
      expect(res.headers['content-type'], path).toContain('application/problem+json');
    }
  });
});
