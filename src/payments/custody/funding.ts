// Recording an operator top-up of a hot wallet ("operator capital"), by transaction hash.
//
// A person says "this transaction funded the hot wallet"; the platform believes only the chain:
// the transaction must be mined, successful, deep enough (the same confirmation tiers as a
// deposit of that amount), not one of the platform's own transactions (a sweep into the hot
// wallet is booked as a sweep), not sent from one of the platform's own receiving addresses
// (those coins are already in custody), and must move a configured asset to the hot wallet.
// Exactly what it moved is booked debit hot_wallet / credit external, once per (chain, tx hash,
// log index); a second recording answers `exists`. The booking and its audit row commit together.
//
// Withdrawing surplus capital back to the operator is out of scope: there is no flow for it yet
// (it would be a hot-wallet transaction booked external <- hot_wallet, with four-eyes approval).
import type { PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Hex } from '../../chain/chain.ts';
import { isOwnTransaction } from '../../chain/chain.ts';
import { bookFunding, fundingFromTx, type FundingItem } from './hot-wallet-funding.ts';
import type { Clock } from '../../shared/clock.ts';
import { newId } from '../../shared/ids.ts';
import { chainAssets, requiredConfirmations } from '../deposits/deposit-rules.ts';

export type FundingRefusal = 'invalid_tx_hash' | 'not_found' | 'failed_on_chain' | 'nothing_to_hot_wallet' | 'own_transaction' | 'from_own_address' | 'not_deep_enough' | 'no_hot_wallet';

export type RecordFundingResult =
  | { ok: true; result: 'ok' | 'exists'; tx_hash: Hex; block_number: number; items: Array<FundingItem & { result: 'ok' | 'exists' }> }
  | { ok: false; code: FundingRefusal; detail: string };

export interface RecordFundingInput {
  chain: ChainConfigFile;
  client: PublicClient;
  /** The chain's hot wallet address, or null when the chain has none. */
  hot: Hex | null;
  tx_hash: string;
  /** Who records it (a staff user id) and from where: written to the audit log. */
  actor: { user_id: string; via: 'cli' | 'api'; ip?: string | null; request_id?: string | null };
}

async function isOwnReceivingAddress(db: Db, chain_id: number, address: string): Promise<boolean> {
  const a = address.toLowerCase();
  const [user, invoice] = await Promise.all([
    db.kysely.selectFrom('deposit_addresses').select('address').where('chain_id', '=', chain_id).where('address', '=', a).executeTakeFirst(),
    db.kysely.selectFrom('invoices').select('address').where('chain_id', '=', chain_id).where('address', '=', a).executeTakeFirst(),
  ]);
  return user !== undefined || invoice !== undefined;
}

/**
 * const r = await recordFunding({ db, ledger, clock }, { chain, client, hot, tx_hash, actor: { user_id, via: 'cli' } })
 * r.ok ? r.result ('ok' booked now | 'exists' booked before) : r.code (why it was refused)
 */
export async function recordFunding(deps: { db: Db; ledger: Ledger; clock: Clock }, input: RecordFundingInput): Promise<RecordFundingResult> {
  const { db, ledger, clock } = deps;
  const chain_id = input.chain.chain_id;
  if (!/^0x[0-9a-fA-F]{64}$/.test(input.tx_hash)) return { ok: false, code: 'invalid_tx_hash', detail: 'a transaction hash is 0x followed by 64 hex digits' };
  if (!input.hot) return { ok: false, code: 'no_hot_wallet', detail: `chain ${chain_id} has no hot wallet configured` };
  const tx_hash = input.tx_hash.toLowerCase() as Hex;
  if (await isOwnTransaction(db.kysely, tx_hash)) return { ok: false, code: 'own_transaction', detail: `${tx_hash} is one of the platform's own transactions (a sweep or a withdrawal): it is booked by its own flow` };
  const assets = chainAssets(input.chain);
  const found = await fundingFromTx(input.client, chain_id, input.hot, { native: assets.find((a) => a.token === null)?.code ?? null, tokens: assets.flatMap((a) => (a.token ? [{ code: a.code, contract: a.token }] : [])) }, tx_hash);
  if (!found.ok) return found;
  if (await isOwnReceivingAddress(db, chain_id, found.from)) return { ok: false, code: 'from_own_address', detail: `${tx_hash} was sent from ${found.from}, one of the platform's own receiving addresses: those coins are already in custody` };
  const head = await input.client.getBlockNumber({ cacheTime: 0 });
  const depth = Number(head - found.block_number) + 1;
  for (const item of found.items) {
    const tiers = assets.find((a) => a.code === item.asset)?.tiers ?? [];
    const need = requiredConfirmations(tiers, item.amount_minor);
    if (depth < need) return { ok: false, code: 'not_deep_enough', detail: `${tx_hash} has ${depth} confirmation(s); ${item.asset} of this amount needs ${need} before it is booked (try again later)` };
  }
  const now = clock.now_ms();
  const booked = await db.transaction(async (trx) => {
    const results = await bookFunding(ledger, found.items, `funding:${chain_id}:${tx_hash}`, trx);
    if (results.some((r) => r.result === 'ok')) {
      await trx
        .insertInto('audit_log')
        .values({
          id: newId('aud', now), at_ms: now, actor_type: 'staff', actor_id: input.actor.user_id, action: 'hot_wallet_funding_recorded',
          subject_type: 'chain_tx', subject_id: `${chain_id}:${tx_hash}`, ip: input.actor.ip ?? null, user_agent: null, request_id: input.actor.request_id ?? null,
          details: JSON.stringify({ via: input.actor.via, hot_wallet: input.hot, from: found.from, items: results.map((r) => ({ asset: r.item.asset, amount_minor: r.item.amount_minor.toString(), log_index: r.item.log_index, result: r.result })) }),
        })
        .execute();
    }
    return results;
  });
  return {
    ok: true,
    result: booked.every((b) => b.result === 'exists') ? 'exists' : 'ok',
    tx_hash,
    block_number: Number(found.block_number),
    items: booked.map((b) => ({ ...b.item, result: b.result })),
  };
}
