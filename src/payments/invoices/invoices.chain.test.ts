// Goal: payments on a real chain into invoice addresses are found by the deposit scanner,
// credited to the MERCHANT in the ledger and attributed to the invoice in the same transaction:
// partial then completed -> processing -> settled at depth; a payment mined after expiry leaves
// the invoice expired with paid_late and the money credited (never lost).
// Method: a real anvil (automine, anvil_mine for depth, evm_increaseTime to mine after expiry),
// TestUSDT, the real ledger and deposit scanner (with the invoices' owner resolver and hook) on
// each dialect; the scanner is ticked by hand; balances read from the ledger.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import type { Hex } from '../../chain/chain.ts';
import { createDepositKeys, INVOICE_PATH_PREFIX } from '../../chain/chain.ts';
import { anvilAccount, sendMint, sendTokenTransfer } from '../../chain/chain.ts';
import { ManualClock } from '../../shared/clock.ts';
import { createDepositScanner, type DepositScanner } from '../deposits/deposit-scanner.ts';
import { ledgerEnv, mine, startChainEnv, TEST_DEPOSIT_MNEMONIC, type ChainEnv, type LedgerEnv } from '../../../test/helpers/deposit-testkit.ts';
import { createInvoices, type Invoices } from './invoices.ts';

const USDT = (n: number) => BigInt(Math.round(n * 1e6));
const payer = anvilAccount(1);

