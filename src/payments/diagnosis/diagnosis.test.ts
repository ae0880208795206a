// Goal: POST /diagnose answers from Settle's records AND the chain: credited, other_account (no
// leak), not_ours, wrong_asset, failed_on_chain, not_found, a chain that cannot be reached (503),
// and a transaction to the caller's address that the scanner has not reached yet is recorded by
// the diagnosis itself (once: the scanner later finds it already there), also when a contract
// moved the coins on inside the transaction (an internal transfer); strangers, anonymous
// callers and bad input are refused. Method: a real anvil (TestUSDT + a second, unsupported
// token), the real deposit scanner ticked by hand, the real accounts/ledger harness and
// app.inject() on each dialect.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWalletClient, defineChain, encodeFunctionData, http, parseEther, type Abi } from 'viem';
import { compileContract } from '../../../scripts/compile-contracts.ts';
import { DIALECTS } from '../../../test/helpers/db.ts';
import type { Hex } from '../../chain/chain.ts';
import { createEvmReader } from '../../chain/chain.ts';
import { createDepositKeys } from '../../chain/chain.ts';
import { depositAddressOwners, ensureDepositAddress } from '../custody/deposit-addresses.ts';
import { anvilAccount, deployTestUsdt, sendMint, sendTokenTransfer } from '../../chain/chain.ts';
import { LOCALES } from '../../shared/i18n.ts';
import { startHarness, TEST_USDT, type Harness } from '../../../test/helpers/payment-testkit.ts';
import { DIAGNOSIS_MESSAGES, DIAGNOSIS_NEXT_ACTIONS } from '../payment-messages.ts';
import { createDepositScanner, type DepositScanner } from '../deposits/deposit-scanner.ts';
import { depositIngest } from '../deposits/deposit-ingest.ts';
import { depositId, nativeLogIndex } from '../deposits/deposit-rules.ts';
import { mine, startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv } from '../../../test/helpers/deposit-testkit.ts';
import type { DiagnosisChainDeps } from './diagnosis.ts';
import { diagnosisRoutes } from './diagnosis-routes.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);
const broke = anvilAccount(6);

describe('diagnosis messages', () => {
  it('has every code in both languages', () => {
    for (const cat of [DIAGNOSIS_MESSAGES, DIAGNOSIS_NEXT_ACTIONS]) for (const entry of Object.values(cat)) for (const l of LOCALES) expect(entry[l].length).toBeGreaterThan(5);
  });
});

