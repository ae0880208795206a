// Goal: a real deployment (chains configured, not the dev chain) never starts on silent
// defaults for its secrets: without SETTLE_ENCRYPTION_KEY it would generate a key beside its
// database (two hosts on one PostgreSQL could not read each other's secrets), without
// SETTLE_SMTP_URL security mail would stay in a local mailbox nobody reads. `settle start`
// refuses with one line naming the variable, and exits non-zero before opening anything.
// Method: the real `settle start` process (bin/settle.mjs) with a settle.config.json naming a chain.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const KEY = Buffer.alloc(32, 7).toString('base64');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(env: Record<string, string>, args: string[] = [], chains = true): { code: number | null; err: string; data: string } {
  const data = mkdtempSync(join(tmpdir(), 'settle-start-'));
  dirs.push(data);
  const file = join(data, 'settle.config.json');
  writeFileSync(file, JSON.stringify(chains ? { chains: [{ chain_id: 5, name: 'Testnet', rpc_url: 'http://127.0.0.1:1', native: { symbol: 'ETH', decimals: 18 } }] } : {}));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SETTLE_')));
  const r = spawnSync(process.execPath, ['bin/settle.mjs', 'start', ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 30_000,
    env: { ...clean, SETTLE_LOG_LEVEL: 'warn', SETTLE_DATA_DIR: data, SETTLE_CONFIG: file, SETTLE_PORT: '0', ...env },
  });
  return { code: r.status, err: `${r.stderr}${r.stdout}`, data };
}

describe('settle start with chains configured', () => {
  it('refuses to start without SETTLE_ENCRYPTION_KEY, naming it, and generates no key', () => {
    const r = start({ SETTLE_SMTP_URL: 'smtp://mail.example:587' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SETTLE_ENCRYPTION_KEY');
    expect(existsSync(join(r.data, 'encryption.key'))).toBe(false);
  });

  it('refuses to start without SETTLE_SMTP_URL, naming it', () => {
    const r = start({ SETTLE_ENCRYPTION_KEY: KEY });
    expect(r.code).toBe(2);
    expect(r.err).toContain('SETTLE_SMTP_URL');
  });
});

// Issue 15: api and worker processes share one database, so they must share one key; a key
// generated per data dir would leave each unable to open what the others sealed.
describe('settle start --role api|worker', () => {
  it.each(['api', 'worker'])('--role %s refuses to start without SETTLE_ENCRYPTION_KEY, even without chains, and generates no key', (role) => {
    const r = start({}, ['--role', role], false);
    expect(r.code).toBe(2);
    expect(r.err).toContain('SETTLE_ENCRYPTION_KEY');
    expect(r.err).toContain(`--role ${role}`);
    expect(existsSync(join(r.data, 'encryption.key'))).toBe(false);
  });

  it('refuses an unknown role, naming the choices', () => {
    const r = start({ SETTLE_ENCRYPTION_KEY: KEY }, ['--role', 'both'], false);
    expect(r.code).toBe(2);
    expect(r.err).toContain('api, worker, all');
  });
});
