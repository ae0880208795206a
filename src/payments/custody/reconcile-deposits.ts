// The reconciler's deposit checks: every deposit of a chain against its ledger transfers, and every
// receiving address's balance on chain against what our records say it holds (deposits in, sweeps
// and our own transactions out). See reconciler.ts for the whole run.
import type { ChainConfigFile } from '../../config.ts';
import type { Hex } from '../../chain/chain.ts';
import { chainAssets, depositTransferIds } from '../deposits/deposit-rules.ts';
import { addDeposit, checkDeposit, compareAddress, emptySummary, expectedBalances, type AssetSummary, type DepositFact, type Discrepancy, type OwnTxFact, type TransferFact } from './reconcile-rules.ts';
import * as store from './reconcile-store.ts';
import { ERC20_ABI, type ReconcileContext } from './reconciler.ts';

const DEPOSIT_PAGE_MAX = 500;
const ADDRESS_PAGE_MAX = 500;
/** Balance reads in flight at once. */
const RPC_PARALLEL_MAX = 8;
const OPEN_TX_STATUSES = new Set(['signed', 'broadcast', 'mined']);
const OPEN_SWEEP_STATUSES = new Set(['planned', 'gas', 'sweeping', 'gas_pending', 'signed', 'broadcast']);

/** Deposits of one chain against their ledger transfers; fills the summaries. */
export async function checkDeposits(c: ReconcileContext, chain_id: number, summaries: Map<string, AssetSummary>, out: Discrepancy[]): Promise<DepositFact[]> {
  const { db, ledger, deps } = c;
  const all: DepositFact[] = [];
  let after = '';
  for (;;) {
    const page = await store.selectDepositsPage(db.kysely, chain_id, after, DEPOSIT_PAGE_MAX);
    if (page.length === 0) break;
    const ids = page.map((d) => depositTransferIds(chain_id, d.tx_hash, d.log_index, d.generation));
    const transfers = new Map<string, TransferFact>((await ledger.getTransfers(ids.flatMap((i) => [i.pending, i.post]))).map((t) => [t.id, t]));
    page.forEach((d, i) => {
      const t = { pending: transfers.get(ids[i]!.pending) ?? null, post: transfers.get(ids[i]!.post) ?? null };
      const problem = checkDeposit(d, t);
      if (problem) out.push({ kind: 'deposit_ledger_mismatch', chain_id, asset: d.asset, subject: d.id, expected_minor: d.amount_minor, actual_minor: (t.post ?? t.pending)?.amount_minor ?? null, message: problem });
      const s = summaries.get(d.asset) ?? emptySummary(chain_id, d.asset);
      summaries.set(d.asset, s);
      addDeposit(s, d, t);
    });
    all.push(...page);
    after = page[page.length - 1]!.id;
    deps.progress?.({ chain_id, phase: 'deposits', done: all.length, total: null });
    if (page.length < DEPOSIT_PAGE_MAX) break;
  }
  return all;
}

/**
 * What our records say about the receiving addresses of a chain: deposits by address (our own
 * gas top-ups left out: they count once, as our transactions), our confirmed transactions and
 * sweeps by address, and the addresses with a transaction or sweep still open.
 */
