// GET /api/v1/assets (public): what a person needs beside a deposit address — the asset's
// network, minimum deposit, confirmation tiers — and the withdrawal fee shown before
// confirming. Read from the chains configuration only.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.ts';
import { DEFAULT_CONFIRMATIONS_BLOCKS } from './deposit-rules.ts';

const Tier = Type.Object({ max_amount: Type.Union([Type.String(), Type.Null()]), blocks: Type.Integer() });
const AssetInfo = Type.Object({
  asset: Type.String(),
  chain_id: Type.Integer(),
  network: Type.String(),
  decimals: Type.Integer(),
  contract_address: Type.Union([Type.String(), Type.Null()]),
  min_deposit: Type.Union([Type.String(), Type.Null()]),
  confirmations: Type.Array(Tier),
  withdrawal_fee: Type.String(),
  min_withdrawal: Type.Union([Type.String(), Type.Null()]),
});

export function assetInfos(config: Pick<Config, 'chains'>) {
  return config.chains.flatMap((c) => {
    const of = (a: { symbol: string; decimals: number; min_deposit?: string | undefined; min_withdrawal?: string | undefined; withdrawal_fee?: string | undefined; confirmations?: Array<{ max_amount: string | null; blocks: number }> | undefined }, contract: string | null) => ({
      asset: a.symbol, chain_id: c.chain_id, network: c.name, decimals: a.decimals, contract_address: contract,
      min_deposit: a.min_deposit ?? null, confirmations: a.confirmations ?? [{ max_amount: null, blocks: DEFAULT_CONFIRMATIONS_BLOCKS }], withdrawal_fee: a.withdrawal_fee ?? '0', min_withdrawal: a.min_withdrawal ?? null,
    });
    return [...(c.native ? [of(c.native, null)] : []), ...(c.tokens ?? []).map((t) => of(t, t.address.toLowerCase()))];
  });
}

export function assetRoutes(config: Pick<Config, 'chains'>): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/assets', {
      config: { auth: 'public' },
      schema: { tags: ['payments'], summary: 'Configured assets: network, minimum deposit, confirmation tiers, withdrawal fee (public)', response: { 200: Type.Object({ data: Type.Array(AssetInfo) }) } },
    }, async () => ({ data: assetInfos(config) }));
  };
}
