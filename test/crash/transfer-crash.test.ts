// Goal: a client streams POST /transfers, each with its own Idempotency-Key, to a platform server
// that is SIGKILLed mid-stream (requests in flight) and started again over the same database;
// the client retries every request it got no answer for. Every transfer is applied exactly once
// (one payment pair and one ledger transfer per key, the retried answer names the same payment),
// balances are conserved to the unit (users' balances + fees = what was funded), each user's
// balance is funded − sent − fees + received, and `settle ledger verify` is clean.
// Method: the whole platform listens in test/crash/platform-child.ts (CRASH_SERVE=1); the test
// is a real HTTP client (fetch) with a few requests in flight; the server is killed by pid with
// SIGKILL up to 120 ms after a wave of 16 requests left, at least twice (again while no request
// of a killed wave was left unanswered). Each restarted process runs
// "later" (its clock ahead by more than the 60 s idempotency lock), as after a real restart, so
// a key whose request died in flight is taken over by the retry. Runs on each dialect.
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { platformAccount } from '../../src/payments/custody/chart.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { formatAmount, parseAmount } from '../../src/shared/money.ts';
import { deterministicId } from '../../src/shared/ids.ts';
import { crashWorlds, settle, sleep, type Child } from './crash-kit.ts';

const TRANSFERS = 120;
const IN_FLIGHT = 4;
const KILLS = 2;
const KILLS_MAX = 6;
const KILL_WAVE = 16;
/** Past the 60 s idempotency lock and the 30 s job lease of the killed process. */
const LATER_MS = 61_000;
const DECIMALS = { USDT: 6, ETH: 18 } as const;
type Asset = keyof typeof DECIMALS;

interface Planned {
  key: string;
  from: number;
  to: number;
  asset: Asset;
  amount: bigint;
}
interface Answer {
  id: string;
  fee: bigint;
  replayed: boolean;
}

