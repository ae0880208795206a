// Goal: a withdrawal whose nonce the node says is used, while no receipt of ours is found, is
// `unknown` — never `failed` with its reservation voided (issue 16, finding 1). A lagging or
// load-balanced RPC answers exactly that while the coins are already sent: voiding would pay
// the user twice. The withdrawal keeps being checked, is raised to staff (an open incident and a
// payment event), and completes once the receipt shows up.
// Method: real anvil with a deployed TestUSDT, the real ledger, job runner and hot wallet on each
// dialect; the hot wallet reads the chain through a lagging RPC: a viem transport in front of
// anvil that answers "no receipt" while `lagging` is on (everything else is anvil's answer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, custom, toHex, type PublicClient } from 'viem';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { startAnvil, type AnvilHandle } from '../../chain/anvil.ts';
import { createEvmClient } from '../../chain/evm.ts';
import { Sender } from '../../chain/hot-wallet.ts';
import { anvilAccount, deployTestUsdt } from '../../chain/test-usdt.ts';
import { balanceOfToken } from '../../../test/helpers/anvil.ts';
import type { Hex } from '../../chain/chain-types.ts';
import { JobRunner } from '../../jobs/jobs.ts';
import { createLedger, type Ledger } from '../../ledger/ledger.ts';
import { ledgerAccountId } from '../../ledger/ledger.ts';
import { ManualClock } from '../../shared/clock.ts';
import { getPayment } from '../payments.ts';
import { fundHotWallet } from '../../../test/helpers/payment-testkit.ts';
import { PLATFORM_OWNER } from '../custody/chart.ts';
import { createWithdrawals, registerWithdrawalJobs, type Withdrawals } from './withdrawals.ts';

const CHAIN = 31337;
const USER = 'usr_lag';
const TO = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';
const usdt = (n: number) => BigInt(n) * 1_000_000n;

