// "Where is my money": POST /diagnose answers from Settle's own records (payments, and through
// them the ledger-backed statuses) with a verdict and the next step. SKELETON: the chain side
// (`chain`: what the node says about the hash, and picking up a transaction the scanner has not
// seen yet) is not wired; until it is, a hash Settle has never seen gets the extra verdict
// `not_seen` rather than `not_found` (which is reserved for "the chain has no such transaction").
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { assertNever } from '../../shared/assert.ts';
import { problems } from '../../shared/errors.ts';
import { requireScope } from '../../shared/principal.ts';
import { PaymentSchema, toPaymentDto } from '../payment-dto.ts';
import { dtoContext, type PaymentViewDeps } from '../payment-routes.ts';
import type { PaymentStatus } from '../payment-rules.ts';
import { getPayment, paymentFromRow } from '../payments.ts';

export type Verdict = 'credited' | 'confirming' | 'held' | 'dropped' | 'failed' | 'other_account' | 'not_seen';

/** verdictOf('confirming') -> 'confirming' */
export function verdictOf(status: PaymentStatus): Verdict {
  switch (status) {
    case 'credited':
    case 'completed':
    case 'refunded':
      return 'credited';
    case 'pending':
    case 'confirming':
    case 'requested':
    case 'review':
    case 'broadcast':
      return 'confirming';
    case 'held':
      return 'held';
    case 'dropped':
    case 'reversed':
      return 'dropped';
    case 'failed':
    case 'cancelled':
      return 'failed';
    default:
      return assertNever(status, 'payment status');
  }
}

const EXPLAIN: Record<Verdict, { en: string; 'zh-CN': string }> = {
  credited: { en: 'Settle has this payment and it is complete.', 'zh-CN': 'Settle 已收到该笔支付,且已完成。' },
  confirming: { en: 'Settle has this payment; it is on its way (see its explanation and ETA).', 'zh-CN': 'Settle 已收到该笔支付,正在处理中(见说明与预计时间)。' },
  held: { en: 'Settle has this payment and holds it safely; its explanation says why and what to do.', 'zh-CN': 'Settle 已收到该笔支付并安全保留;说明中写明原因与处理方式。' },
  dropped: { en: 'This transaction was on the chain once and is gone after a reorganisation.', 'zh-CN': '该交易曾上链,但因区块重组已不在链上。' },
  failed: { en: 'This payment failed or was cancelled; nothing is missing.', 'zh-CN': '该支付失败或已取消,资金没有丢失。' },
  other_account: { en: 'This transaction paid an address that is not yours.', 'zh-CN': '该交易支付到的地址不属于您。' },
  not_seen: { en: 'Settle has not seen this transaction. Check the hash, the network and the address you paid.', 'zh-CN': 'Settle 尚未看到该交易。请核对交易哈希、网络与收款地址。' },
};

export function diagnosisRoutes(deps: PaymentViewDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/diagnose',
      {
        schema: {
          tags: ['payments'],
          summary: 'Where is my money: a verdict on a transaction hash or payment id',
          security: [{ bearer: [] }],
          body: Type.Union([
            Type.Object({ tx_hash: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }) }, { additionalProperties: false }),
            Type.Object({ payment_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
          ]),
          response: {
            200: Type.Object({ verdict: Type.String(), explanation: Type.Object({ code: Type.String(), message: Type.String() }), payment: Type.Union([PaymentSchema, Type.Null()]), chain: Type.Null() }),
            '4xx': Type.Object({ code: Type.String() }, { additionalProperties: true }),
          },
        },
      },
      async (req) => {
        const me = requireScope(req.principal, 'payments:read');
        const locale = me.locale;
        let payment_id: string;
        if ('payment_id' in req.body) {
          payment_id = req.body.payment_id;
        } else {
          const rows = await deps.db.kysely.selectFrom('payments').selectAll().where('tx_hash', 'in', [req.body.tx_hash, req.body.tx_hash.toLowerCase()]).limit(20).execute();
          const mine = rows.find((r) => r.user_id === me.user_id);
          if (!mine) {
            // A hash paying someone else's address: say so, reveal nothing about them.
            const verdict: Verdict = rows.length ? 'other_account' : 'not_seen';
            return { verdict, explanation: { code: verdict, message: EXPLAIN[verdict][locale] }, payment: null, chain: null };
          }
          payment_id = paymentFromRow(mine).id;
        }
        const found = await getPayment(deps.db.kysely, payment_id);
        if (!found || found.payment.user_id !== me.user_id) throw problems.notFound('payment');
        const verdict = verdictOf(found.payment.status);
        const ctx = await dtoContext(deps, req, me, [found.payment]);
        return { verdict, explanation: { code: verdict, message: EXPLAIN[verdict][locale] }, payment: toPaymentDto(found.payment, found.timeline, ctx), chain: null };
      },
    );
  };
}
