// Test fixture: the whole platform in a child process with its inbound SMTP server on a free
// port, for the support mail crash test, which SIGKILLs it and starts it again over the same
// database. Configuration comes from the environment as for `settle start`; the knob is outside
// the SETTLE_ namespace:
//   CRASH_POINT=<point>   SIGKILL itself at that point:
//     mail_before_commit  a mail's DATA was read and its row and job written, before COMMIT (no 250 sent)
//     mail_after_commit   the row and job committed, before the 250 is written
//     mail_filed          the processing job filed the case message, before the job completes
//   CRASH_CLOCK_OFFSET_MS added to the system clock (a restart "later": the killed one's job leases expired)
// Prints `smtp <port>` and then `started` once the job runner and workers run.
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import { openConfiguredDb } from '../../src/db/configured-db.ts';
import { createPlatform, startBackground } from '../../src/platform.ts';

const point = process.env.CRASH_POINT ?? '';
const offset_ms = Number(process.env.CRASH_CLOCK_OFFSET_MS ?? 0);
function maybeDie(at: string): void {
  if (at !== point) return;
  process.stdout.write(`crash ${at}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Dies around the transaction that stores an inbound mail (the one that inserts its row). */
function instrumentDb(db: Db): void {
  const transaction = db.transaction.bind(db);
  (db as { transaction: Db['transaction'] }).transaction = async (fn) => {
    let inbound = false;
    const result = await transaction(async (trx) => {
      const insertInto = trx.insertInto.bind(trx);
      (trx as { insertInto: typeof insertInto }).insertInto = ((table: Parameters<typeof insertInto>[0]) => {
        if (table === 'support_inbound_mails') inbound = true;
        return insertInto(table);
      }) as typeof insertInto;
      const r = await fn(trx);
      if (inbound) maybeDie('mail_before_commit');
      return r;
    });
    if (inbound) maybeDie('mail_after_commit');
    return result;
  };
}

const config = loadConfig(process.env, process.cwd());
const db = openConfiguredDb(config);
instrumentDb(db);
const platform = await createPlatform(config, db, { clock: { now_ms: () => Date.now() + offset_ms }, job_poll_ms: 20, lease_ms: 1000 });
const desk = platform.support!;
const openOrJoinCase = desk.openOrJoinCase.bind(desk);
desk.openOrJoinCase = async (input) => {
  const r = await openOrJoinCase(input);
  maybeDie('mail_filed');
  return r;
};
process.stdout.write(`smtp ${platform.supportChannels!.inbound!.port}\n`);
startBackground(platform);
process.stdout.write('started\n');
