// Goal: the accounts routes cannot be used to make the server buffer megabytes or burn CPU:
// only the document-upload route parses file bodies (up to upload_bytes_max); every other
// accounts route takes a small JSON body (account_body_bytes_max); and registration, which pays
// an argon2id hash per request, is throttled per client IP (429 too_many_attempts, Retry-After).
// Method: the whole platform (real database, real accounts, real hashing) through app.inject();
// the hash counter of accounts-crypto proves a throttled request hashes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordHashCount } from '../../src/accounts/accounts-crypto.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';

const PW = 'correct horse battery staple';

describe('accounts body limits and the registration throttle', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform('sqlite', {}, { registration_throttle: { per_ip: 3, window_s: 3600 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a file body to /auth/register or /auth/login is refused unparsed: 415', async () => {
    for (const url of ['/api/v1/auth/register', '/api/v1/auth/login']) {
      const res = await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'image/png' }, payload: Buffer.alloc(5 * 1024 * 1024, 1), remoteAddress: '192.0.2.50' });
      expect(res.statusCode, url).toBe(415);
      expect(res.json()).toMatchObject({ code: 'unsupported_media_type' });
    }
  });

  it('a JSON body past the accounts limit is 413 body_too_large, on register and login alike', async () => {
    const pad = 'p'.repeat(t.platform.config.limits.account_body_bytes_max + 1);
    for (const url of ['/api/v1/auth/register', '/api/v1/auth/login']) {
      const res = await t.app.inject({ method: 'POST', url, payload: { email: 'x@example.com', password: PW, pad }, remoteAddress: '192.0.2.51' });
      expect(res.statusCode, url).toBe(413);
      expect(res.json()).toMatchObject({ code: 'body_too_large' });
    }
  });

  it('registration is throttled per IP before any hashing; another IP is not affected', async () => {
    const reg = (email: string, ip: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: PW }, remoteAddress: ip });
    for (let i = 0; i < 3; i++) expect((await reg(`r${i}@example.com`, '198.51.100.1')).statusCode).toBe(201);
    const hashes = passwordHashCount();
    const refused = await reg('r3@example.com', '198.51.100.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'too_many_attempts' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(passwordHashCount()).toBe(hashes); // no argon2 paid for a throttled request
    expect((await reg('other@example.com', '198.51.100.2')).statusCode).toBe(201);
    t.clock.advance(3600_000);
    expect((await reg('r3@example.com', '198.51.100.1')).statusCode).toBe(201);
  });
});
