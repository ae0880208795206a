// The real platform in a child process and Debian's chromium, for the browser tests and
// `npm run bench:web`: `settle start` on a fresh data dir (no chain configured, so it runs the
// local dev chain: a real anvil with the test USDT), and `settle <command>` against it.
// No vitest here, so that benchmarks can use it too.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { expect } from 'vitest';
import { ensureWebBuilt } from '../../src/web/web-build.ts';
import { parseMessage } from '../../src/notify/mail.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Platform {
  base: string;
  /** Runs `settle <args>` against this platform's data dir -> stdout. */
  cli(...args: string[]): Promise<string>;
  /**
   * Confirms an account's email the way its owner does: reads the code from the mail the
   * platform delivered to its dev SMTP server (kept as .eml files in the data dir), signs in and
   * sends it to POST /me/email/verify. Only a confirmed address receives transfers.
   */
  confirmEmail(email: string, password: string): Promise<void>;
  /** The newest email-confirmation code the platform mailed to `email` (its dev SMTP server keeps the mail). */
  mailedCode(email: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPlatform(): Promise<Platform> {
  await ensureWebBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'settle-e2e-'));
  const port = await freePort();
  const env = { ...process.env, SETTLE_DATA_DIR: dir, SETTLE_PORT: String(port) };
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'settle.mjs'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`settle start exited: ${log}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() - t0 > 90_000) throw new Error(`settle start did not get ready: ${log}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    base,
    async cli(...args) {
      const r = await run(process.execPath, [join(ROOT, 'bin', 'settle.mjs'), ...args], { env, timeout: 60_000 });
      return r.stdout;
    },
    async confirmEmail(email, password) {
      const code = await mailedCode(join(dir, 'mail'), email);
      const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const verify = await fetch(`${base}/api/v1/me/email/verify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ code }) });
      expect(verify.status).toBe(200);
    },
    mailedCode: (email) => mailedCode(join(dir, 'mail'), email),
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => { clearTimeout(force); resolve(); });
        if (child.exitCode !== null) resolve();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The newest email-confirmation code delivered to `email` (waits for the mail job, 20 s at most). */
async function mailedCode(mailDir: string, email: string): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const files = existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort() : [];
    const codes = files
      .map((f) => readFileSync(join(mailDir, f), 'utf8'))
      .filter((raw) => new RegExp(`^To: .*${email.replace(/[.+]/g, '\\$&')}`, 'mi').test(raw))
      .map((raw) => parseMessage(raw))
      .filter((m) => /confirm|确认/i.test(m.subject))
      .map((m) => /\b(\d{6})\b/.exec(m.text)?.[1]);
    const code = codes[codes.length - 1];
    if (code) return code;
    if (Date.now() - t0 > 20_000) throw new Error(`no confirmation code mailed to ${email}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
}
