// POST /deposit-addresses: the caller's address for an asset's chain (201 the first time, 200
// after; one address per user and chain, shared by the chain's assets).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ProblemError } from '../../shared/errors.ts';
import { requirePrincipal } from '../../shared/principal.ts';
import type { Deposits } from './deposits.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });
const DepositAddress = Type.Object({ asset: Type.String(), chain_id: Type.Integer(), address: Type.String() }, { $id: 'DepositAddress' });

export function depositRoutes(deposits: Deposits): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/deposit-addresses',
      {
        schema: {
          tags: ['payments'],
          summary: 'Your deposit address for an asset (stable per user and chain)',
          security: [{ bearer: [] }],
          body: Type.Object({ asset: Type.String({ pattern: '^[A-Z0-9]{2,12}$' }) }, { additionalProperties: false }),
          response: { 200: DepositAddress, 201: DepositAddress, '4xx': Problem, '5xx': Problem },
        },
      },
      async (req, reply) => {
        const me = requirePrincipal(req.principal);
        if (me.status === 'closed') throw new ProblemError(403, 'account_closed', 'A closed account gets no deposit address.');
        const r = await deposits.addressFor(me.user_id, req.body.asset);
        switch (r.result) {
          case 'ok':
            return reply.code(r.created ? 201 : 200).send({ asset: req.body.asset, chain_id: r.chain_id, address: r.address });
          case 'unknown_asset':
            throw new ProblemError(422, 'unknown_asset', `No configured asset is called ${req.body.asset}.`);
          case 'unavailable':
            throw new ProblemError(503, 'chain_unavailable', 'Deposit addresses cannot be issued right now; try again shortly.');
        }
      },
    );
  };
}
