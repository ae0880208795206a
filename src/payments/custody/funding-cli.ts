// `settle chain record-funding <chain_id> <tx_hash> --by <admin email>`: books an operator top-up
// of the chain's hot wallet from the chain itself (see funding.ts), audited under the named admin.
// Exits 0 when booked now or already booked before, 1 when the chain refutes it (with the reason),
// 2 for a usage error (unknown chain, --by not an admin).
import { privateKeyToAddress } from 'viem/accounts';
import { CliError, requireFlag, type Command } from '../../shared/cli-kit.ts';
import type { CliContext } from '../../db/configured-db.ts';
import type { Config } from '../../config.ts';
import type { Hex } from '../../chain/chain.ts';
import { chainsForCli, DEV_CHAIN_ID } from '../../chain/chain.ts';
import { createEvmClient } from '../../chain/chain.ts';
import { devHotWalletKey } from '../../chain/chain.ts';
import { createLedger } from '../../ledger/ledger.ts';
import { systemClock } from '../../shared/clock.ts';
import { formatAmount } from '../../shared/money.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { recordFunding } from './funding.ts';

/** The hot wallet address of a chain as the platform would run it: the configured key, or the dev key on the dev chain. */
export function hotWalletAddressFor(config: Pick<Config, 'hot_wallet_private_key'>, chain_id: number): Hex | null {
  const key = (config.hot_wallet_private_key as Hex | null) ?? (chain_id === DEV_CHAIN_ID ? devHotWalletKey() : null);
  return key ? (privateKeyToAddress(key).toLowerCase() as Hex) : null;
}

export const fundingCommands: Array<Command<CliContext>> = [
  {
    path: ['chain', 'record-funding'],
    summary: "book an operator top-up of a chain's hot wallet (operator capital), verified on chain",
    usage: 'settle chain record-funding <chain_id> <tx_hash> --by <admin email>',
    args: '<chain_id> <tx_hash>',
    flags: { by: 'email of the admin who records it (written to the audit log)' },
    async run(args, io, ctx) {
      const [chainArg, tx_hash] = args.positionals;
      if (!chainArg || !tx_hash) throw new CliError('usage: settle chain record-funding <chain_id> <tx_hash> --by <admin email>');
      const by = requireFlag(args, 'by').toLowerCase();
      const base = ctx.config();
      const chains = chainsForCli(base);
      const chain = chains.find((c) => String(c.chain_id) === chainArg);
      if (!chain) throw new CliError(`chain ${chainArg} is not configured (configured: ${chains.map((c) => c.chain_id).join(', ') || 'none'})`);
      const db = ctx.openDb();
      const ledger = createLedger(db, systemClock);
      try {
        const staff = await db.kysely.selectFrom('users').select(['id', 'roles']).where('email', '=', by).executeTakeFirst();
        if (!staff || !(JSON.parse(staff.roles) as string[]).includes('admin')) throw new CliError(`${by} is not an admin: only an admin may book operator capital`);
        const client = createEvmClient({ chain_id: chain.chain_id, rpc_url: chain.rpc_url });
        const r = await recordFunding({ db, ledger, clock: systemClock }, { chain, client, hot: hotWalletAddressFor(base, chain.chain_id), tx_hash, actor: { user_id: staff.id, via: 'cli' } });
        if (!r.ok) {
          io.err(`refused (${r.code}): ${r.detail}`);
          return 1;
        }
        const decimals = new Map(chainAssets(chain).map((a) => [a.code, a.decimals]));
        for (const i of r.items) io.out(`${i.result === 'ok' ? 'booked' : 'exists'} ${formatAmount(i.amount_minor, decimals.get(i.asset) ?? 0)} ${i.asset} (${i.transfer_id})`);
        io.out(r.result === 'ok' ? `recorded: ${r.tx_hash} (block ${r.block_number}) funded the hot wallet of chain ${chain.chain_id}` : `already recorded: ${r.tx_hash}; nothing booked again`);
        return 0;
      } finally {
        await ledger.drain();
        await db.close();
      }
    },
  },
];
