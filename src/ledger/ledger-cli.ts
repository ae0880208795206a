// `settle ledger …` commands.
import type { Command } from '../shared/cli-kit.ts';
import { describeDb, type CliContext } from '../db/configured-db.ts';
import { verifyLedgerSnapshot } from './ledger-verify.ts';

export const ledgerCommands: Array<Command<CliContext>> = [
  {
    path: ['ledger', 'verify'],
    summary: 'recompute balances from transfers, check the hash chain and debits = credits per asset',
    usage: 'settle ledger verify',
    async run(_args, io, ctx) {
      const config = ctx.config();
      const db = ctx.openDb();
      try {
        const r = await verifyLedgerSnapshot(db);
        if (!r.ok) {
          io.err(`FAIL ledger ${describeDb(config)}: ${r.problem}`);
          return 1;
        }
        io.out(`ok   ledger ${describeDb(config)}: ${r.transfers} transfers, ${r.accounts} accounts, hash chain intact`);
        for (const a of r.assets) io.out(`ok   ${a.asset}: debits = credits = ${a.debits_posted_minor} posted, ${a.debits_pending_minor} pending`);
        return 0;
      } finally {
        await db.close();
      }
    },
  },
];