describe.each(DIALECTS)('invoices on a real chain on %s', (dialect) => {
  let chainEnv: ChainEnv;
  let t: TestDb;
  let env: LedgerEnv;
  let scanner: DepositScanner;
  let invoices: Invoices;
  let clock: ManualClock;

  beforeAll(async () => {
    chainEnv = await startChainEnv({});
    const h = await sendMint(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, anvilAccount(0), payer.address.toLowerCase() as Hex, USDT(1_000_000));
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  });
  afterAll(async () => {
    await chainEnv?.stop();
  });
  beforeEach(async () => {
    t = await openTestDb(dialect);
    // The platform's clock follows the chain's block time (anvil stamps blocks with its own clock).
    const latest = await chainEnv.client.getBlock();
    clock = new ManualClock(Number(latest.timestamp) * 1000 + 1000);
    env = await ledgerEnv(t.db, chainEnv, clock);
    invoices = createInvoices({ db: t.db, clock, config: { chains: [chainEnv.chain], public_url: 'https://pay.example.test' }, keys: createDepositKeys(TEST_DEPOSIT_MNEMONIC, INVOICE_PATH_PREFIX), headOf: () => chainEnv.reader.head() });
    scanner = createDepositScanner({
      db: t.db, ledger: env.ledger, reader: chainEnv.reader, chain: chainEnv.chain, clock, blocks_per_tick_max: 50, receiveMode: async () => 'credit',
      extraOwners: (ex, chain_id, addresses) => invoices.addressOwners(ex, chain_id, addresses),
      onDepositChange: (trx, ids) => invoices.onDepositChange(trx, ids),
    });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  async function pay(to: string, amount: bigint): Promise<void> {
    const h = await sendTokenTransfer(chainEnv.anvil.rpc_url, 31337, chainEnv.usdt, payer, to as Hex, amount);
    await chainEnv.client.waitForTransactionReceipt({ hash: h, pollingInterval: 50 });
  }
  const balance = async (user: string) => (await env.ledger.balancesOf('user', user, ['USDT']))[0]!;
  const state = async (id: string) => {
    const r = (await invoices.get(id))!;
    return { status: r.status, exception: r.exception, paid: r.amount_paid_minor };
  };

  it('partial then completed: new/paid_partial -> processing -> settled at depth, merchant credited', async () => {
    const c = await invoices.create({ user_id: 'usr_merchant', asset: 'USDT', amount_minor: USDT(10), expires_in_s: 900 });
    if (c.result !== 'created') throw new Error(c.reason);
    const inv = c.invoice;
    // Another user's deposit address on the same mnemonic is not the invoice's.
    expect(await env.address('usr_someone')).not.toBe(inv.address);
    await scanner.tick();
    await pay(inv.address, USDT(4));
    await scanner.tick();
    expect(await state(inv.id)).toEqual({ status: 'new', exception: 'paid_partial', paid: USDT(4) });
    await pay(inv.address, USDT(6));
    await scanner.tick();
    expect(await state(inv.id)).toEqual({ status: 'processing', exception: null, paid: USDT(10) });
    expect((await balance('usr_merchant')).pending_in_minor).toBe(USDT(10));
    await mine(chainEnv.client, 3);
    await scanner.tick();
    expect(await state(inv.id)).toEqual({ status: 'settled', exception: null, paid: USDT(10) });
    expect((await balance('usr_merchant')).available_minor).toBe(USDT(10));
    const types = (await t.db.kysely.selectFrom('outbox_events').select('type').where('aggregate_id', '=', inv.id).orderBy('seq').execute()).map((e) => e.type);
    expect(types).toEqual(['invoice.new', 'invoice.new', 'invoice.processing', 'invoice.settled']);
    // Payments into an invoice's address are the merchant's payments of kind `invoice`, naming the invoice.
    const pays = await t.db.kysely.selectFrom('payments').select(['kind', 'direction', 'status', 'counterparty', 'code']).where('user_id', '=', 'usr_merchant').execute();
    expect(pays).toHaveLength(2);
    for (const p of pays) expect(p).toEqual({ kind: 'invoice', direction: 'in', status: 'credited', counterparty: inv.id, code: 'invoice_payment_received' });
    // A rescan from scratch changes nothing (exactly once).
    await t.db.kysely.updateTable('chain_cursors').set({ next_block: inv.issued_at_block }).execute();
    await t.db.kysely.deleteFrom('chain_blocks').execute();
    await scanner.tick();
    expect(await state(inv.id)).toEqual({ status: 'settled', exception: null, paid: USDT(10) });
    expect((await balance('usr_merchant')).available_minor).toBe(USDT(10));
  });

  it('an invoice created before the first scan never starts the scanner after an earlier deposit address', async () => {
    // A user's address is issued, paid, and only then (the scanner has not run yet) an invoice is
    // created at a later head: the cursor it creates must not skip the user's payment.
    const userAddress = await env.address('usr_early');
    await pay(userAddress, USDT(3));
    await mine(chainEnv.client, 2);
    const c = await invoices.create({ user_id: 'usr_merchant', asset: 'USDT', amount_minor: USDT(10), expires_in_s: 900 });
    if (c.result !== 'created') throw new Error(c.reason);
    await mine(chainEnv.client, 3);
    await scanner.tick();
    expect((await balance('usr_early')).available_minor).toBe(USDT(3));
  });

  it('paid after expiry (block time): expired with paid_late, and the merchant is credited', async () => {
    const c = await invoices.create({ user_id: 'usr_merchant', asset: 'USDT', amount_minor: USDT(5), expires_in_s: 10 });
    if (c.result !== 'created') throw new Error(c.reason);
    const inv = c.invoice;
    clock.advance(11_000);
    await t.db.transaction((trx) => invoices.recompute(trx, inv.id)); // what the expiry job does
    expect((await state(inv.id)).status).toBe('expired');
    // The next block is stamped a minute later: the payment is late by the chain's own clock.
    await chainEnv.client.request({ method: 'evm_increaseTime' as never, params: [60] as never });
    await pay(inv.address, USDT(5));
    await mine(chainEnv.client, 3);
    await scanner.tick();
    await scanner.tick();
    expect(await state(inv.id)).toEqual({ status: 'expired', exception: 'paid_late', paid: USDT(5) });
    expect((await balance('usr_merchant')).available_minor).toBe(USDT(5));
  });
});
