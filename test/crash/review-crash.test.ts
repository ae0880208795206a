// Goal: staff decisions on reviewed withdrawals survive a platform process that is SIGKILLed while
// they are taken. After every kill, each withdrawal is either still in review (untouched) or
// decided exactly once: one audit row naming the decision and its staff member, an approved one
// back in the broadcast pipeline, a rejected one `failed` with its reservation voided. A decision
// whose answer was lost and is sent again answers consistently — the same outcome (it had not
// committed) or 409 review_closed (it had) — and never takes a second effect. At the end every
// approved withdrawal landed on chain exactly once (fresh recipient holds exactly its amount, one
// hot-wallet nonce each), every rejected one restored the user's balance, the undecided ones keep
// their reservation, and `ledger verify` and `reconcile` are clean.
// Method: the platform listens in test/crash/platform-child.ts (CRASH_SERVE=1) over a real anvil
// mining a block every 700 ms; the test requests withdrawals above `review_above` (the withdrawals
// module, as POST /withdrawals does) each round, and two risk officers send their decisions over
// real HTTP (fetch) in waves: approvals, rejections, a few withdrawals that both decide at once
// (one approves, the other rejects) and a few left undecided. The process dies inside a decision's
// transaction before COMMIT (decision_in_tx), right after a decision committed but before its
// answer (decision_after_commit), right after the hot wallet broadcast an approved withdrawal
// (after_broadcast), or at a random moment after a wave left (0 ms included: right after the
// requests were sent), also while approved withdrawals are being broadcast. Unanswered
// decisions are sent again to the next process, which runs "later" (clock past the 30 s job
// lease), as after a real restart. Runs on each dialect.
import { describe, expect, it } from 'vitest';
import { getAddress, keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { DIALECTS } from '../helpers/db.ts';
import { anvilAccount, sendMint } from '../../src/chain/chain.ts';
import { balanceOfToken } from '../helpers/anvil.ts';
import type { Hex } from '../../src/chain/chain.ts';
import { devHotWalletKey } from '../../src/chain/chain.ts';
import { bookDevFloat } from '../../src/payments/custody/dev-float.ts';
import { platformAccount } from '../../src/payments/custody/chart.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { getPayment } from '../../src/payments/payments.ts';
import { buildPlatformApp } from '../../src/platform.ts';
import { turnOnTotp } from '../helpers/accounts-testkit.ts';
import { crashWorlds, settle, sleep, type Child } from './crash-kit.ts';

const CHAIN = 31337;
type Asset = 'USDT' | 'ETH';
/** How each round's process dies: at a decision point, or killed by the test after a random delay. */
const MODES = ['decision_in_tx', 'decision_after_commit', 'right_after_send', 'after_broadcast', 'random', 'decision_after_commit', 'decision_in_tx', 'random', 'random'] as const;
const POINTS: ReadonlySet<string> = new Set(['decision_in_tx', 'decision_after_commit', 'after_broadcast']);
const PER_ROUND = 4;
/** Past the 30 s job lease of the killed process. */
const LATER_MS = 31_000;
const ANSWER_TIMEOUT_MS = 15_000;
const hot = privateKeyToAccount(devHotWalletKey()).address.toLowerCase() as Hex;

/** What the test decides for a withdrawal: one staff member approves or rejects, both race, or nobody decides. */
type Fate = 'approve' | 'reject' | 'race' | 'leave';
const FATES: readonly Fate[] = ['approve', 'reject', 'race', 'approve', 'reject', 'leave'];

interface Asked {
  id: string;
  user: string;
  asset: Asset;
  to: Hex;
  amount: bigint;
  fate: Fate;
}
/** One decision a staff member sends (again, until it is answered). */
interface Attempt {
  w: Asked;
  staff: number;
  kind: 'approve' | 'reject';
  sent: number;
  /** The answer: 'ok' (200 with the decision's outcome) or 'closed' (409 review_closed); null while none came back. */
  answer: 'ok' | 'closed' | null;
}

describe.each(DIALECTS)('staff review decisions through SIGKILLed platform processes on %s', (dialect) => {
  const worlds = crashWorlds();

  it('decides every reviewed withdrawal at most once; approved ones land on chain once, rejected ones restore the balance', async () => {
    // Every withdrawal of this test is at or above the review threshold.
    // ETH has a price so that these small withdrawals stay below four_eyes_above_usd (one approver each).
    const world = await worlds.open(dialect, (c) => ({ ...c, poll_interval_ms: 50, native: { ...c.native!, review_above: '0.001', usd_price: '3000' }, tokens: c.tokens!.map((x) => ({ ...x, review_above: '1' })) }));
    const { t, env, files, platform: p } = world;
    const db = t.db.kysely;
    const mint = await sendMint(env.anvil.rpc_url, CHAIN, env.usdt, anvilAccount(0), hot, 100_000_000_000n);
    await env.client.waitForTransactionReceipt({ hash: mint, pollingInterval: 20 });
    await bookDevFloat({ ledger: p.ledger, client: env.client, chain: env.chain, hot });

    const users: string[] = [];
    for (let i = 0; i < 3; i++) users.push((await p.accounts.createUserWithRoles(`r${i}@crash.test`, 'correct horse battery staple 9', [])).id);
    const staff: Array<{ id: string; token: string }> = [];
    const app = await buildPlatformApp(p);
    for (let i = 0; i < 2; i++) {
      const s = await p.accounts.createUserWithRoles(`risk${i}@crash.test`, 'correct horse battery staple 9', ['risk']);
      // Staff turn TOTP on (the real flow, through this process's app), which leaves the session stepped up.
      const session = await p.accounts.issueSessionForTests(s.id);
      await turnOnTotp(app, session.token, 'correct horse battery staple 9', Date.now());
      staff.push({ id: s.id, token: session.token });
    }
    await app.close();
    const funded: Record<Asset, bigint> = { USDT: 500_000_000n, ETH: 5n * 10n ** 18n };
    for (const asset of ['USDT', 'ETH'] as const) {
      await p.ledger.ensureAccounts([platformAccount(asset, 'external'), ...users.map((u) => ({ id: ledgerAccountId('user', u, asset, 'user_available'), asset, owner_type: 'user' as const, owner_id: u, kind: 'user_available' as const, flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }))]);
      const r = await p.ledger.createTransfers(users.map((u) => ({ id: `fund:${u}:${asset}`, debit_account_id: platformAccount(asset, 'external').id, credit_account_id: ledgerAccountId('user', u, asset, 'user_available'), amount_minor: funded[asset], asset, reason: 'test.fund', reference: null })));
      expect(r.every((x) => x.result === 'ok')).toBe(true);
    }

    const asked: Asked[] = [];
    const attempts: Attempt[] = [];
    async function request(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const k = asked.length;
        const asset: Asset = k % 2 === 0 ? 'USDT' : 'ETH';
        const to = getAddress(`0x${keccak256(toHex(`review-recipient-${dialect}-${k}`)).slice(26)}`) as Hex;
        const amount = asset === 'USDT' ? BigInt(1 + (k % 9)) * 1_000_000n + BigInt(k) : BigInt(1 + (k % 9)) * 10n ** 15n + BigInt(k);
        const user = users[k % users.length]!;
        const r = await p.withdrawals!.request({ user_id: user, user_status: 'active', idempotency_key: `rv-${k}`, asset, to_address: to, amount_minor: amount });
        expect([r.result, r.payment.status]).toEqual(['created', 'review']);
        const w: Asked = { id: r.payment.id, user, asset, to, amount, fate: FATES[k % FATES.length]! };
        asked.push(w);
        if (w.fate === 'approve' || w.fate === 'race') attempts.push({ w, staff: k % 2, kind: 'approve', sent: 0, answer: null });
        if (w.fate === 'reject' || w.fate === 'race') attempts.push({ w, staff: w.fate === 'race' ? 1 - (k % 2) : k % 2, kind: 'reject', sent: 0, answer: null });
      }
    }

    let port = 0;
    /** One decision over HTTP: true when answered; a lost connection, 5xx or timeout leaves it unanswered. */
    async function send(a: Attempt): Promise<boolean> {
      a.sent++;
      let res: Response;
      try {
        res = await fetch(`http://127.0.0.1:${port}/api/v1/admin/withdrawals/${a.w.id}/${a.kind}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${staff[a.staff]!.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(a.kind === 'approve' ? { note: `approved by ${a.staff}` } : { reason: 'We could not confirm the destination address', note: `rejected by ${a.staff}` }),
          signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
        });
      } catch {
        return false;
      }
      const body = (await res.json().catch(() => null)) as { id?: string; status?: string; code?: string; explanation?: { code: string } } | null;
      if (res.status >= 500) return false;
      if (res.status === 409 && body?.code === 'review_closed') {
        a.answer = 'closed';
        return true;
      }
      // The only other answer is the decision itself, with the payment as it left the decision.
      const outcome = a.kind === 'approve' ? { id: a.w.id, status: 'requested' } : { id: a.w.id, status: 'failed', explanation: expect.objectContaining({ code: 'withdrawal_rejected' }) };
      expect([a.w.id, a.kind, res.status, body]).toEqual([a.w.id, a.kind, 200, expect.objectContaining(outcome)]);
      a.answer = 'ok';
      return true;
    }

    /** The decision a withdrawal carries in the database, checked for exactly-once-ness. */
    async function decidedState(): Promise<Map<string, { decision: 'approve' | 'reject' | null; staff_id: string | null }>> {
      const ids = asked.map((w) => w.id);
      const audit = await db.selectFrom('audit_log').select(['subject_id', 'action', 'actor_id']).where('subject_type', '=', 'withdrawal').where('subject_id', 'in', ids).execute();
      const voids = new Set((await p.ledger.getTransfers(ids.map((id) => `wd:${id}:amount:void`))).map((x) => x.id));
      const out = new Map<string, { decision: 'approve' | 'reject' | null; staff_id: string | null }>();
      for (const w of asked) {
        const row = (await p.withdrawals!.get(w.id))!;
        const mine = audit.filter((x) => x.subject_id === w.id);
        const payment = (await getPayment(db, w.id))!;
        const afterReview = payment.timeline.slice(payment.timeline.findIndex((e) => e.status === 'review') + 1);
        const state = { id: w.id, status: row.status, audit: mine.map((x) => x.action), voided: voids.has(`wd:${w.id}:amount:void`), payment: payment.payment.status, decisions: afterReview.filter((e) => e.code === 'withdrawal_rejected' || (e.status === 'requested')).length };
        if (row.status === 'review') {
          expect(state).toEqual({ ...state, audit: [], voided: false, payment: 'review', decisions: 0 });
          out.set(w.id, { decision: null, staff_id: null });
        } else if (row.status === 'failed') {
          expect(state).toEqual({ ...state, audit: ['withdrawal_review_rejected'], voided: true, payment: 'failed', decisions: 1 });
          expect(row.failure_code).toBe('rejected');
          out.set(w.id, { decision: 'reject', staff_id: mine[0]!.actor_id });
        } else {
          expect(['requested', 'broadcast', 'confirming', 'completed'], JSON.stringify(state)).toContain(row.status);
          expect(state).toEqual({ ...state, audit: ['withdrawal_review_approved'], voided: false, decisions: 1 });
          out.set(w.id, { decision: 'approve', staff_id: mine[0]!.actor_id });
        }
      }
      return out;
    }

    let restarts = 0;
    async function start(point: string | null): Promise<Child> {
      const child = worlds.child({ ...files.env, CRASH_SERVE: '1', CRASH_CLOCK_OFFSET_MS: String(LATER_MS * (restarts + 1)), ...(point ? { CRASH_POINT: point, CRASH_NTH: String(point === 'after_broadcast' ? 1 : 1 + Math.floor(Math.random() * 2)) } : {}) });
      // A process may die at its point (after_broadcast) before it even said it started.
      port = await Promise.race([child.ready, child.exited.then(() => port)]);
      return child;
    }

    const stopMining = worlds.miner(world, 700);
    const kills = new Map<string, number>();
    let lostAfterCommit = 0;
    for (const mode of MODES) {
      const point = POINTS.has(mode) ? mode : null;
      const child = await start(point);
      await request(PER_ROUND);
      const wave = attempts.filter((a) => a.answer === null);
      const sent = wave.map((a) => send(a));
      if (point) {
        // It dies at its point; one that never reaches it is killed anyway.
        await Promise.race([child.exited, sleep(20_000)]);
      } else {
        await sleep(mode === 'right_after_send' ? 0 : Math.floor(Math.random() * 150));
      }
      await child.kill();
      await Promise.all(sent);
      const m = /^crash (\w+)$/m.exec(child.output());
      const key = m ? m[1]! : point ? `${point} (not reached)` : mode;
      kills.set(key, (kills.get(key) ?? 0) + 1);
      restarts++;
      // Between processes: every withdrawal is untouched or decided exactly once, and a decision
      // that committed while its answer was lost is the one its sender made.
      const state = await decidedState();
      for (const a of wave.filter((x) => x.answer === null)) {
        const s = state.get(a.w.id)!;
        if (s.decision === a.kind && s.staff_id === staff[a.staff]!.id) lostAfterCommit++;
      }
    }
    console.log(`review crash test on ${dialect}: kills ${JSON.stringify([...kills])}; ${lostAfterCommit} decision(s) committed with their answer lost`);
    for (const point of POINTS) expect([...kills.keys()], JSON.stringify([...kills])).toContain(point);
    expect(lostAfterCommit, 'some decisions committed but their answer was lost').toBeGreaterThan(0);

    // A last process, never killed: the decisions still unanswered are sent again, and the
    // approved withdrawals are broadcast and confirmed.
    const last = await start(null);
    for (let i = 0; i < 20 && attempts.some((a) => a.answer === null); i++) {
      await Promise.all(attempts.filter((a) => a.answer === null).map((a) => send(a)));
    }
    expect(attempts.filter((a) => a.answer === null)).toEqual([]);
    const open = async () => (await db.selectFrom('payments').select(['id', 'status']).where('kind', '=', 'withdrawal').execute()).filter((r) => !['completed', 'failed', 'review'].includes(r.status));
    for (let i = 0; i < 600 && (await open()).length > 0; i++) await sleep(100);
    expect(await open(), last.output().slice(-3000)).toEqual([]);
    await last.kill();
    stopMining();

    // Each withdrawal's fate: exactly the decision made for it (either one when two raced).
    const state = await decidedState();
    const approved: Asked[] = [];
    for (const w of asked) {
      const s = state.get(w.id)!;
      const mine = attempts.filter((a) => a.w.id === w.id);
      if (w.fate === 'leave') expect(s.decision).toBeNull();
      else if (w.fate === 'race') expect(['approve', 'reject']).toContain(s.decision);
      else expect({ id: w.id, decision: s.decision, staff_id: s.staff_id }).toEqual({ id: w.id, decision: w.fate, staff_id: staff[mine[0]!.staff]!.id });
      if (s.decision === 'approve') approved.push(w);
      // Answers are consistent: the winning decision answered 200 at most once, and 409 only if an
      // attempt of it was lost after it committed (never a second effect); the race's loser got 409.
      const winner = mine.find((a) => a.kind === s.decision && staff[a.staff]!.id === s.staff_id);
      for (const a of mine) {
        const consistent = a === winner ? a.answer === 'ok' || (a.answer === 'closed' && a.sent > 1) : a.answer === 'closed';
        expect({ id: w.id, staff: a.staff, kind: a.kind, won: a === winner, answer: a.answer, sent: a.sent, consistent }).toMatchObject({ consistent: true });
      }
    }
    expect(approved.length).toBeGreaterThan(0);
    expect(asked.some((w) => state.get(w.id)!.decision === 'reject')).toBe(true);

    // On chain exactly once: approved recipients hold exactly their amount, the others nothing;
    // the hot wallet spent one nonce per approved withdrawal.
    for (const w of asked) {
      const got = w.asset === 'USDT' ? await balanceOfToken(env.client, env.usdt, w.to.toLowerCase() as Hex) : await env.client.getBalance({ address: w.to });
      const want = state.get(w.id)!.decision === 'approve' ? w.amount : 0n;
      expect({ id: w.id, got }).toEqual({ id: w.id, got: want });
    }
    expect(await env.client.getTransactionCount({ address: hot, blockTag: 'latest' })).toBe(approved.length);
    const txs = await db.selectFrom('chain_txs').select(['purpose', 'status']).where('from_address', '=', hot).execute();
    expect(txs.map((x) => `${x.purpose}:${x.status}`)).toEqual(approved.map(() => 'withdrawal:confirmed'));
    expect((await db.selectFrom('payments').select('status').where('id', 'in', approved.map((w) => w.id)).execute()).map((x) => x.status)).toEqual(approved.map(() => 'completed'));

    // Balances: what was approved left, what was rejected came back, what waits stays reserved.
    for (const u of users) {
      const b = await p.ledger.balancesOf('user', u, ['USDT', 'ETH']);
      for (const asset of ['USDT', 'ETH'] as const) {
        const sum = (xs: Asked[]) => xs.filter((w) => w.user === u && w.asset === asset).reduce((s, w) => s + w.amount, 0n);
        const waiting = sum(asked.filter((w) => state.get(w.id)!.decision === null));
        expect({ user: u, asset, ...b.find((x) => x.asset === asset) }).toMatchObject({ user: u, asset, available_minor: funded[asset] - sum(approved) - waiting, pending_out_minor: waiting });
      }
    }
    expect((await verifyLedger(db)).problem).toBeNull();
    const verify = settle(['ledger', 'verify'], files.env);
    expect(verify.code, verify.out).toBe(0);
    const reconcile = settle(['reconcile'], files.env);
    expect(reconcile.code, reconcile.out).toBe(0);
  }, 300_000);
});
