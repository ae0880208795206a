// The support desk, wired (the part of the composition root support hands to platform.ts):
// the face built with its evidence sources — the payment with its timeline, the diagnosis with
// the chain's own view, the account's standing — and its routes, event renderer and workers.
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../shared/clock.ts';
import type { Locale } from '../shared/i18n.ts';
import type { Principal } from '../shared/principal.ts';
import type { RouteModule } from '../http/typed-app.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { getPayment, toPaymentDto, type Payment } from '../payments/payments.ts';
import { dtoContext, type PaymentViewDeps } from '../payments/payment-routes.ts';
import { createDiagnosis, type DiagnosisChainDeps } from '../payments/diagnosis/diagnosis.ts';
import type { Hex } from '../chain/chain.ts';
import { createSupport, type OpenCaseInput, type Prepared } from './support.ts';
import { supportRoutes } from './support-routes.ts';
import { agentRoutes } from './agent-routes.ts';
import { caseEventRenderer } from './support-events.ts';
import { chainWaitMessage } from './support-messages.ts';
import { createStuckCases } from './support-stuck.ts';
import { slaHooks } from './support-sla.ts';
import { BREACH_EVERY_MS, createBreachWorker } from './support-sla-breach.ts';
import { slaRoutes } from './sla-routes.ts';
import { intervalWorker, type IntervalWorker } from '../jobs/jobs.ts';

export interface SupportWiringDeps {
  db: Db;
  clock: Clock;
  config: Config;
  accounts: Accounts;
  view: PaymentViewDeps;
  diagnosisChain?: DiagnosisChainDeps | (() => DiagnosisChainDeps | undefined);
  webhooks: { registerRenderer(aggregate_type: string, render: (event: { type: string; payload: string }) => Promise<{ user_id: string; data: unknown } | null>): void };
  routes: RouteModule[];
}

export interface EvidenceSources {
  /** The evidence of a case about a payment, hash or trade of this user, and the automatic chain answer. */
  prepare(input: Pick<OpenCaseInput, 'user_id' | 'payment_id' | 'tx_hash' | 'trade_id'>): Promise<Prepared>;
}

/** Statuses in which a payment waits on the chain or a window, not on a person. */
function waitsOnChain(p: Payment): boolean {
  return p.status === 'pending' || p.status === 'confirming' || p.status === 'broadcast' || (p.status === 'held' && p.hold?.reason === 'maintenance');
}

/** evidenceSources(deps).prepare({ user_id, tx_hash }) -> { evidence: [diagnosis, payment, account], chain_wait } */
export function evidenceSources(deps: Pick<SupportWiringDeps, 'db' | 'config' | 'accounts' | 'view' | 'diagnosisChain'>): EvidenceSources {
  const diagnosis = createDiagnosis({ db: deps.db, config: deps.config }, deps.diagnosisChain);

  async function paymentDto(id: string, locale: Locale) {
    const found = await getPayment(deps.db.kysely, id);
    if (!found) return null;
    const ctx = await dtoContext(deps.view, null, { locale } as Principal, [found.payment]);
    return { payment: found.payment, dto: toPaymentDto(found.payment, found.timeline, ctx) };
  }

  return {
    async prepare(input) {
      const user_id = input.user_id ?? null;
      if (!user_id) return { evidence: [], chain_wait: null };
      const evidence: Prepared['evidence'] = [];
      const user = await deps.accounts.getUser(user_id);
      const locale: Locale = user?.locale ?? 'en';
      let payment_id = input.payment_id ?? null;
      if (input.tx_hash) {
        const f = await diagnosis.byHash({ user_id, locale: 'en' }, input.tx_hash.toLowerCase() as Hex).catch((e: unknown) => ({ kind: 'error' as const, error: String((e as { code?: string }).code ?? e) }));
        if (f.kind === 'payment') payment_id ??= f.payment.id;
        evidence.push({ kind: 'diagnosis', data: f.kind === 'payment' ? { verdict: null, payment_id: f.payment.id, status: f.payment.status, chain: f.chain } : f.kind === 'chain' ? { verdict: f.verdict, code: f.code, chain: f.chain } : { error: f.error } });
      } else if (payment_id) {
        const f = await diagnosis.byPayment(user_id, payment_id).catch(() => null);
        if (f) evidence.push({ kind: 'diagnosis', data: f.kind === 'payment' ? { payment_id: f.payment.id, status: f.payment.status, chain: f.chain } : { verdict: f.verdict, code: f.code, chain: f.chain } });
      }
      const found = payment_id ? await paymentDto(payment_id, locale) : null;
      const mine = found && found.payment.user_id === user_id ? found : null;
      if (mine) evidence.push({ kind: 'payment', data: (await paymentDto(mine.payment.id, 'en'))!.dto });
      if (user) {
        const view = await deps.accounts.staffView(user_id).catch(() => null);
        evidence.push({ kind: 'account', data: { status: user.status, kyc_level: user.kyc_level, freezes: user.freezes, cooldown_until: user.cooldown_until, pending_unfreeze_request_id: view?.pending_unfreeze_request_id ?? null } });
      }
      const chain_wait = mine && waitsOnChain(mine.payment) ? { body: chainWaitMessage(locale, mine.dto.explanation.message, mine.dto.explanation.eta) } : null;
      return { evidence, chain_wait };
    },
  };
}

/**
 * const support = wireSupport({ db, clock, config, accounts, view, webhooks, routes }): the face,
 * its customer and agent routes, and `case` events rendered for webhooks and the event feed.
 */
/** How often the stuck-case and payment-follower consumers look at the outbox. */
export const FOLLOW_EVERY_MS = 2000;

export function wireSupport(deps: SupportWiringDeps) {
  const { db, clock, config, accounts } = deps;
  const evidence = evidenceSources(deps);
  const support = createSupport({
    db, clock, config,
    isStaffUser: async (user_id) => ((await accounts.getUser(user_id))?.roles ?? []).some((r) => r === 'agent' || r === 'risk' || r === 'admin'),
    prepare: (input) => evidence.prepare(input),
    ...slaHooks(clock),
  });
  deps.webhooks.registerRenderer('case', caseEventRenderer(support));
  deps.routes.push(
    { name: 'support', plugin: supportRoutes({ support, clock, attachment_bytes_max: config.limits.support_attachment_bytes_max }) },
    { name: 'agent', plugin: agentRoutes({ support, clock }) },
    { name: 'support-sla', plugin: slaRoutes({ db, clock }) },
  );
  const stuck = createStuckCases({
    db, clock, engine: support.engine,
    prepare: (input) => evidence.prepare(input),
    userInfo: async (user_id) => {
      const u = await accounts.getUser(user_id);
      return u ? { email: u.email, locale: u.locale } : null;
    },
    public_url: config.public_url,
  });
  const breaches = createBreachWorker({ db, clock, engine: support.engine, emailOf: async (id) => (await accounts.getUser(id))?.email ?? null, public_url: config.public_url });
  const workers: IntervalWorker[] = [
    intervalWorker('support.sla_breaches', BREACH_EVERY_MS, () => breaches.tick()),
    intervalWorker('support.stuck_cases', FOLLOW_EVERY_MS, () => stuck.stuckTick()),
    intervalWorker('support.payment_moves', FOLLOW_EVERY_MS, () => stuck.movesTick()),
  ];
  return { support, evidence, stuck: { ...stuck, breachTick: () => breaches.tick() }, workers };
}
