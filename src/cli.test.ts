// Goal: the `settle` command keeps its promises — --help everywhere (exit 0), one line and a
// non-zero exit for an unknown command, option or argument and for bad configuration;
// `settle migrate` and `settle doctor` work on a fresh SQLite data dir; `settle start` (what
// `npm start` runs) answers /readyz 200 and stops cleanly on SIGTERM.
// Method: main() in-process with captured output for every registered command's --help, and
// bin/settle.mjs as a real child process with SETTLE_DATA_DIR in a temp directory.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, main } from './cli.ts';
import { checkFlags, parseArgs } from './shared/cli-kit.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'settle-cli-'));
  dirs.push(d);
  return d;
}

/** The parent's environment minus Settle settings, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SETTLE_')));
  return { ...clean, SETTLE_LOG_LEVEL: 'warn', ...env };
}

function settle(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/settle.mjs', ...args], { cwd: ROOT, env: childEnv(env), encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

async function capture(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err };
}

describe('settle (in-process)', () => {
  it('answers --help for the whole tool and for every command with exit 0', async () => {
    const all = await capture(['--help']);
    expect(all.code).toBe(0);
    for (const c of COMMANDS) expect(all.out).toContain(c.path.join(' '));
    for (const c of COMMANDS) {
      const r = await capture([...c.path, '--help']);
      expect(r.code, c.path.join(' ')).toBe(0);
      expect(r.out).toContain(`usage: ${c.usage}`);
      expect(r.out).toContain('--help');
      const short = await capture([...c.path, '-h']);
      expect(short.code).toBe(0);
    }
  });

  it('prints the overview and exits 2 without a command', async () => {
    const r = await capture([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: settle <command>');
  });

  it('refuses unknown commands, options and arguments in one line with a non-zero exit', async () => {
    const cmd = await capture(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.err).toEqual(['settle: unknown command "frobnicate" (run settle --help)']);
    const opt = await capture(['migrate', '--force']);
    expect(opt.code).toBe(2);
    expect(opt.err).toEqual(['settle: unknown option --force for "settle migrate" (see --help)']);
    const arg = await capture(['migrate', 'now']);
    expect(arg.code).toBe(2);
    expect(arg.err).toEqual(['settle: unexpected argument "now" for "settle migrate" (see --help)']);
  });

  it('parses flags in both spellings', () => {
    expect(parseArgs(['admin', 'create', '--email', 'a@b.c', '--role=admin', '--yes'])).toEqual({ positionals: ['admin', 'create'], flags: { email: 'a@b.c', role: 'admin', yes: true } });
    expect(parseArgs(['x', '--', '--not-a-flag'])).toEqual({ positionals: ['x', '--not-a-flag'], flags: {} });
    expect(() => checkFlags({ path: ['x'], summary: '', usage: '', args: '<id>', run: async () => 0 }, { positionals: [], flags: {} }, ['id1'])).not.toThrow();
  });
});

// Child processes load the whole source through tsx: seconds each on a busy machine.
describe('bin/settle.mjs (child process)', { timeout: 240_000 }, () => {
  it('--help exits 0; an unknown command exits non-zero with one line on stderr', () => {
    const help = settle(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('migrate');
    const bad = settle(['nope']);
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')).toHaveLength(1);
    expect(bad.out).toBe('');
  });

  it('names a bad setting in one line and exits non-zero', () => {
    const r = settle(['migrate'], { SETTLE_DATA_DIR: tempDir(), SETTLE_PORT: 'eighty' });
    expect(r.code).toBe(2);
    expect(r.err).toBe('settle: SETTLE_PORT must be a whole number, got "eighty"');
  });

  it('doctor fails before migrate, migrate applies, doctor then passes', () => {
    const data = tempDir();
    const before = settle(['doctor'], { SETTLE_DATA_DIR: data });
    expect(before.code).toBe(1);
    expect(before.out).toContain('FAIL migrations');
    const m = settle(['migrate'], { SETTLE_DATA_DIR: data });
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/^applied \d+ migration\(s\) to SQLite .*settle\.db: 2026-11-26T0100_core/);
    expect(existsSync(join(data, 'settle.db'))).toBe(true);
    const after = settle(['doctor'], { SETTLE_DATA_DIR: data });
    expect(after.out).toContain('ok   configuration (defaults)');
    expect(after.out).toContain(`ok   database SQLite ${join(data, 'settle.db')}`);
    expect(after.out).toContain('ok   migrations current');
    expect(after.code, after.out + after.err).toBe(0);
  });

  it('doctor notes an asset without a usd_price (KYC amount limits cannot apply to it)', () => {
    const data = tempDir();
    const file = join(data, 'settle.config.json');
    writeFileSync(file, JSON.stringify({ chains: [{ chain_id: 5, name: 'test', rpc_url: 'http://127.0.0.1:1', native: { symbol: 'ETH', decimals: 18 }, tokens: [{ symbol: 'USDT', decimals: 6, address: `0x${'11'.repeat(20)}` }] }] }));
    const r = settle(['doctor'], { SETTLE_DATA_DIR: data, SETTLE_CONFIG: file });
    expect(r.out).toContain(`note ETH (chain 5) has no usd_price: KYC amount limits do not apply to it, only review_above (set usd_price in ${file})`);
    expect(r.out).not.toMatch(/note USDT/);
  });

  it('start (npm start) migrates, answers /readyz 200, and exits 0 on SIGTERM', async () => {
    const data = tempDir();
    const child = spawn(process.execPath, ['bin/settle.mjs', 'start'], { cwd: ROOT, env: childEnv({ SETTLE_DATA_DIR: data, SETTLE_PORT: '0', SETTLE_LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let log = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "Settle is running" line:\n${log}`)), 90_000);
        const onData = (chunk: Buffer) => {
          log += chunk.toString('utf8');
          const m = /"url":"(http:\/\/[^"]+)".*"msg":"Settle is running"/.exec(log) ?? /"msg":"Settle is running".*"url":"(http:\/\/[^"]+)"/.exec(log);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        void exited.then((code) => reject(new Error(`settle start exited with ${code}:\n${log}`)));
      });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      expect(existsSync(join(data, 'settle.db'))).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
