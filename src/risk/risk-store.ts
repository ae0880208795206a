// The risk module's queries (Kysely only, no decisions): rule set versions, decisions, lists.
import type { DbExecutor } from '../db/database.ts';
import type { RiskDecisionsTable, RiskListEntriesTable } from '../db/schema-risk.ts';

export interface RuleSetRow {
  version: number;
  rules: string;
  created_by: string | null;
  created_at_ms: number;
}

/** The current (highest) version number, or 0 when none is stored yet; one index read. */
export async function currentVersion(ex: DbExecutor): Promise<number> {
  const r = await ex.selectFrom('risk_rule_sets').select('version').orderBy('version', 'desc').limit(1).executeTakeFirst();
  return r ? Number(r.version) : 0;
}

export async function ruleSet(ex: DbExecutor, version: number): Promise<RuleSetRow | undefined> {
  const r = await ex.selectFrom('risk_rule_sets').selectAll().where('version', '=', version).executeTakeFirst();
  return r ? { ...r, version: Number(r.version), created_at_ms: Number(r.created_at_ms) } : undefined;
}

/** Inserts a version; false when that version exists already (a concurrent PUT took it). */
export async function insertRuleSet(ex: DbExecutor, row: RuleSetRow): Promise<boolean> {
  const r = await ex.insertInto('risk_rule_sets').values(row).onConflict((oc) => oc.column('version').doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export type DecisionRow = RiskDecisionsTable;

export async function insertDecision(ex: DbExecutor, row: DecisionRow): Promise<void> {
  await ex.insertInto('risk_decisions').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
}

/** Decisions newest first, about a subject (or of a user) when given, after a cursor (an id). */
export async function listDecisions(ex: DbExecutor, q: { subject: string | null; cursor: string | null; limit: number }): Promise<DecisionRow[]> {
  let query = ex.selectFrom('risk_decisions').selectAll();
  if (q.subject !== null) {
    const subject = q.subject;
    query = query.where((eb) => eb.or([eb('subject_id', '=', subject), eb('user_id', '=', subject)]));
  }
  if (q.cursor !== null) query = query.where('id', '<', q.cursor);
  const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map((r) => ({ ...r, at_ms: Number(r.at_ms), rule_version: Number(r.rule_version) }));
}

/** Stored decisions' events and facts between two times, oldest first, at most `limit` (backtests). */
export async function decisionFacts(ex: DbExecutor, from_ms: number, to_ms: number, limit: number): Promise<Array<{ event: string; facts: string }>> {
  return ex.selectFrom('risk_decisions').select(['event', 'facts']).where('at_ms', '>=', from_ms).where('at_ms', '<', to_ms).orderBy('at_ms', 'asc').limit(limit).execute();
}

/** Every list with its version (a handful of rows). */
export async function listVersions(ex: DbExecutor): Promise<Array<{ name: string; version: number }>> {
  const rows = await ex.selectFrom('risk_lists').select(['name', 'version']).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, version: Number(r.version) }));
}

export type ListEntryRow = RiskListEntriesTable;

/** Every entry of every list, up to `limit` (the in-memory copy in_list reads). */
export async function allEntries(ex: DbExecutor, limit: number): Promise<ListEntryRow[]> {
  const rows = await ex.selectFrom('risk_list_entries').selectAll().orderBy('list_name').orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, created_at_ms: Number(r.created_at_ms) }));
}

export async function entryCounts(ex: DbExecutor): Promise<Map<string, number>> {
  const rows = await ex.selectFrom('risk_list_entries').select(['list_name', (eb) => eb.fn.countAll<string>().as('n')]).groupBy('list_name').execute();
  return new Map(rows.map((r) => [r.list_name, Number(r.n)]));
}

export async function entriesOf(ex: DbExecutor, name: string, limit: number): Promise<ListEntryRow[]> {
  const rows = await ex.selectFrom('risk_list_entries').selectAll().where('list_name', '=', name).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ ...r, created_at_ms: Number(r.created_at_ms) }));
}

export async function listExists(ex: DbExecutor, name: string): Promise<boolean> {
  return (await ex.selectFrom('risk_lists').select('name').where('name', '=', name).executeTakeFirst()) !== undefined;
}

/** Inserts an entry; the existing one when the value is already listed. */
export async function insertEntry(ex: DbExecutor, row: ListEntryRow): Promise<{ created: boolean; entry: ListEntryRow }> {
  const r = await ex.insertInto('risk_list_entries').values(row).onConflict((oc) => oc.columns(['list_name', 'value']).doNothing()).executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) return { created: true, entry: row };
  const existing = await ex.selectFrom('risk_list_entries').selectAll().where('list_name', '=', row.list_name).where('value', '=', row.value).executeTakeFirstOrThrow();
  return { created: false, entry: { ...existing, created_at_ms: Number(existing.created_at_ms) } };
}

export async function deleteEntry(ex: DbExecutor, name: string, id: string): Promise<ListEntryRow | undefined> {
  const row = await ex.selectFrom('risk_list_entries').selectAll().where('list_name', '=', name).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  await ex.deleteFrom('risk_list_entries').where('id', '=', id).execute();
  return { ...row, created_at_ms: Number(row.created_at_ms) };
}

/** Bumps a list's version in the caller's transaction, so that every process reloads it. */
export async function bumpList(ex: DbExecutor, name: string): Promise<void> {
  await ex.updateTable('risk_lists').set((eb) => ({ version: eb('version', '+', 1) })).where('name', '=', name).execute();
}

/** Makes a list on its first entry (a concurrent first entry makes nothing more). */
export async function insertList(ex: DbExecutor, name: string, now_ms: number): Promise<void> {
  await ex.insertInto('risk_lists').values({ name, version: 0, created_at_ms: now_ms }).onConflict((oc) => oc.column('name').doNothing()).execute();
}
