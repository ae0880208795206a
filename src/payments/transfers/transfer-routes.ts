// POST /transfers: Idempotency-Key required; refused during a global maintenance window.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ProblemError } from '../../shared/errors.ts';
import { requirePrincipal } from '../../shared/principal.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import type { Transfers } from './transfers.ts';

const Problem = Type.Object({ type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String(), code: Type.String() }, { additionalProperties: true });

export function transferRoutes(deps: PaymentViewDeps & { transfers: Transfers }): FastifyPluginAsync {
  // A transfer just created knows its recipient's email: the answer needs no lookup for it.
  const knownCounterparty: PaymentViewDeps = { ...deps, emailsOf: undefined };
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/transfers',
      {
        config: { idempotent: true, moneyMoving: 'global' },
        schema: {
          tags: ['payments'],
          summary: 'Send to another Settle user by email, instantly',
          security: [{ bearer: [] }],
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
          body: Type.Object(
            {
              to_email: Type.String({ minLength: 3, maxLength: 254 }),
              asset: Type.String({ pattern: '^[A-Z0-9]{2,12}$' }),
              amount: Type.String({ pattern: '^(0|[1-9][0-9]{0,77})(\\.[0-9]{1,36})?$' }),
              memo: Type.Optional(Type.String({ maxLength: 140 })),
            },
            { additionalProperties: false },
          ),
          response: { 201: PaymentSchema, '4xx': Problem, 503: Problem },
        },
      },
      async (req, reply) => {
        const me = requirePrincipal(req.principal);
        // API keys are for merchants' invoices and reads; moving a user's money needs a session.
        if (me.kind !== 'session') throw new ProblemError(403, 'session_required', 'Transfers need a signed-in session, not an API key.');
        const { payment, timeline, counterparty } = await deps.transfers.send(me.user_id, req.body, req.idempotency?.key ?? null, { privileged_until_ms: me.privileged_until_ms });
        const ctx = await dtoContext(counterparty ? knownCounterparty : deps, req, me, [payment], 'dto');
        if (counterparty) ctx.counterparties = new Map([[counterparty.user_id, counterparty.email]]);
        return reply.code(201).send(toPaymentDto(payment, timeline, ctx));
      },
    );
  };
}
