// POST /diagnose ("where is my money"): a thin handler over diagnosis.ts, which finds the answer
// from the records and the chains; here it is shaped as the contract's diagnosis (API.md): the
// caller's payment with its own explanation, or a verdict from the chain alone.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Hex } from '../../chain/chain.ts';
import { requireScope } from '../../shared/principal.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { explainDiagnosis } from '../payment-messages.ts';
import { dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import { getPayment } from '../payments.ts';
import { createDiagnosis, verdictOf, type DiagnosisChainDeps } from './diagnosis.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DiagnosisChainSchema = Type.Object({
  found: Type.Boolean(),
  chain_id: Nullable(Type.Integer()),
  block_number: Nullable(Type.Integer()),
  confirmations: Nullable(Type.Integer()),
  status: Nullable(Type.String({ description: 'success | reverted | pending' })),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  token: Nullable(Type.String({ description: 'token contract; null for the native coin' })),
  asset: Nullable(Type.String({ description: 'Settle asset code; null when Settle does not carry it' })),
  amount: Nullable(Type.String({ description: 'in the asset units; in base units when asset is null' })),
});

export const DiagnosisSchema = Type.Object({
  verdict: Type.String(),
  explanation: Type.Object({ code: Type.String(), message: Type.String(), eta: Nullable(Type.String()), next_action: Type.String() }),
  payment: Nullable(PaymentSchema),
  chain: Nullable(DiagnosisChainSchema),
});

export function diagnosisRoutes(deps: PaymentViewDeps, chainDeps?: DiagnosisChainDeps | (() => DiagnosisChainDeps | undefined)): FastifyPluginAsync {
  const diagnosis = createDiagnosis(deps, chainDeps);
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/diagnose',
      {
        schema: {
          tags: ['payments'],
          summary: 'Where is my money: a verdict on a transaction hash or payment id, from the records and the chain',
          security: [{ bearer: [] }],
          body: Type.Union([
            Type.Object({ tx_hash: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }) }, { additionalProperties: false }),
            Type.Object({ payment_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
          ]),
          response: {
            200: DiagnosisSchema,
            '4xx': Type.Object({ code: Type.String() }, { additionalProperties: true }),
            '5xx': Type.Object({ code: Type.String() }, { additionalProperties: true }),
          },
        },
      },
      async (req) => {
        const me = requireScope(req.principal, 'payments:read');
        const f = 'payment_id' in req.body ? await diagnosis.byPayment(me.user_id, req.body.payment_id) : await diagnosis.byHash(me, req.body.tx_hash.toLowerCase() as Hex);
        if (f.kind === 'chain') return { verdict: f.verdict, explanation: { code: f.code, ...explainDiagnosis(f.code, me.locale, f.params ?? {}), eta: null }, payment: null, chain: f.chain };
        // The payment as it is now (the diagnosis may just have recorded it), explained in the caller's locale.
        const found = await getPayment(deps.db.kysely, f.payment.id);
        const ctx = await dtoContext(deps, req, me, [found!.payment]);
        const dto = toPaymentDto(found!.payment, found!.timeline, ctx);
        return { verdict: verdictOf(found!.payment.status), explanation: dto.explanation, payment: dto, chain: f.chain };
      },
    );
  };
}
