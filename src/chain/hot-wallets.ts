// The platform's hot wallets: one Sender per configured chain (the dev chain's when none is
// configured) and the background loop that keeps their open transactions moving.
import { toHex, type PublicClient } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { DEV_CHAIN_MNEMONIC } from './anvil.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import type { Hex } from './chain-types.ts';
import { intervalWorker, unfenced, type IntervalWorker, type TickAround } from '../jobs/jobs.ts';
import { Sender } from './hot-wallet.ts';

/** The anvil test mnemonic's account #9: the dev chain's hot wallet (funded by anvil, used by nothing else). */
export const DEV_HOT_WALLET_INDEX = 9;

/** The dev chain's hot wallet key (public knowledge: only ever valid on a local anvil). */
export function devHotWalletKey(): Hex {
  return toHex(mnemonicToAccount(DEV_CHAIN_MNEMONIC, { addressIndex: DEV_HOT_WALLET_INDEX }).getHdKey().privateKey!);
}

export interface HotWalletsOptions {
  chains: ReadonlyArray<{ chain_id: number; rpc_url: string }>;
  /** config.hot_wallet_private_key; null = dev key on the local dev chain (31337), none elsewhere. */
  private_key: Hex | null;
  /** The dev key, derived by the caller (keeps the mnemonic helpers out of production paths). */
  dev_private_key?: Hex | null;
  db: Db;
  clock: Clock;
  client: (chain: { chain_id: number; rpc_url: string }) => PublicClient;
  stuck_after_ms?: number;
}

/** One hot wallet per configured chain: createHotWallets({ chains, private_key, db, clock, client }).get(31337) */
export function createHotWallets(opts: HotWalletsOptions): Map<number, Sender> {
  const out = new Map<number, Sender>();
  for (const chain of opts.chains) {
    const key = opts.private_key ?? (chain.chain_id === 31337 ? (opts.dev_private_key ?? null) : null);
    if (!key) continue;
    out.set(chain.chain_id, new Sender({ chain_id: chain.chain_id, client: opts.client(chain), private_key: key, db: opts.db, clock: opts.clock, ...(opts.stuck_after_ms ? { stuck_after_ms: opts.stuck_after_ms } : {}) }));
  }
  return out;
}

/**
 * A background loop that refreshes every open transaction of the hot wallets (bounded per
 * tick): the safety net that rebroadcasts after a crash and fills any nonce whose owner (a
 * withdrawal, a sweep) stopped looking.
 */
export function hotWalletWorker(senders: Iterable<Sender>, interval_ms: number, onError: (e: unknown) => void = () => undefined, around: TickAround = unfenced): IntervalWorker {
  return intervalWorker('hot-wallet', interval_ms, () =>
    around(async () => {
      for (const s of senders) await s.refreshOpen(100).catch(onError);
    }),
  );
}
