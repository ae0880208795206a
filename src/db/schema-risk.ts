// Tables owned by the risk module (src/risk/): rule sets, decisions, lists.

/** One version of the whole rule set (JSON array of rules); the highest version is current. */
export interface RiskRuleSetsTable {
  version: number;
  rules: string;
  created_by: string | null;
  created_at_ms: number;
}

/** One decision: the event's facts, the rules that fired (JSON) and the action taken. */
export interface RiskDecisionsTable {
  id: string;
  at_ms: number;
  event: string;
  /** The payment, order or user the decision is about. */
  subject_id: string;
  user_id: string;
  action: string;
  deciding_rule: string | null;
  fired: string;
  facts: string;
  rule_version: number;
}

/** A named list; `version` grows with every change of its entries (caches compare it). */
export interface RiskListsTable {
  name: string;
  version: number;
  created_at_ms: number;
}

export interface RiskListEntriesTable {
  id: string;
  list_name: string;
  /** Lower case: in_list compares case-insensitively. */
  value: string;
  note: string | null;
  created_by: string | null;
  created_at_ms: number;
}

export interface RiskTables {
  risk_rule_sets: RiskRuleSetsTable;
  risk_decisions: RiskDecisionsTable;
  risk_lists: RiskListsTable;
  risk_list_entries: RiskListEntriesTable;
}