describe.each(DIALECTS)('withdrawal behind a lagging RPC on %s', (dialect) => {
  let anvil: AnvilHandle;
  let client: PublicClient;
  let t: TestDb;
  let token: Hex;
  let ledger: Ledger;
  let withdrawals: Withdrawals;
  let jobs: JobRunner;
  let sender: Sender;
  let lagging = false;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    anvil = await startAnvil();
    client = createEvmClient({ chain_id: CHAIN, rpc_url: anvil.rpc_url });
    // The hot wallet's view of the chain: anvil, except that receipts are late while lagging.
    const laggingClient = createPublicClient({
      transport: custom({
        request: async ({ method, params }: { method: string; params?: unknown }) =>
          lagging && method === 'eth_getTransactionReceipt' ? null : client.request({ method, params } as never),
      }),
      cacheTime: 0,
    }) as PublicClient;
    t = await openTestDb(dialect);
    token = await deployTestUsdt(client, anvil.rpc_url, anvilAccount(0));
    sender = new Sender({ chain_id: CHAIN, client: laggingClient, private_key: toHex(anvilAccount(2).getHdKey().privateKey!), db: t.db, clock });
    const chain = { chain_id: CHAIN, name: 'anvil', rpc_url: anvil.rpc_url, poll_interval_ms: 1000, native: { symbol: 'ETH', decimals: 18 }, tokens: [{ symbol: 'USDT', address: token, decimals: 6, confirmations: [{ max_amount: null, blocks: 2 }] }] };
    ledger = createLedger(t.db, clock);
    await ledger.ensureAssets([
      { code: 'USDT', decimals: 6, chain_id: CHAIN, contract_address: token },
      { code: 'ETH', decimals: 18, chain_id: CHAIN, contract_address: null },
    ]);
    await fundHotWallet({ db: t.db, ledger, clock, chain, client }, sender.address, 'USDT', usdt(1_000));
    withdrawals = createWithdrawals({ db: t.db, clock, config: { chains: [chain] }, ledger, sender: () => sender, feeFor: () => usdt(1) });
    jobs = new JobRunner(t.db, { clock });
    registerWithdrawalJobs(jobs, withdrawals);
    const ext = ledgerAccountId('platform', PLATFORM_OWNER, 'USDT', 'external');
    const mine = ledgerAccountId('user', USER, 'USDT', 'user_available');
    await ledger.ensureAccounts([
      { id: ext, asset: 'USDT', owner_type: 'platform', owner_id: PLATFORM_OWNER, kind: 'external', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } },
      { id: mine, asset: 'USDT', owner_type: 'user', owner_id: USER, kind: 'user_available', flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } },
    ]);
    const [r] = await ledger.createTransfers([{ id: 'fund-lag', debit_account_id: ext, credit_account_id: mine, amount_minor: usdt(100), asset: 'USDT', reason: 'test', reference: null }]);
    expect(r!.result).toBe('ok');
  }, 60_000);

  afterAll(async () => {
    await jobs?.stop(1000);
    await ledger?.drain();
    await t?.cleanup();
    await anvil?.stop();
  });

  const balance = async () => (await ledger.balancesOf('user', USER, ['USDT']))[0]!;

  async function tick(times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      await jobs.tick();
      clock.advance(1_000);
      await client.request({ method: 'anvil_mine' as never, params: ['0x1'] as never });
    }
  }

  it('is unknown (reservation kept, raised to staff) while the node lags, and completes when the receipt appears', async () => {
    lagging = true;
    const created = await withdrawals.request({ user_id: USER, user_status: 'active', idempotency_key: 'lag-1', asset: 'USDT', to_address: TO, amount_minor: usdt(10) });
    const id = created.payment.id;
    await tick(6);
    // The coins are out (automine), but the hot wallet cannot see its receipt.
    expect(await balanceOfToken(client, token, TO as Hex)).toBe(usdt(10));
    const w = (await withdrawals.get(id))!;
    expect(w.status).toBe('unknown');
    // Nothing voided: the reservation stands (no refund of what was already sent).
    expect(await balance()).toMatchObject({ available_minor: usdt(100 - 11), pending_out_minor: usdt(11) });
    const p = (await getPayment(t.db.kysely, id))!;
    expect(p.payment.status).toBe('unknown');
    // Raised to staff: an open incident and the payment's event in the outbox.
    const incidents = await t.db.kysely.selectFrom('reconcile_incidents').select(['kind', 'subject', 'resolved_at_ms']).where('subject', '=', id).execute();
    expect(incidents).toEqual([{ kind: 'withdrawal_unknown', subject: id, resolved_at_ms: null }]);
    const events = await t.db.kysely.selectFrom('outbox_events').select('type').where('aggregate_id', '=', id).execute();
    expect(events.map((e) => e.type)).toContain('payment.unknown');
    // Still watched: the job is queued again, and the hot wallet's sweep of open transactions includes it.
    const queued = await t.db.kysely.selectFrom('jobs').select('status').where('kind', '=', 'withdrawal.advance').where('payload', 'like', `%${id}%`).where('status', '=', 'queued').execute();
    expect(queued.length).toBeGreaterThan(0);

    // The node catches up: the receipt is there, the withdrawal completes, posted once.
    lagging = false;
    for (let i = 0; i < 10 && (await withdrawals.get(id))!.status !== 'completed'; i++) await tick(1);
    expect((await withdrawals.get(id))!.status).toBe('completed');
    expect(await balance()).toMatchObject({ available_minor: usdt(100 - 11), pending_out_minor: 0n });
    const after = await t.db.kysely.selectFrom('reconcile_incidents').select('resolved_at_ms').where('subject', '=', id).executeTakeFirstOrThrow();
    expect(after.resolved_at_ms).not.toBeNull();
    expect(await balanceOfToken(client, token, TO as Hex)).toBe(usdt(10));
  }, 120_000);
});