describe.each(DIALECTS)('POST /transfers to a SIGKILLed server on %s', (dialect) => {
  const worlds = crashWorlds();

  it('applies every transfer exactly once across crashes and retries; balances are conserved', async () => {
    const { t, files, platform: p } = await worlds.open(dialect);

    const users: Array<{ id: string; email: string; token: string }> = [];
    for (let i = 0; i < 4; i++) {
      const u = await p.accounts.createUserWithRoles(`t${i}@crash.test`, 'correct horse battery staple 9', []);
      users.push({ id: u.id, email: u.email, token: (await p.accounts.issueSessionForTests(u.id)).token });
    }
    const funded: Record<Asset, bigint> = { USDT: 10_000_000_000n, ETH: 10n ** 19n };
    for (const asset of ['USDT', 'ETH'] as const) {
      await p.ledger.ensureAccounts([platformAccount(asset, 'external'), ...users.map((u) => ({ id: ledgerAccountId('user', u.id, asset, 'user_available'), asset, owner_type: 'user' as const, owner_id: u.id, kind: 'user_available' as const, flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }))]);
      const r = await p.ledger.createTransfers(users.map((u) => ({ id: `fund:${u.id}:${asset}`, debit_account_id: platformAccount(asset, 'external').id, credit_account_id: ledgerAccountId('user', u.id, asset, 'user_available'), amount_minor: funded[asset], asset, reason: 'test.fund', reference: null })));
      expect(r.every((x) => x.result === 'ok')).toBe(true);
    }

    const plan: Planned[] = Array.from({ length: TRANSFERS }, (_, i) => {
      const from = i % users.length;
      const to = (from + 1 + (i % (users.length - 1))) % users.length;
      const asset: Asset = i % 3 === 0 ? 'ETH' : 'USDT';
      return { key: `stream-${i}`, from, to, asset, amount: asset === 'USDT' ? BigInt(1 + (i % 5)) * 1_000_000n + BigInt(i) : BigInt(1 + (i % 7)) * 10n ** 15n + BigInt(i) };
    });

    let port = 0;
    let restarts = 0;
    async function start(): Promise<Child> {
      const child = worlds.child({ ...files.env, CRASH_SERVE: '1', CRASH_CLOCK_OFFSET_MS: String(LATER_MS * restarts) });
      port = await child.ready;
      return child;
    }
    /** One POST; null when no answer came back (connection lost, server gone, 5xx, key still locked). */
    async function send(x: Planned): Promise<Answer | null> {
      const u = users[x.from]!;
      let res: Response;
      try {
        res = await fetch(`http://127.0.0.1:${port}/api/v1/transfers`, {
          method: 'POST',
          headers: { authorization: `Bearer ${u.token}`, 'idempotency-key': x.key, 'content-type': 'application/json' },
          body: JSON.stringify({ to_email: users[x.to]!.email, asset: x.asset, amount: formatAmount(x.amount, DECIMALS[x.asset]) }),
        });
      } catch {
        return null;
      }
      const body = (await res.json().catch(() => null)) as { id: string; fee: string; code?: string } | null;
      if (res.status >= 500 || (res.status === 409 && body?.code === 'idempotency_key_in_use')) return null;
      expect([x.key, res.status, body]).toEqual([x.key, 201, expect.anything()]);
      const fee = parseAmount(body!.fee, DECIMALS[x.asset]);
      if (!fee.ok) throw new Error(`bad fee ${body!.fee}`);
      return { id: body!.id, fee: fee.amount_minor, replayed: res.headers.get('idempotent-replayed') === 'true' };
    }

    const answers = new Map<string, Answer>();
    /** Keys sent at least once without an answer: the client retries them. */
    const unanswered = new Set<string>();
    const committedUnanswered = new Set<string>();
    const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + 1) * TRANSFERS) / (KILLS + 1)) + Math.floor(Math.random() * 10) - 5);
    let child = await start();
    for (let rounds = 0; answers.size < TRANSFERS; rounds++) {
      expect(rounds).toBeLessThan(TRANSFERS * 4);
      // A kill lands on a larger wave, a few milliseconds after it left; should every request of
      // a killed wave still have been answered (a fast machine), the server is killed again.
      const killNow = restarts < KILLS_MAX && (restarts < KILLS ? answers.size >= killAt[restarts]! : unanswered.size === 0 && answers.size < TRANSFERS - KILL_WAVE);
      const wave = plan.filter((x) => !answers.has(x.key)).slice(0, killNow ? KILL_WAVE : IN_FLIGHT);
      const sent = wave.map((x) => send(x));
      if (killNow) {
        await sleep(Math.floor(Math.random() * 120)); // requests are in flight (some may commit)
        await child.kill();
      }
      const got = await Promise.all(sent);
      wave.forEach((x, i) => {
        const a = got[i];
        if (a) {
          answers.set(x.key, a);
        } else unanswered.add(x.key);
      });
      if (killNow) {
        // Which of the unanswered requests had committed before the process died (their retry
        // must find the work done, not do it again)?
        for (const x of wave.filter((y) => !answers.has(y.key))) {
          const out_id = deterministicId('pay', deterministicId('trf', users[x.from]!.id, x.key), 'out');
          if (await t.db.kysely.selectFrom('payments').select('id').where('id', '=', out_id).executeTakeFirst()) committedUnanswered.add(x.key);
        }
        restarts++;
        child = await start();
      } else if (got.some((a) => a === null)) await sleep(200); // a locked key: retry shortly
    }
    await child.kill();
    const retriedReplayed = [...unanswered].filter((k) => answers.get(k)!.replayed).length;
    console.log(`transfer crash test on ${dialect}: ${restarts} kills; ${unanswered.size} request(s) unanswered and retried, ${committedUnanswered.size} of them committed before the kill, ${retriedReplayed} answered as stored replays`);
    expect(restarts).toBeGreaterThanOrEqual(KILLS);
    expect(unanswered.size, 'some requests were in flight when the server died').toBeGreaterThan(0);

    // Exactly once: one payment pair and one ledger transfer per key, named by the first answer.
    const payments = await t.db.kysely.selectFrom('payments').select(['id', 'direction', 'reference', 'amount_minor', 'fee_minor']).where('kind', '=', 'transfer').execute();
    expect(payments.filter((x) => x.direction === 'out').length).toBe(TRANSFERS);
    expect(payments.filter((x) => x.direction === 'in').length).toBe(TRANSFERS);
    const outIds = new Set(payments.filter((x) => x.direction === 'out').map((x) => x.id));
    for (const x of plan) expect(outIds.has(answers.get(x.key)!.id), x.key).toBe(true);
    const references = payments.filter((x) => x.direction === 'out').map((x) => x.reference);
    const moved = await p.ledger.getTransfers(references.map((r) => `${r}:amount`));
    expect(moved.length).toBe(TRANSFERS);
    expect(new Set([...answers.values()].map((a) => a.id)).size).toBe(TRANSFERS);

    // Balances: each user's, and the whole (users + fees = funded).
    for (const asset of ['USDT', 'ETH'] as const) {
      let total = 0n;
      let fees = 0n;
      for (const [i, u] of users.entries()) {
        const mine = plan.filter((x) => x.asset === asset);
        const out = mine.filter((x) => x.from === i).reduce((s, x) => s + x.amount + answers.get(x.key)!.fee, 0n);
        const inn = mine.filter((x) => x.to === i).reduce((s, x) => s + x.amount, 0n);
        const [b] = await p.ledger.balancesOf('user', u.id, [asset]);
        expect({ user: i, asset, available: b!.available_minor, held: b!.held_minor }).toEqual({ user: i, asset, available: funded[asset] - out + inn, held: 0n });
        total += b!.available_minor;
      }
      for (const x of plan.filter((y) => y.asset === asset)) fees += answers.get(x.key)!.fee;
      expect(total + fees).toBe(funded[asset] * BigInt(users.length));
      const feeRows = payments.filter((x) => x.direction === 'out' && plan.find((y) => answers.get(y.key)!.id === x.id)!.asset === asset).reduce((s, x) => s + BigInt(x.fee_minor), 0n);
      expect(feeRows).toBe(fees);
    }
    expect((await verifyLedger(t.db.kysely)).problem).toBeNull();
    const verify = settle(['ledger', 'verify'], files.env);
    expect(verify.code, verify.out).toBe(0);
  }, 300_000);
});
