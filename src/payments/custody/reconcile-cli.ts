// `settle reconcile`: one reconciliation run on demand, with a progress bar on a terminal (plain
// lines otherwise) and a summary per chain and asset. Exits 1 when any difference is found
// (or a chain could not be read), 0 when everything is accounted for.
import type { Command, CliIo } from '../../shared/cli-kit.ts';
import { describeDb, type CliContext } from '../../db/configured-db.ts';
import { chainsForCli } from '../../chain/chain.ts';
import { createLedger } from '../../ledger/ledger.ts';
import { systemClock } from '../../shared/clock.ts';
import { formatAmount } from '../../shared/money.ts';
import { chainAssets } from '../deposits/deposit-rules.ts';
import { createReconciler, type ReconcileReport } from './reconciler.ts';
import type { AssetSummary } from './reconcile-rules.ts';
import { hotWalletAddressFor } from './funding-cli.ts';

const BAR_WIDTH = 24;

/** A progress line redrawn in place on a TTY; nothing when not a terminal (lines are printed instead). */
function progressBar(stream: NodeJS.WriteStream) {
  let last = '';
  return {
    draw(label: string, done: number) {
      if (!stream.isTTY) return;
      const filled = done % (BAR_WIDTH + 1);
      const line = `\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${label} ${done}`;
      if (line !== last) stream.write(line);
      last = line;
    },
    clear() {
      if (stream.isTTY && last) stream.write(`\r${' '.repeat(last.length)}\r`);
      last = '';
    },
  };
}

/** One line per chain and asset: hot wallet, deposit wallets, solvency (each says whether it ran). */
function custodyLine(s: AssetSummary, f: (v: bigint) => string): string {
  const c = s.custody;
  const hw = c.hot_wallet;
  const hot =
    hw.status === 'checked'
      ? `hot wallet ledger ${f(hw.ledger_minor)}${hw.in_flight_txs ? ` ${hw.in_flight_minor < 0n ? '−' : '+'} ${f(hw.in_flight_minor < 0n ? -hw.in_flight_minor : hw.in_flight_minor)} in flight (${hw.in_flight_txs} tx)` : ''} ${hw.ledger_minor + hw.in_flight_minor === hw.on_chain_minor ? '=' : '≠'} chain ${f(hw.on_chain_minor)}`
      : `hot wallet ${hw.status.replace(/_/g, ' ')}`;
  const dw = c.deposit_wallets;
  const dep = dw.status === 'checked' ? `deposit wallets ledger ${f(dw.ledger_minor)} ${dw.ledger_minor === dw.on_chain_minor ? '=' : '≠'} chain ${f(dw.on_chain_minor)}` : `deposit wallets ledger ${f(dw.ledger_minor)} (chain not compared: ${dw.status.replace(/_/g, ' ')})`;
  const solvent = c.assets_minor >= c.liabilities_minor;
  const bad = (hw.status === 'checked' && hw.ledger_minor + hw.in_flight_minor !== hw.on_chain_minor) || (dw.status === 'checked' && dw.ledger_minor !== dw.on_chain_minor) || !solvent;
  return `${bad ? 'FAIL' : 'ok  '} chain ${s.chain_id} ${s.asset} custody: ${hot}; ${dep}; custody ${f(c.assets_minor)} ${solvent ? '≥' : '<'} owed ${f(c.liabilities_minor)}`;
}

function printReport(report: ReconcileReport, decimals: Map<string, number>, io: CliIo): void {
  const fmt = (asset: string, v: bigint | null) => (v === null ? '-' : formatAmount(v, decimals.get(asset) ?? 0));
  io.out(report.ledger.skipped ? 'skip ledger: replay not due' : report.ledger.ok ? `ok   ledger: ${report.ledger.transfers} transfers, balanced` : `FAIL ledger: ${report.ledger.problem}`);
  for (const s of report.summaries) {
    const f = (v: bigint) => fmt(s.asset, v);
    const state = s.discrepancies ? 'FAIL' : 'ok  ';
    io.out(
      `${state} chain ${s.chain_id} ${s.asset}: seen ${f(s.seen_minor)} = credited ${f(s.credited_minor)} + held ${f(s.held_minor)} + pending ${f(s.pending_minor)} (refunded ${f(s.refunded_minor)}); ` +
        `on chain ${f(s.on_chain_minor)} vs records ${f(s.expected_on_chain_minor)} over ${s.addresses_checked} address(es)${s.addresses_in_flight ? `, ${s.addresses_in_flight} in flight` : ''}; ${s.discrepancies} difference(s)`,
    );
  }
  for (const s of report.summaries) io.out(custodyLine(s, (v) => fmt(s.asset, v)));
  for (const u of report.unreachable) io.err(`FAIL chain ${u.chain_id}: node unreachable, on-chain check skipped (${u.error})`);
  for (const d of report.discrepancies) io.err(`FAIL ${d.kind}: ${d.message}`);
}

export const reconcileCommands: Array<Command<CliContext>> = [
  {
    path: ['reconcile'],
    summary: 'prove deposits on chain = credited + held + pending, the ledger balances, addresses and the hot wallet hold what records say, and custody covers what is owed',
    usage: 'settle reconcile',
    async run(_args, io, ctx) {
      const base = ctx.config();
      const config = { ...base, chains: chainsForCli(base) };
      const db = ctx.openDb();
      const bar = progressBar(process.stderr);
      try {
        const ledger = createLedger(db, systemClock);
        const tty = process.stderr.isTTY === true;
        const reconciler = createReconciler({
          db,
          ledger,
          chains: config.chains,
          clock: systemClock,
          hotWallet: (chain_id) => hotWalletAddressFor(base, chain_id),
          progress: (p) => bar.draw(`chain ${p.chain_id} ${p.phase}`, p.done),
        });
        if (!tty) io.out(`reconciling ${describeDb(config)} over ${config.chains.length} chain(s)`);
        const report = await reconciler.run();
        bar.clear();
        const decimals = new Map(config.chains.flatMap((c) => chainAssets(c).map((a) => [a.code, a.decimals] as const)));
        printReport(report, decimals, io);
        io.out(report.ok ? 'reconciled: no differences' : `reconcile: ${report.discrepancies.length} difference(s), ${report.opened} new incident(s)`);
        return report.ok ? 0 : 1;
      } finally {
        bar.clear();
        await db.close();
      }
    },
  },
];
