// The ledger's reads and the shapes its rows take; no business decisions (those are in
// ledger-rules.ts). The batch writers (SQLite statements, PostgreSQL set-based writes) are in
// ledger-batch-store.ts.
//
//
// The layout (migrations 2026-11-26T0600_ledger_compact and T0700_ledger_history_links,
// docs/decisions/0011-ledger-performance.md): a transfer row names its accounts by their `num`, stores
// its hash as 32 bytes and not the previous hash (read back by seq), and links each account's
// transfers into a list: `debit_prev` / `credit_prev` are the seq of that account's previous
// transfer, and the account row's `last_seq` is the newest. History follows the links, so no
// history index is written (a transfer costs one row and its id index entry).
import { sql } from 'kysely';
import type { DbExecutor } from '../db/database.ts';
import type { AccountKind, AssetSpec, LedgerAccount, Transfer } from './ledger-types.ts';
import { HASHED_TRANSFER_FIELDS, accountFlagBits, accountFlagsFromBits } from './ledger-replay-rules.ts';
import { GENESIS_HASH, type AccountState, type ChainHead, type StoredTransfer } from './ledger-rules.ts';
import type { AccountSpec } from './ledger-types.ts';

export interface LedgerTx {
  lockHead(): Promise<ChainHead>;
  /** The batch's own ids that are stored (retries); most are new, so a probe comes first. */
  loadTransfers(ids: string[]): Promise<Transfer[]>;
  /** The stored transfers a batch posts or voids, each with the type of the transfer that resolved it (null: open). */
  loadTargets(ids: string[]): Promise<Array<{ transfer: Transfer; resolved_by: string | null }>>;
  /** ids must be sorted (lock order). */
  lockAccounts(ids: string[]): Promise<AccountState[]>;
  /** accounts: every account the created transfers name (their nums are written). */
  write(created: StoredTransfer[], accounts: ReadonlyMap<string, AccountState>, dirty: AccountState[], head: ChainHead): Promise<void>;
}

/** Every transfer read: the row, its accounts' ids (by num) and the previous hash (by seq). */
const TRANSFER_COLUMNS = `t.seq, t.id, da.id as debit_account_id, ca.id as credit_account_id, t.asset, t.amount_minor, t.type,
  t.pending_id, t.timeout_ms, t.expires_at_ms, t.flags, t.reason, t.reference, t.created_at_ms, t.hash, p.hash as prev_hash,
  t.debit_prev, t.credit_prev`;
const TRANSFER_JOINS = `left join ledger_accounts da on da.num = t.debit_num
  left join ledger_accounts ca on ca.num = t.credit_num
  left join ledger_transfers p on p.seq = t.seq - 1`;
export const TRANSFER_SELECT = `select ${TRANSFER_COLUMNS} from ledger_transfers t ${TRANSFER_JOINS}`;
/** A transfer with the type of the one that resolved it (unique index on pending_id), in one read. */
export const TARGET_SELECT = `select ${TRANSFER_COLUMNS}, (select r.type from ledger_transfers r where r.pending_id = t.id) as resolved_by
  from ledger_transfers t ${TRANSFER_JOINS}`;

/** The hashed fields in their order (the accounts by num), then each account's previous transfer and the hash. */
export const INSERT_COLUMNS = [...HASHED_TRANSFER_FIELDS.map((f) => (f === 'debit_account_id' ? 'debit_num' : f === 'credit_account_id' ? 'credit_num' : f)), 'debit_prev', 'credit_prev', 'hash'].join(', ');
export const DEBIT_AT = HASHED_TRANSFER_FIELDS.indexOf('debit_account_id');
export const CREDIT_AT = HASHED_TRANSFER_FIELDS.indexOf('credit_account_id');

