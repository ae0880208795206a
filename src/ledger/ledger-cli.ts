// `settle ledger …` commands.
import type { Command } from '../cli/cli-kit.ts';
import { configFromEnv, describeDb, openConfiguredDb } from '../main.ts';
import { verifyLedger } from './ledger-verify.ts';

export const ledgerCommands: Command[] = [
  {
    path: ['ledger', 'verify'],
    summary: 'recompute balances from transfers, check the hash chain and debits = credits per asset',
    usage: 'settle ledger verify',
    async run(_args, io) {
      const config = configFromEnv();
      const db = openConfiguredDb(config);
      try {
        const r = await verifyLedger(db.kysely);
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
