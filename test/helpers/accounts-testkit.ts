// Test helpers for the accounts module and the authorization walk: a whole platform over a
// fresh test database (real SQLite / PostgreSQL, real in-process SMTP), a ManualClock, and an
// independent RFC 6238 TOTP generator (node:crypto only, not otpauth) so that tests prove that
// a real authenticator app's codes are accepted. Used only by tests.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import type { Dialect } from '../../src/db/database.ts';
import { buildPlatformApp, createPlatform, stopBackground, type Platform } from '../../src/platform.ts';
import type { App } from '../../src/app.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openTestDb } from './db.ts';

/** RFC 4648 base32 decoding (no padding needed). */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP, HMAC-SHA1, 6 digits, 30 s steps: totpCode(secret, Date.now()) -> '492039' */
export function totpCode(secretB32: string, at_ms: number): string {
  const counter = Math.floor(at_ms / 1000 / 30);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secretB32)).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 1_000_000).padStart(6, '0');
}

export interface TestPlatform {
  platform: Platform;
  app: App;
  clock: ManualClock;
  dir: string;
  /** Runs due jobs (mail delivery) until none are left. */
  drainJobs(): Promise<void>;
  close(): Promise<void>;
}

/** const t = await startTestPlatform('sqlite'); … await t.close() */
export async function startTestPlatform(dialect: Dialect, env: Record<string, string> = {}, file: Record<string, unknown> = {}): Promise<TestPlatform> {
  const tdb = await openTestDb(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'settle-acct-'));
  // A generous API rate limit and registration throttle: the ManualClock does not refill buckets by itself.
  const configPath = join(dir, 'settle.config.json');
  writeFileSync(configPath, JSON.stringify({ rate_limit: { per_second: 100_000, burst: 100_000 }, registration_throttle: { per_ip: 100_000, window_s: 60 }, ...file }));
  const config = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_CONFIG: configPath, ...env }, dir);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const platform = await createPlatform(config, tdb.db, { clock });
  const app = await buildPlatformApp(platform);
  return {
    platform, app, clock, dir,
    async drainJobs() {
      for (let i = 0; i < 20; i++) if ((await platform.jobs.tick()) === 0) return;
    },
    async close() {
      await app.close();
      await stopBackground(platform);
      await tdb.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  return res.json() as T;
}

/**
 * Turns TOTP on for a signed-in account through the real flow, as a staff member must before any
 * staff route answers them: step-up with the password, /me/totp/setup, /me/totp/enable with a
 * code of the secret. The session stays stepped up (15 minutes) -> the secret and recovery codes.
 *   const { recovery_codes } = await turnOnTotp(app, token, PW, clock.now_ms())
 */
export async function turnOnTotp(app: App, token: string, password: string, now_ms: number): Promise<{ secret: string; recovery_codes: string[] }> {
  const step = await app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: bearer(token), payload: { password } });
  if (step.statusCode !== 204) throw new Error(`step-up: ${step.statusCode} ${step.body}`);
  const setup = await app.inject({ method: 'POST', url: '/api/v1/me/totp/setup', headers: bearer(token) });
  if (setup.statusCode !== 200) throw new Error(`totp setup: ${setup.statusCode} ${setup.body}`);
  const { secret } = json<{ secret: string }>(setup);
  const enable = await app.inject({ method: 'POST', url: '/api/v1/me/totp/enable', headers: bearer(token), payload: { code: totpCode(secret, now_ms) } });
  if (enable.statusCode !== 200) throw new Error(`totp enable: ${enable.statusCode} ${enable.body}`);
  return { secret, recovery_codes: json<{ recovery_codes: string[] }>(enable).recovery_codes };
}
