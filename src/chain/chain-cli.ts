// `settle dev pay` / `settle dev mine` (the local dev chain, found through the data dir) and the
// per-chain `settle doctor` check (reachable, chain id, head, scan lag).
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { CliError, type CliIo, type Command } from '../shared/cli-kit.ts';
import type { CliContext } from '../db/configured-db.ts';
import { parseAmount } from '../shared/money.ts';
import type { Hex } from './chain-types.ts';
import { DEV_PAYER_INDEXES, readDevChainInfo } from './dev-chain.ts';
import { createEvmClient, createEvmReader } from './evm.ts';
import { anvilAccount, sendNative, sendTokenTransfer } from './test-usdt.ts';

function runningDevChain(config: Config) {
  const info = readDevChainInfo(config.data_dir);
  if (!info) throw new CliError(`no dev chain found in ${config.data_dir} (start one with: npm start, with no chain configured)`);
  return info;
}

export const chainCommands: Array<Command<CliContext>> = [
  {
    path: ['dev', 'pay'],
    summary: 'pay a deposit address on the local dev chain from an outside wallet',
    usage: 'settle dev pay <address> <amount> [USDT|ETH] [--from 1..5]',
    args: '<address> <amount> [USDT|ETH]',
    flags: { from: 'which funded outside account pays (1 to 5, default 1)' },
    async run(args, io, ctx) {
      const [to, amount, asset = 'USDT'] = args.positionals;
      if (!to || !/^0x[0-9a-fA-F]{40}$/.test(to)) throw new CliError('usage: settle dev pay <address> <amount> [USDT|ETH]');
      if (asset !== 'USDT' && asset !== 'ETH') throw new CliError(`asset must be USDT or ETH, got ${asset}`);
      const parsed = parseAmount(amount ?? '', asset === 'USDT' ? 6 : 18);
      if (!parsed.ok || parsed.amount_minor === 0n) throw new CliError(`amount must be a positive decimal (${parsed.ok ? 'zero' : parsed.reason.replace(/_/g, ' ')})`);
      const from = Number(typeof args.flags.from === 'string' ? args.flags.from : 1);
      if (!DEV_PAYER_INDEXES.includes(from)) throw new CliError('--from must be 1 to 5');
      const info = runningDevChain(ctx.config());
      const payer = anvilAccount(from);
      const client = createEvmClient({ chain_id: info.chain_id, rpc_url: info.rpc_url });
      const target = to.toLowerCase() as Hex;
      const hash =
        asset === 'USDT'
          ? await sendTokenTransfer(info.rpc_url, info.chain_id, info.usdt, payer, target, parsed.amount_minor)
          : await sendNative(info.rpc_url, info.chain_id, payer, target, parsed.amount_minor);
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 250, timeout: 30_000 });
      io.out(`sent ${amount} ${asset} from ${payer.address} to ${to}: tx ${hash} in block ${receipt.blockNumber} (${receipt.status})`);
      return receipt.status === 'success' ? 0 : 1;
    },
  },
  {
    path: ['dev', 'mine'],
    summary: 'mine blocks on the local dev chain now',
    usage: 'settle dev mine [blocks]',
    args: '[blocks]',
    async run(args, io, ctx) {
      const blocks = Number(args.positionals[0] ?? 1);
      if (!Number.isInteger(blocks) || blocks < 1 || blocks > 10_000) throw new CliError('blocks must be 1 to 10000');
      const info = runningDevChain(ctx.config());
      const client = createEvmClient({ chain_id: info.chain_id, rpc_url: info.rpc_url });
      await client.request({ method: 'anvil_mine' as never, params: [`0x${blocks.toString(16)}`] as never });
      io.out(`mined ${blocks} block(s); head is now ${await client.getBlockNumber()}`);
      return 0;
    },
  },
];

/**
 * settle doctor: each chain reachable, the right chain id, its head, and how far the scanner lags.
 * The scanner's position is payments' to read (its table): cli.ts passes `scannerNext`, which
 * answers the next block to scan on a chain, or null when none is stored.
 * doctorChecks.push(chainDoctorCheck(scannerNextBlock))
 */
export function chainDoctorCheck(scannerNext: (db: Db, chain_id: number) => Promise<number | null>): (ctx: CliContext, io: CliIo) => Promise<number> {
  return (ctx, io) => checkChains(ctx, io, scannerNext);
}

async function checkChains(ctx: CliContext, io: CliIo, scannerNext: (db: Db, chain_id: number) => Promise<number | null>): Promise<number> {
  const config = ctx.config();
  const dev = config.chains.length === 0 ? readDevChainInfo(config.data_dir) : null;
  const chains = config.chains.length ? config.chains.map((c) => ({ chain_id: c.chain_id, name: c.name, rpc_url: c.rpc_url })) : dev ? [{ chain_id: dev.chain_id, name: 'Local dev chain', rpc_url: dev.rpc_url }] : [];
  if (chains.length === 0) {
    io.out('ok   chains: none configured (npm start runs the local dev chain)');
    return 0;
  }
  let failures = 0;
  const db = ctx.openDb();
  try {
    for (const c of chains) {
      const reader = createEvmReader({ chain_id: c.chain_id, rpc_url: c.rpc_url, retries_max: 0, timeout_ms: 5000 });
      try {
        const [id, head] = await Promise.all([reader.chainId(), reader.head()]);
        if (id !== c.chain_id) {
          failures++;
          io.out(`FAIL chain ${c.name}: ${c.rpc_url} answers chain id ${id}, configured ${c.chain_id}`);
          continue;
        }
        const next = await scannerNext(db, c.chain_id);
        const lag = next === null ? 'not scanned yet' : `${Math.max(0, head - (next - 1))} block(s) behind`;
        io.out(`ok   chain ${c.name} (${c.chain_id}): reachable, head ${head}, scanner ${lag}`);
      } catch (error) {
        failures++;
        io.out(`FAIL chain ${c.name} (${c.chain_id}): ${c.rpc_url} unreachable (${(error as Error).message})`);
      }
    }
  } finally {
    await db.close();
  }
  return failures;
}
