// Goal: the pure rules of sign-in — NIST password policy and its shipped blocklist, Keycloak's
// throttle arithmetic, the looser per-IP window, device fingerprints, emails and file sniffing.
// Method: plain unit tests plus fast-check properties over the throttle.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { accountFailure, checkPassword, deviceFingerprint, ipFailure, networkOf, normalizeEmail, sniffContentType, throttleRetryAfterS, uaFamily, type ThrottleState } from './accounts-rules.ts';
import { commonPasswords } from './common-passwords.ts';

const policy = { failures_before_wait: 5, first_wait_s: 60, wait_s_max: 900, reset_after_s: 12 * 3600 };

describe('password policy (NIST SP 800-63B-4)', () => {
  it('ships a blocklist of at least 10,000 common passwords and refuses them case-insensitively', () => {
    expect(commonPasswords().size).toBeGreaterThanOrEqual(10_000);
    for (const p of ['password', 'Password1', 'QWERTYUIOP', 'iloveyou', '12345678', 'sunshine1']) {
      expect(checkPassword(p, null, 256, commonPasswords()), p).toEqual({ ok: false, reason: 'common' });
    }
  });
  it('has no composition rules: length between 8 and the cap, any characters', () => {
    expect(checkPassword('seven77', null, 256, commonPasswords())).toEqual({ ok: false, reason: 'too_short' });
    expect(checkPassword('水滴石穿绳锯木断', null, 256, commonPasswords())).toEqual({ ok: true }); // 8 code points
    expect(checkPassword('🙂🙂🙂🙂🙂🙂🙂x', null, 256, commonPasswords())).toEqual({ ok: true });
    expect(checkPassword('q'.repeat(31) + 'w'.repeat(33), null, 256, commonPasswords())).toEqual({ ok: true }); // 64 allowed
    expect(checkPassword('z'.repeat(100) + 'y'.repeat(157), null, 256, commonPasswords())).toEqual({ ok: false, reason: 'too_long' });
    expect(checkPassword('all lower case words', null, 256, commonPasswords())).toEqual({ ok: true });
  });
  it('refuses context-specific passwords', () => {
    expect(checkPassword('annabelle-2024!', 'annabelle@example.com', 256, commonPasswords())).toEqual({ ok: false, reason: 'contains_email' });
    expect(checkPassword('my settle account', 'x@example.com', 256, commonPasswords())).toEqual({ ok: false, reason: 'contains_email' });
  });
  it('normalises emails and refuses non-addresses', () => {
    expect(normalizeEmail(' Ann.Lee+pay@Example.ORG ')).toBe('ann.lee+pay@example.org');
    for (const e of ['', 'ann', 'ann@', '@x.com', 'a b@x.com', 'a@x', 'a@-x.com']) expect(normalizeEmail(e), e).toBeNull();
    expect(normalizeEmail(`${'a'.repeat(250)}@x.com`)).toBeNull();
  });
});

describe('login throttle (Keycloak model)', () => {
  it('waits from the 5th consecutive failure: 60, 120, 240, 480, 900, 900 s', () => {
    let s: ThrottleState | null = null;
    let t = 0;
    const waits: number[] = [];
    for (let i = 1; i <= 10; i++) {
      s = accountFailure(s, t, policy);
      waits.push(throttleRetryAfterS(s, t));
      t += (throttleRetryAfterS(s, t) + 1) * 1000;
    }
    expect(waits).toEqual([0, 0, 0, 0, 60, 120, 240, 480, 900, 900]);
  });
  it('forgets after 12 h of quiet', () => {
    let s: ThrottleState | null = null;
    for (let i = 0; i < 6; i++) s = accountFailure(s, i, policy);
    const later = accountFailure(s, 12 * 3600_000 + 10, policy);
    expect(later.failures).toBe(1);
    expect(throttleRetryAfterS(later, 12 * 3600_000 + 10)).toBe(0);
  });
  it('never waits longer than the maximum, and always at least from the threshold on (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3600_000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        let s: ThrottleState | null = null;
        let t = 0;
        for (const g of gaps) {
          t += g;
          s = accountFailure(s, t, policy);
          const wait = throttleRetryAfterS(s, t);
          if (wait > policy.wait_s_max) return false;
          if (s.failures >= policy.failures_before_wait && wait < policy.first_wait_s) return false;
        }
        return true;
      }),
    );
  });
  it('per IP: 100 failures in a 15-minute window, then a wait until the window ends', () => {
    let s: ThrottleState | null = null;
    for (let i = 0; i < 99; i++) s = ipFailure(s, i * 1000);
    expect(throttleRetryAfterS(s, 99_000)).toBe(0);
    s = ipFailure(s, 99_000);
    expect(throttleRetryAfterS(s, 99_000)).toBe(15 * 60 - 99);
    expect(ipFailure(s, 15 * 60_000).failures).toBe(1);
  });
});

describe('devices', () => {
  it('fingerprints by browser family and /24 or /48 network', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(uaFamily('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36')).toBe('Chrome on Windows');
    expect(uaFamily('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1')).toBe('Safari on iOS');
    expect(uaFamily(null)).toBe('unknown');
    const a = deviceFingerprint('Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0', '198.51.100.1');
    const b = deviceFingerprint('Mozilla/5.0 (X11; Linux x86_64) Firefox/122.0', '198.51.100.200');
    expect(a.fingerprint).toBe(b.fingerprint); // a browser update on the same network is not a new device
    expect(deviceFingerprint('Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0', '198.51.101.1').fingerprint).not.toBe(a.fingerprint);
  });
});

describe('KYC', () => {
  it('sniffs document types by their first bytes', () => {
    expect(sniffContentType(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toBe('image/jpeg');
    expect(sniffContentType(Buffer.from('%PDF-1.7'))).toBe('application/pdf');
    expect(sniffContentType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffContentType(Buffer.from('<svg onload=alert(1)>'))).toBeNull();
    expect(sniffContentType(Buffer.from([0x89, 0x50]))).toBeNull();
  });
});
