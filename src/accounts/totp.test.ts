// Goal: prove TOTP through the HTTP API on both dialects — step-up first, codes from an
// independent RFC 6238 generator accepted, no replay, recovery codes used once, malformed codes refused.
// Method: a whole platform per test (real database), app.inject(), a ManualClock moved explicitly.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../test/helpers/db.ts';
import { bearer, json, totpCode } from '../../test/helpers/accounts-testkit.ts';
import { PW, withPlatform, login, signedIn, stepUp, enableTotp } from '../../test/helpers/accounts-api-kit.ts';

describe.each(DIALECTS)('accounts API on %s', (dialect) => {
  it('TOTP: step-up first, independent RFC 6238 codes accepted, no replay, recovery codes single-use, malformed codes refused', async () => {
    await withPlatform(dialect, async (t) => {
      const s = await signedIn(t, 'dave@example.com');
      const need = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(s.token) });
      expect(need.statusCode).toBe(401);
      expect(json(need)).toMatchObject({ code: 'step_up_required', factors: ['password'] });
      expect(json(await stepUp(t, s.token, { password: 'not it at all' }))).toMatchObject({ code: 'step_up_failed' });
      const { secret, recovery } = await enableTotp(t, s.token);
      expect(recovery).toHaveLength(10);
      expect(new Set(recovery).size).toBe(10);
      const stored = await t.platform.db.kysely.selectFrom('users').select(['totp_secret_enc']).where('id', '=', s.id).executeTakeFirstOrThrow();
      expect(stored.totp_secret_enc).not.toContain(secret);
      const codes = await t.platform.db.kysely.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', s.id).execute();
      expect(codes.map((c) => c.code_hash)).not.toContain(recovery[0]);

      expect(json(await login(t, 'dave@example.com'))).toMatchObject({ code: 'totp_required' });
      expect(json(await login(t, 'dave@example.com', PW, { totp_code: '000000' === totpCode(secret, t.clock.now_ms()) ? '111111' : '000000' }))).toMatchObject({ code: 'invalid_totp' });
      expect((await login(t, 'dave@example.com', PW, { totp_code: '12ab56' })).statusCode).toBe(400);
      t.clock.advance(30_000);
      const code = totpCode(secret, t.clock.now_ms());
      expect((await login(t, 'dave@example.com', PW, { totp_code: code })).statusCode).toBe(200);
      expect(json(await login(t, 'dave@example.com', PW, { totp_code: code }))).toMatchObject({ code: 'invalid_totp' }); // replay
      expect((await login(t, 'dave@example.com', PW, { recovery_code: recovery[3]! })).statusCode).toBe(200);
      expect(json(await login(t, 'dave@example.com', PW, { recovery_code: recovery[3]! }))).toMatchObject({ code: 'invalid_totp' });
      expect((await login(t, 'dave@example.com', PW, { recovery_code: 'not-a-code' })).statusCode).toBe(400);

      // With 2FA on, step-up wants the second factor, not the password.
      const fresh = json<{ token: string }>(await login(t, 'dave@example.com', PW, { recovery_code: recovery[4]! })).token;
      const disableNeed = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/disable', headers: bearer(fresh) });
      expect(json(disableNeed)).toMatchObject({ code: 'step_up_required', factors: ['totp', 'recovery_code'] });
      expect((await stepUp(t, fresh, { password: PW })).statusCode).toBe(401);
      t.clock.advance(30_000);
      expect((await stepUp(t, fresh, { totp_code: totpCode(secret, t.clock.now_ms()) })).statusCode).toBe(204);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/disable', headers: bearer(fresh) })).statusCode).toBe(204);
      // The privileged window lasts 15 minutes.
      t.clock.advance(15 * 60_000 + 1000);
      const later = await t.app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(fresh) });
      expect(json(later)).toMatchObject({ code: 'step_up_required', factors: ['password'] });
    });
  });
});