async function addressFacts(c: ReconcileContext, chain_id: number, deposits: DepositFact[]) {
  const { db } = c;
  const txs = await store.selectOwnTxs(db.kysely, chain_id);
  // Our own transactions seen by the scanner as payments to our addresses (gas top-ups) are
  // counted once, as our transactions.
  const ownHashes = new Set(txs.map((t) => t.mined_hash?.toLowerCase()).filter((h): h is string => !!h));
  const depositsByAddr = new Map<string, DepositFact[]>();
  for (const d of deposits) {
    if (ownHashes.has(d.tx_hash.toLowerCase())) continue;
    const a = d.to_address.toLowerCase();
    depositsByAddr.set(a, [...(depositsByAddr.get(a) ?? []), d]);
  }
  const inFlight = new Set<string>();
  const ownByAddr = new Map<string, OwnTxFact[]>();
  for (const t of txs) {
    const ends = [t.from_address.toLowerCase(), t.to_address.toLowerCase()];
    if (OPEN_TX_STATUSES.has(t.status)) for (const a of ends) inFlight.add(a);
    if (t.status !== 'confirmed') continue;
    const fact = { from_address: ends[0]!, to_address: ends[1]!, value_minor: t.value_minor, gas_fee_minor: t.gas_fee_minor ?? 0n };
    for (const a of new Set(ends)) ownByAddr.set(a, [...(ownByAddr.get(a) ?? []), fact]);
  }
  const sweepsByAddr = new Map<string, Array<{ asset: string; amount_minor: bigint }>>();
  for (const s of await store.selectSweeps(db.kysely, chain_id)) {
    const a = s.deposit_address.toLowerCase();
    if (OPEN_SWEEP_STATUSES.has(s.status)) inFlight.add(a);
    if (s.status === 'confirmed') sweepsByAddr.set(a, [...(sweepsByAddr.get(a) ?? []), { asset: s.asset, amount_minor: s.amount_minor }]);
  }
  return { depositsByAddr, inFlight, ownByAddr, sweepsByAddr };
}

/**
 * Re-reads every deposit address's balances on chain and compares them with our records.
 * Returns whether every receiving address was read (none in flight, none left over), which is
 * what comparing their sum with the ledger's deposit_wallets needs.
 */
export async function checkAddresses(c: ReconcileContext, chain: ChainConfigFile, deposits: DepositFact[], summaries: Map<string, AssetSummary>, out: Discrepancy[]): Promise<'checked' | 'in_flight' | 'partial'> {
  const chain_id = chain.chain_id;
  const assets = chainAssets(chain);
  const native = assets.find((a) => a.token === null)?.code ?? null;
  const { db, deps, addresses_max } = c;
  const { depositsByAddr, inFlight, ownByAddr, sweepsByAddr } = await addressFacts(c, chain_id, deposits);

  const client = c.clientFor(chain);
  const head = await client.getBlockNumber({ cacheTime: 0 });
  let done = 0;
  let after = '';
  let complete = false;
  let anyInFlight = false;
  while (done < addresses_max) {
    const page = await store.selectAddressesPage(db.kysely, chain_id, after, Math.min(ADDRESS_PAGE_MAX, addresses_max - done));
    if (page.length === 0) break;
    for (let i = 0; i < page.length; i += RPC_PARALLEL_MAX) {
      await Promise.all(
        page.slice(i, i + RPC_PARALLEL_MAX).map(async (address) => {
          const expected = expectedBalances(address, native, depositsByAddr.get(address) ?? [], sweepsByAddr.get(address) ?? [], ownByAddr.get(address) ?? []);
          for (const a of assets) {
            const s = summaries.get(a.code) ?? emptySummary(chain_id, a.code);
            summaries.set(a.code, s);
            if (inFlight.has(address)) {
              anyInFlight = true;
              s.addresses_in_flight++;
              continue;
            }
            const actual = a.token === null
              ? await client.getBalance({ address: address as Hex, blockNumber: head })
              : await client.readContract({ address: a.token, abi: ERC20_ABI, functionName: 'balanceOf', args: [address as Hex], blockNumber: head });
            const want = expected.get(a.code) ?? 0n;
            s.addresses_checked++;
            s.on_chain_minor += actual;
            s.expected_on_chain_minor += want;
            const d = compareAddress(chain_id, a.code, address, want, actual);
            if (d) out.push(d);
          }
        }),
      );
    }
    done += page.length;
    after = page[page.length - 1]!;
    deps.progress?.({ chain_id, phase: 'addresses', done, total: null });
    if (page.length < ADDRESS_PAGE_MAX) {
      complete = true;
      break;
    }
  }
  if (done < addresses_max) complete = true;
  return anyInFlight ? 'in_flight' : complete ? 'checked' : 'partial';
}
