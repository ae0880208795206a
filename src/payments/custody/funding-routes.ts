// POST /admin/chains/{chain_id}/fundings {tx_hash}: an admin records an operator top-up of the
// chain's hot wallet (operator capital). The chain decides what is booked (funding.ts); the
// booking and its audit row commit together; a second recording answers 200 `exists`.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { PublicClient } from 'viem';
import type { ChainConfigFile } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Hex } from '../../chain/chain.ts';
import { enforceRouteAuth } from '../../http/route-auth.ts';
import type { Clock } from '../../shared/clock.ts';
import { ProblemError } from '../../shared/errors.ts';
import { formatAmount } from '../../shared/money.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { recordFunding } from './funding.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const FundingItem = Type.Object({ asset: Type.String(), amount: Type.String(), log_index: Type.Union([Type.Integer(), Type.Null()]), transfer_id: Type.String(), result: Type.Union([Type.Literal('ok'), Type.Literal('exists')]) });
const FundingAnswer = Type.Object({ result: Type.Union([Type.Literal('ok'), Type.Literal('exists')]), chain_id: Type.Integer(), tx_hash: Type.String(), block_number: Type.Integer(), items: Type.Array(FundingItem) });

export interface FundingRouteDeps {
  db: Db;
  ledger: Ledger;
  clock: Clock;
  chains: readonly ChainConfigFile[];
  /** The hot wallet address of a chain, or null. */
  hotWallet: (chain_id: number) => string | null;
  client: (chain: ChainConfigFile) => PublicClient;
}

/** platform.routes.push({ name: 'funding', plugin: fundingRoutes({ db, ledger, clock, chains, hotWallet, client }) }) */
export function fundingRoutes(deps: FundingRouteDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: deps.clock.now_ms() }));
    app.post(
      '/admin/chains/:chain_id/fundings',
      {
        config: { auth: ['admin'] },
        schema: {
          tags: ['staff'],
          summary: "Record an operator top-up of the chain's hot wallet, verified on chain (admin; audited)",
          security: [{ bearer: [] }],
          params: Type.Object({ chain_id: Type.Integer({ minimum: 1 }) }),
          body: Type.Object({ tx_hash: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }) }, { additionalProperties: false }),
          response: { 200: FundingAnswer, 201: FundingAnswer, '4xx': Problem },
        },
      },
      async (req, reply) => {
        const chain = deps.chains.find((c) => c.chain_id === req.params.chain_id);
        if (!chain) throw new ProblemError(404, 'unknown_chain', `Chain ${req.params.chain_id} is not configured.`);
        const r = await recordFunding(deps, {
          chain, client: deps.client(chain), hot: (deps.hotWallet(chain.chain_id) as Hex | null) ?? null, tx_hash: req.body.tx_hash,
          actor: { user_id: req.principal!.user_id, via: 'api', ip: req.ip, request_id: String(req.id) },
        });
        if (!r.ok) throw new ProblemError(r.code === 'no_hot_wallet' ? 409 : 422, r.code, r.detail);
        const decimals = new Map(chainAssets(chain).map((a) => [a.code, a.decimals]));
        reply.code(r.result === 'ok' ? 201 : 200);
        return {
          result: r.result, chain_id: chain.chain_id, tx_hash: r.tx_hash, block_number: r.block_number,
          items: r.items.map((i) => ({ asset: i.asset, amount: formatAmount(i.amount_minor, decimals.get(i.asset) ?? 0), log_index: i.log_index, transfer_id: i.transfer_id, result: i.result })),
        };
      },
    );
  };
}
