// Tables owned by the trades module (src/trades/): P2P ads, orders, their chat and buyers' strikes.
// Money columns end in `_minor` (bigint through BigintPlugin); prices stay decimal strings (a
// price is fiat per whole coin, never a float) beside `price_key`, a fixed-width text that sorts
// like the number on both dialects.

export interface P2pAdsTable {
  id: string;
  /** The ad's owner (the seller of a sell ad, the buyer of a buy ad). */
  user_id: string;
  /** sell | buy */
  side: string;
  asset: string;
  fiat: string;
  /** Decimal string, fiat per whole coin: "7.25". */
  price: string;
  /** price as 20 integer + 8 fraction digits, zero-padded: text order is numeric order. */
  price_key: string;
  min_amount_minor: bigint;
  max_amount_minor: bigint;
  /** What is left to trade; for a sell ad exactly the amount its current reservation holds. */
  available_minor: bigint;
  /** The pending ledger transfer holding a sell ad's coins (null: none, e.g. a buy ad or nothing left). */
  reservation_id: string | null;
  /** Each change of the reservation voids it and makes the next one: `p2p:ad:<id>:res:<seq>`. */
  reservation_seq: number;
  /** JSON array of strings. */
  payment_methods: string;
  terms: string;
  /** active | paused | closed */
  status: string;
  /** Why it is paused: owner | account (the owner's standing, never shown to others). */
  paused_by: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface P2pOrdersTable {
  id: string;
  ad_id: string;
  buyer_id: string;
  seller_id: string;
  /** The user who placed the order (the taker) and their Idempotency-Key. */
  taker_id: string;
  idempotency_key: string;
  asset: string;
  fiat: string;
  price: string;
  amount_minor: bigint;
  /** Decimal string in the fiat's units (2 decimals). */
  fiat_amount: string;
  /** pending_payment | paid | completed | cancelled | appeal | refunded */
  status: string;
  pay_by_ms: number;
  release_by_ms: number | null;
  paid_at_ms: number | null;
  released_at_ms: number | null;
  closed_at_ms: number | null;
  cancel_reason: string | null;
  appeal_case_id: string | null;
  appeal_by: string | null;
  appeal_reason: string | null;
  /** The buyer's note and attachment ids when marking paid (JSON array). */
  paid_note: string | null;
  paid_attachments: string;
  /** The pending transfer seller available -> escrow that holds the coins. */
  escrow_id: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface P2pMessagesTable {
  id: string;
  order_id: string;
  /** user | staff | system */
  author_type: string;
  author_id: string | null;
  body: string;
  /** JSON array of attachment ids. */
  attachment_ids: string;
  created_at_ms: number;
}

/** A buyer's strike: cancelling after marking paid, or losing an appeal over a false paid mark. */
export interface P2pStrikesTable {
  id: string;
  user_id: string;
  order_id: string;
  reason: string;
  created_at_ms: number;
}

export interface TradeTables {
  p2p_ads: P2pAdsTable;
  p2p_orders: P2pOrdersTable;
  p2p_messages: P2pMessagesTable;
  p2p_strikes: P2pStrikesTable;
}
