// Starts the anvil binary shipped inside the npm package @foundry-rs/anvil (never through npx,
// so that we hold its pid and can stop it), waits until it listens, and stops it by pid.
// Used by the embedded dev chain (npm start) and by every chain test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface AnvilOptions {
  /** 0 picks a free port. */
  port?: number;
  chain_id?: number;
  /** Interval mining in seconds; undefined = mine on every transaction (automine). */
  block_time_s?: number;
  /** Keep state across restarts in this file (anvil --state, dumped every few seconds and on exit). */
  state_path?: string;
  state_interval_s?: number;
  mnemonic?: string;
  accounts?: number;
  balance_eth?: number;
  /** Start with mining off (tests mine by hand). */
  no_mining?: boolean;
  extra_args?: string[];
}

export interface AnvilHandle {
  rpc_url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Dev only: the local dev chain's mnemonic, anvil's well-known default. Its keys are public, so it
 * is valid only on a local anvil (the dev chain's payers, deployer and hot wallet); production
 * wallets never derive from it (a configured hot-wallet key and deposit mnemonic replace it).
 */
export const DEV_CHAIN_MNEMONIC = 'test test test test test test test test test test test junk';

export function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const path = join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(path)) throw new Error(`anvil binary not found at ${path} (is ${pkg} installed?)`);
  return path;
}

/** const anvil = await startAnvil({ block_time_s: 1 }); … await anvil.stop() */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilHandle> {
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--chain-id', String(opts.chain_id ?? 31337)];
  args.push('--mnemonic', opts.mnemonic ?? DEV_CHAIN_MNEMONIC, '--accounts', String(opts.accounts ?? 10), '--balance', String(opts.balance_eth ?? 10_000));
  if (opts.block_time_s !== undefined) args.push('--block-time', String(opts.block_time_s));
  if (opts.no_mining) args.push('--no-mining');
  if (opts.state_path) args.push('--state', opts.state_path, '--state-interval', String(opts.state_interval_s ?? 5));
  args.push(...(opts.extra_args ?? []));
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`anvil did not start within 20 s:\n${out.slice(-2000)}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Listening on [^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with code ${code} before listening:\n${out.slice(-2000)}`));
    });
  });
  // Keep draining output so that a full pipe never blocks anvil.
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    rpc_url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
