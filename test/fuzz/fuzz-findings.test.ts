// Goal: each 5xx the OpenAPI fuzzer (openapi-fuzz.test.ts) found stays fixed, as a plain
// example that needs no seed to reproduce.
// Method: the whole platform on each dialect, the fuzzer's request by inject(), its answer checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';
import { DIALECTS } from '../helpers/db.ts';

describe.each(DIALECTS)('fuzzer findings on %s', (dialect) => {
  let t: TestPlatform;
  let token = '';

  beforeAll(async () => {
    t = await startTestPlatform(dialect);
    const u = await t.platform.accounts.createUserWithRoles('finder@example.com', 'correct horse battery staple', []);
    token = (await t.platform.accounts.issueSessionForTests(u.id)).token;
  });

  afterAll(async () => {
    await t?.close();
  });

  // Ajv coerced the text to a number that is not finite and skipped minimum/maximum (they apply
  // to finite numbers only), so Infinity reached the query's LIMIT: a 500 on every paged list.
  it.each(['Infinity', '-Infinity', '1e400', '-1e999'])('?limit=%s is a 400 validation_failed, not a 500', async (limit) => {
    for (const path of ['/api/v1/me/notifications', '/api/v1/me/security-events', '/api/v1/payments', '/api/v1/events']) {
      const res = await t.app.inject({ method: 'GET', url: `${path}?limit=${limit}`, headers: bearer(token) });
      expect(res.statusCode, `${path}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    // Finite limits still work.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me/notifications?limit=5', headers: bearer(token) })).statusCode).toBe(200);
  });
});