describe.each(DIALECTS)('diagnosis on %s', (dialect) => {
  let env: ChainEnv;
  let otherToken: Hex;
  let h: Harness;
  let scanner: DepositScanner;
  let chainDeps: DiagnosisChainDeps | undefined;

  beforeAll(async () => {
    env = await startChainEnv({});
    otherToken = await deployTestUsdt(env.client, env.anvil.rpc_url, anvilAccount(0)); // not configured
    for (const token of [env.usdt, otherToken]) {
      const tx = await sendMint(env.anvil.rpc_url, 31337, token, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(1_000_000));
      await env.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    }
  });
  afterAll(async () => env?.stop());
  beforeEach(async () => {
    h = await startHarness(dialect, (parts) => [{ name: 'diagnosis', plugin: diagnosisRoutes(parts.view, () => chainDeps) }]);
    scanner = createDepositScanner({ db: h.t.db, ledger: h.ledger, reader: env.reader, chain: env.chain, clock: h.clock, blocks_per_tick_max: 200, receiveMode: async () => 'credit' });
    chainDeps = {
      readers: new Map([[31337, env.reader]]),
      owners: depositAddressOwners,
      ingest: depositIngest({ readers: new Map([[31337, env.reader]]), scanners: [scanner] }),
      timeout_ms: 5000,
    };
  });
  afterEach(async () => h.close());

  const keys = createDepositKeys(TEST_DEPOSIT_MNEMONIC);
  const addressOf = async (user_id: string) => (await ensureDepositAddress(h.t.db, keys, { chain_id: 31337, user_id, issued_at_block: await env.reader.head() }, h.clock)).address.address;
  async function pay(token: Hex, to: Hex, amount: bigint, from = payer): Promise<Hex> {
    const tx = await sendTokenTransfer(env.anvil.rpc_url, 31337, token, from, to, amount);
    await env.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 });
    return tx;
  }
  const diag = (body: unknown, headers: Record<string, string>) => h.app.inject({ method: 'POST', url: '/api/v1/diagnose', headers, payload: body as object });

  it('answers from the chain and the records, and picks up what the scanner has not seen', async () => {
    expect(env.usdt).toBe(TEST_USDT); // the harness's configured USDT is this contract
    const alice = await h.user('alice@example.test');
    const bob = await h.user('bob@example.test');
    const a = await addressOf(alice.id);
    const b = await addressOf(bob.id);

    // credited: scanned, at depth, released.
    const credited = await pay(env.usdt, a, USDT(5));
    await scanner.tick();
    await mine(env.client, 3);
    await scanner.tick();
    const c = (await diag({ tx_hash: credited }, alice.headers)).json();
    expect(c).toMatchObject({ verdict: 'credited', explanation: { code: 'deposit_credited' }, payment: { status: 'credited', amount: '5' }, chain: { found: true, chain_id: 31337, status: 'success', to: a, token: env.usdt, asset: 'USDT', amount: '5' } });
    expect(c.chain.confirmations).toBeGreaterThanOrEqual(4);
    // by payment id too, with the chain's view of its hash
    const byId = (await diag({ payment_id: c.payment.id }, alice.headers)).json();
    expect(byId).toMatchObject({ verdict: 'credited', chain: { found: true, to: a, amount: '5' } });
    expect((await diag({ payment_id: c.payment.id }, bob.headers)).statusCode).toBe(404);

    // not yet scanned (scanner behind): the diagnosis records it, through the scanner's path, once.
    const behind = await pay(env.usdt, a, USDT(7));
    const before = await h.t.db.kysely.selectFrom('deposits').select('id').where('tx_hash', '=', behind).execute();
    expect(before).toHaveLength(0);
    const p = (await diag({ tx_hash: behind }, alice.headers)).json();
    expect(p).toMatchObject({ verdict: 'confirming', explanation: { code: 'deposit_confirming' }, payment: { status: 'confirming', amount: '7', confirmations: { required: 3 } }, chain: { found: true, to: a, amount: '7' } });
    const row = await h.t.db.kysely.selectFrom('deposits').selectAll().where('tx_hash', '=', behind).executeTakeFirstOrThrow();
    expect(row.id).toBe(depositId(31337, behind, row.log_index));
    expect((await diag({ tx_hash: behind }, alice.headers)).json().payment.id).toBe(p.payment.id); // idempotent
    await scanner.tick(); // the scanner reaches that block: finds it already recorded
    await mine(env.client, 3);
    await scanner.tick();
    expect(await h.t.db.kysely.selectFrom('deposits').select('id').where('tx_hash', '=', behind).execute()).toHaveLength(1);
    expect((await diag({ tx_hash: behind }, alice.headers)).json().verdict).toBe('credited');
    expect((await h.ledger.balancesOf('user', alice.id, ['USDT']))[0]!.available_minor).toBe(USDT(12));

    // another user's address: other_account, and nothing about them (nor recorded for alice).
    const toBob = await pay(env.usdt, b, USDT(9));
    const o = await diag({ tx_hash: toBob }, alice.headers);
    expect(o.json()).toMatchObject({ verdict: 'other_account', explanation: { code: 'diagnosis_other_account' }, payment: null, chain: { found: true, to: null, from: null, amount: null } });
    expect(o.body).not.toContain(b.slice(2));
    expect(o.body).not.toContain('bob');
    expect(o.body).not.toContain(bob.id);
    expect(await h.t.db.kysely.selectFrom('deposits').select('id').where('tx_hash', '=', toBob).execute()).toHaveLength(0);

    // an unrelated address: not_ours.
    const stranger = anvilAccount(7).address.toLowerCase() as Hex;
    const n = (await diag({ tx_hash: await pay(env.usdt, stranger, USDT(2)) }, alice.headers)).json();
    expect(n).toMatchObject({ verdict: 'not_ours', explanation: { code: 'diagnosis_not_ours' }, payment: null, chain: { found: true, to: stranger, amount: '2' } });

    // a token Settle does not carry, to alice's address: wrong_asset, visible, nothing recorded.
    const odd = await pay(otherToken, a, USDT(4));
    const w = (await diag({ tx_hash: odd }, alice.headers)).json();
    expect(w).toMatchObject({ verdict: 'wrong_asset', explanation: { code: 'diagnosis_wrong_asset' }, payment: null, chain: { found: true, to: a, token: otherToken, asset: null, amount: '4000000' } });
    expect(w.explanation.message).toContain(otherToken);
    expect(w.explanation.next_action).toMatch(/support/);
    expect(await h.t.db.kysely.selectFrom('deposits').select('id').where('tx_hash', '=', odd).execute()).toHaveLength(0);

    // a reverted token transfer (sender has no USDT): failed_on_chain.
    const reverted = await pay(env.usdt, a, USDT(1), broke);
    expect((await diag({ tx_hash: reverted }, alice.headers)).json()).toMatchObject({ verdict: 'failed_on_chain', explanation: { code: 'diagnosis_failed_on_chain' }, payment: null, chain: { found: true, status: 'reverted' } });

    // a hash no chain has: not_found; with a chain that cannot be reached: 503, never "not found".
    const unknown = `0x${'cd'.repeat(32)}`;
    expect((await diag({ tx_hash: unknown }, alice.headers)).json()).toMatchObject({ verdict: 'not_found', explanation: { code: 'diagnosis_not_found' }, payment: null, chain: { found: false } });
    chainDeps = { ...chainDeps!, readers: new Map([...chainDeps!.readers, [999, createEvmReader({ chain_id: 999, rpc_url: 'http://127.0.0.1:1', timeout_ms: 300, retries_max: 0 })]]), timeout_ms: 1000 };
    const down = await diag({ tx_hash: unknown }, alice.headers);
    expect(down.statusCode).toBe(503);
    expect(down.json().code).toBe('chain_unavailable');

    // refusals
    expect((await diag({ tx_hash: credited }, {})).statusCode).toBe(401);
    expect((await diag({ tx_hash: '0x12' }, alice.headers)).statusCode).toBe(400);
    expect((await diag({}, alice.headers)).statusCode).toBe(400);
    expect((await diag({ tx_hash: credited, payment_id: 'x' }, alice.headers)).statusCode).toBe(400);
    expect((await diag({ payment_id: 'pay_nope' }, alice.headers)).statusCode).toBe(404);
  }, 60_000);

  it('sees ETH that a contract forwarded to the caller inside the transaction, and records it once', async () => {
    const artifact = compileContract('EthForwarder');
    const abi = artifact.abi as Abi;
    const chain = defineChain({ id: 31337, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [env.anvil.rpc_url] } } });
    const wallet = createWalletClient({ account: payer, chain, transport: http(env.anvil.rpc_url) });
    const deployed = await env.client.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi, bytecode: artifact.bytecode }), pollingInterval: 50 });
    const forwarder = deployed.contractAddress!.toLowerCase() as Hex;
    const carol = await h.user('carol@example.test');
    const a = await addressOf(carol.id);
    await scanner.tick();

    const tx = await wallet.sendTransaction({ to: forwarder, value: parseEther('0.5'), gas: 200_000n, data: encodeFunctionData({ abi, functionName: 'forward', args: [a] }) });
    expect((await env.client.waitForTransactionReceipt({ hash: tx, pollingInterval: 50 })).status).toBe('success');
    // The transaction's own value went to the forwarder; only its trace shows the coins reaching carol.
    const d = (await diag({ tx_hash: tx }, carol.headers)).json();
    expect(d).toMatchObject({ verdict: 'confirming', payment: { status: 'confirming', asset: 'ETH', amount: '0.5' }, chain: { found: true, from: forwarder, to: a, token: null, asset: 'ETH', amount: '0.5' } });
    const row = await h.t.db.kysely.selectFrom('deposits').selectAll().where('tx_hash', '=', tx).executeTakeFirstOrThrow();
    expect(row.id).toBe(depositId(31337, tx, nativeLogIndex(0)));
    // The scanner's block trace numbers it the same way: it finds it recorded and releases it once.
    await scanner.tick();
    await mine(env.client, 3);
    await scanner.tick();
    expect(await h.t.db.kysely.selectFrom('deposits').select('id').where('tx_hash', '=', tx).execute()).toHaveLength(1);
    expect((await diag({ tx_hash: tx }, carol.headers)).json().verdict).toBe('credited');
    expect((await h.ledger.balancesOf('user', carol.id, ['ETH']))[0]!.available_minor).toBe(parseEther('0.5'));
    // Someone else asking about it learns nothing about carol.
    const dave = await h.user('dave@example.test');
    const o = await diag({ tx_hash: tx }, dave.headers);
    expect(o.json()).toMatchObject({ verdict: 'other_account', chain: { to: null, from: null, amount: null } });
    expect(o.body).not.toContain(a.slice(2));
  }, 60_000);
});
