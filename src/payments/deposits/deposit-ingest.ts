// Diagnosis pick-up: a transaction to one of our addresses that the scanner has not reached yet
// (behind, or during an outage) is recorded now, through the scanner's own path (same filters,
// deterministic deposit ids, pending ledger transfer, payment), without moving its cursor.
// Idempotent: a deposit already recorded is re-attached or left alone, exactly as a rescan does.
// A block ingested here and reorged out before the cursor reaches it: when the scanner reads that
// range it orphans the deposit (its block hash is not the canonical one), then re-attaches it if
// the transaction was re-mined, or drops it (voiding the pending credit) if it vanished.
import type { ChainReader, Hex } from '../../chain/chain.ts';
import type { DepositScanner, Seen } from './deposit-scanner.ts';

export type IngestResult = { result: 'ingested'; deposits: number } | { result: 'not_mined' | 'not_found' | 'no_scanner' | 'block_moved' };

/** const ingest = depositIngest(deposits); await ingest(31337, '0xabc…') -> { result: 'ingested', deposits: 1 } */
export function depositIngest(deposits: { readers: Map<number, ChainReader>; scanners: DepositScanner[] }) {
  return async (chain_id: number, tx_hash: Hex): Promise<IngestResult> => {
    const reader = deposits.readers.get(chain_id);
    const scanner = deposits.scanners.find((s) => s.chain_id === chain_id);
    if (!reader || !scanner) return { result: 'no_scanner' };
    const info = await reader.transaction(tx_hash);
    if (!info.found) return { result: 'not_found' };
    if (info.block_number === null || info.block_hash === null || info.status !== 'success') return { result: 'not_mined' };
    const header = await reader.block(info.block_number);
    if (!header || header.hash !== info.block_hash) return { result: 'block_moved' };
    const seen: Seen[] = info.token_transfers.map((t) => ({ kind: 'token' as const, t }));
    if (info.to && info.value_minor > 0n) {
      seen.push({ kind: 'native', t: { from: info.from, to: info.to, amount_minor: info.value_minor, tx_hash: info.tx_hash, block_number: header.number, block_hash: header.hash } });
    }
    // Coins a contract moved on inside the transaction, numbered as the scanner's block traces number them.
    for (const t of info.internal_transfers) seen.push({ kind: 'native', t: { ...t, block_number: header.number, block_hash: header.hash } });
    const head = info.block_number + Math.max(0, info.confirmations - 1);
    return { result: 'ingested', deposits: await scanner.ingest(header, seen, head) };
  };
}