export interface RawTransferRow {
  id: string;
  seq: number;
  /** null only if the account row is missing (verify reports it). */
  debit_account_id: string | null;
  credit_account_id: string | null;
  asset: string;
  amount_minor: bigint | string;
  type: string;
  pending_id: string | null;
  timeout_ms: number;
  expires_at_ms: number | null;
  flags: number;
  reason: string;
  reference: string | null;
  created_at_ms: number;
  prev_hash: Uint8Array | null;
  hash: Uint8Array;
  debit_prev: number | string;
  credit_prev: number | string;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function toTransfer(r: RawTransferRow): Transfer {
  return {
    id: r.id,
    seq: Number(r.seq),
    debit_account_id: r.debit_account_id ?? '',
    credit_account_id: r.credit_account_id ?? '',
    asset: r.asset,
    amount_minor: BigInt(r.amount_minor),
    type: r.type as Transfer['type'],
    pending_id: r.pending_id,
    timeout_ms: Number(r.timeout_ms),
    expires_at_ms: r.expires_at_ms === null ? null : Number(r.expires_at_ms),
    flags: r.flags,
    reason: r.reason,
    reference: r.reference,
    created_at_ms: Number(r.created_at_ms),
    prev_hash: r.prev_hash === null ? GENESIS_HASH : hex(r.prev_hash),
    hash: hex(r.hash),
  };
}

export interface RawAccountRow {
  num: number;
  id: string;
  asset: string;
  owner_type: string;
  owner_id: string;
  kind: string;
  flags: number;
  debits_pending_minor: bigint | string;
  debits_posted_minor: bigint | string;
  credits_pending_minor: bigint | string;
  credits_posted_minor: bigint | string;
  created_at_ms: number;
  last_seq: number | string;
}

export function toState(r: RawAccountRow): AccountState {
  const num = Number(r.num);
  return {
    id: r.id,
    num,
    asset: r.asset,
    ...accountFlagsFromBits(r.flags),
    debits_pending_minor: BigInt(r.debits_pending_minor),
    debits_posted_minor: BigInt(r.debits_posted_minor),
    credits_pending_minor: BigInt(r.credits_pending_minor),
    credits_posted_minor: BigInt(r.credits_posted_minor),
    last_seq: Number(r.last_seq),
  };
}

export function toAccount(r: RawAccountRow): LedgerAccount {
  return {
    id: r.id,
    asset: r.asset,
    owner_type: r.owner_type as 'user' | 'platform',
    owner_id: r.owner_id,
    kind: r.kind as AccountKind,
    flags: accountFlagsFromBits(r.flags),
    debits_pending_minor: BigInt(r.debits_pending_minor),
    debits_posted_minor: BigInt(r.debits_posted_minor),
    credits_pending_minor: BigInt(r.credits_pending_minor),
    credits_posted_minor: BigInt(r.credits_posted_minor),
    created_at_ms: Number(r.created_at_ms),
  };
}

// ---------------------------------------------------------------- reads (both dialects, Kysely)

const INSERT_CHUNK_MAX = 500;

export async function insertAccounts(ex: DbExecutor, specs: AccountSpec[], now_ms: number): Promise<void> {
  for (let i = 0; i < specs.length; i += INSERT_CHUNK_MAX) {
    const rows = specs.slice(i, i + INSERT_CHUNK_MAX).map((s) => ({
      id: s.id,
      asset: s.asset,
      owner_type: s.owner_type,
      owner_id: s.owner_id,
      kind: s.kind,
      flags: accountFlagBits(s.flags),
      debits_pending_minor: 0n,
      debits_posted_minor: 0n,
      credits_pending_minor: 0n,
      credits_posted_minor: 0n,
      created_at_ms: now_ms,
    }));
    await ex.insertInto('ledger_accounts').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
  }
}

export async function selectAccounts(ex: DbExecutor, ids: string[]): Promise<LedgerAccount[]> {
  if (!ids.length) return [];
  const rows = await ex.selectFrom('ledger_accounts').selectAll().where('id', 'in', ids).execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectOwnerAccounts(ex: DbExecutor, owner_type: string, owner_id: string, assets: string[]): Promise<LedgerAccount[]> {
  if (!assets.length) return [];
  const rows = await ex.selectFrom('ledger_accounts').selectAll().where('owner_type', '=', owner_type).where('owner_id', '=', owner_id).where('asset', 'in', assets).execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectTransfers(ex: DbExecutor, ids: string[]): Promise<Transfer[]> {
  if (!ids.length) return [];
  const r = await sql<RawTransferRow>`${sql.raw(TRANSFER_SELECT)} where t.id in (${sql.join(ids)})`.execute(ex);
  return r.rows.map(toTransfer);
}

/**
 * An account's transfers with seq < before_seq, newest first: its list from `last_seq` down the
 * links. A cursor from a previous page is one of the account's transfers, so the page continues
 * right below it (one indexed step per transfer). Any other cursor (stale, forged, past the head)
 * walks the list from the newest and skips what is not below it.
 */
export async function selectHistory(ex: DbExecutor, account_id: string, before_seq: number | null, limit: number): Promise<Transfer[]> {
  const account = await ex.selectFrom('ledger_accounts').select(['num', 'last_seq']).where('id', '=', account_id).executeTakeFirst();
  if (!account) return [];
  const num = Number(account.num);
  const below = before_seq ?? Number.MAX_SAFE_INTEGER;
  let start = Number(account.last_seq);
  if (before_seq !== null && before_seq <= start) {
    const at = await ex.selectFrom('ledger_transfers').select(['debit_num', 'credit_num', 'debit_prev', 'credit_prev']).where('seq', '=', before_seq).executeTakeFirst();
    if (at && Number(at.debit_num) === num) start = Number(at.debit_prev);
    else if (at && Number(at.credit_num) === num) start = Number(at.credit_prev);
  }
  if (start === 0) return [];
  // h walks the links; `taken` counts the transfers below the cursor so far and stops the walk at limit.
  const prevOf = sql`case when t.debit_num = ${num} then t.debit_prev else t.credit_prev end`;
  const r = await sql<RawTransferRow>`with recursive h(seq, taken) as (
      select cast(${start} as bigint), cast(${start < below ? 1 : 0} as integer)
      union all
      select ${prevOf}, h.taken + case when ${prevOf} < ${below} then 1 else 0 end
      from h join ledger_transfers t on t.seq = h.seq
      where h.taken < ${limit})
    select ${sql.raw(TRANSFER_COLUMNS)} from h join ledger_transfers t on t.seq = h.seq ${sql.raw(TRANSFER_JOINS)}
    where h.seq < ${below}
    order by t.seq desc limit ${limit}`.execute(ex);
  return r.rows.map(toTransfer);
}

/** Transfers in seq order after `after_seq`, with their history links (verify streams the chain with it). */
export async function selectTransfersAfter(ex: DbExecutor, after_seq: number, limit: number): Promise<StoredTransfer[]> {
  const r = await sql<RawTransferRow>`${sql.raw(TRANSFER_SELECT)} where t.seq > ${after_seq} order by t.seq limit ${limit}`.execute(ex);
  return r.rows.map((row) => ({ ...toTransfer(row), debit_prev: Number(row.debit_prev), credit_prev: Number(row.credit_prev) }));
}

/** Every account's history list head (verify checks it against the chain). */
export async function selectLastSeqs(ex: DbExecutor): Promise<Map<string, number>> {
  const rows = await ex.selectFrom('ledger_accounts').select(['id', 'last_seq']).execute();
  return new Map(rows.map((r) => [r.id, Number(r.last_seq)]));
}

export async function selectAllAccounts(ex: DbExecutor): Promise<LedgerAccount[]> {
  const rows = await ex.selectFrom('ledger_accounts').selectAll().orderBy('id').execute();
  return rows.map((r) => toAccount(r as unknown as RawAccountRow));
}

export async function selectHead(ex: DbExecutor): Promise<ChainHead> {
  const row = await ex.selectFrom('ledger_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash };
}

export async function upsertAssets(ex: DbExecutor, specs: AssetSpec[], now_ms: number): Promise<void> {
  if (!specs.length) return;
  await ex
    .insertInto('assets')
    .values(specs.map((s) => ({ code: s.code, decimals: s.decimals, chain_id: s.chain_id, contract_address: s.contract_address, created_at_ms: now_ms })))
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}

export async function selectAssets(ex: DbExecutor): Promise<AssetSpec[]> {
  const rows = await ex.selectFrom('assets').select(['code', 'decimals', 'chain_id', 'contract_address']).orderBy('code').execute();
  return rows.map((r) => ({ code: r.code, decimals: Number(r.decimals), chain_id: r.chain_id === null ? null : Number(r.chain_id), contract_address: r.contract_address }));
}
