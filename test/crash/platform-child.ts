// Test fixture: the whole platform in a child process that the crash tests SIGKILL and start
// again over the same database and the same anvil. Configuration comes from the environment as
// for `settle start` (SETTLE_DATABASE_URL, SETTLE_CONFIG, SETTLE_DATA_DIR, …); the test's knobs
// are outside the SETTLE_ namespace (the config refuses unknown SETTLE_ settings):
//   CRASH_SERVE=1          also listen for HTTP on 127.0.0.1 (prints `listening <port>`)
//   CRASH_POINT=<point>    SIGKILL itself at that point of a hot-wallet transaction:
//                            before_sign      in prepare, before the nonce is taken and the tx signed
//                            after_sign       in broadcast, the signed tx recorded but not sent
//                            after_broadcast  right after the node accepted it, before the job commits
//                            while_confirming when a refresh finds it mined but not yet deep
//                          or of a staff review decision (POST /admin/withdrawals/{id}/approve|reject):
//                            decision_in_tx         its transaction did all its writes, before COMMIT
//                            decision_after_commit  it committed, before the HTTP answer is written
//   CRASH_NTH=<n>          … at the n-th time that point is reached (default 1)
//   CRASH_CLOCK_OFFSET_MS  added to the system clock (a restart "later": in-flight locks expired)
// Prints `started` once the workers and the job runner run.
import { AsyncLocalStorage } from 'node:async_hooks';
import { loadConfig } from '../../src/config.ts';
import type { Db } from '../../src/db/database.ts';
import type { Withdrawals } from '../../src/payments/withdrawals/withdrawals.ts';
import { openConfiguredDb } from '../../src/db/configured-db.ts';
import { buildPlatformApp, createPlatform, startBackground } from '../../src/platform.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Sender } from '../../src/chain/chain.ts';

const point = process.env.CRASH_POINT ?? '';
const nth = Number(process.env.CRASH_NTH ?? 1);
const offset_ms = Number(process.env.CRASH_CLOCK_OFFSET_MS ?? 0);
const clock: Clock = { now_ms: () => Date.now() + offset_ms };

let hits = 0;
function maybeDie(at: string): void {
  if (at !== point) return;
  hits++;
  if (hits < nth) return;
  process.stdout.write(`crash ${at}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Wraps the hot wallet's steps so that the process dies exactly at the chosen point. */
function instrument(sender: Sender): void {
  const { prepare, broadcast, refresh } = { prepare: sender.prepare.bind(sender), broadcast: sender.broadcast.bind(sender), refresh: sender.refresh.bind(sender) };
  sender.prepare = async (intent) => {
    maybeDie('before_sign');
    return prepare(intent);
  };
  sender.broadcast = async (tx_id) => {
    maybeDie('after_sign');
    const r = await broadcast(tx_id);
    maybeDie('after_broadcast');
    return r;
  };
  sender.refresh = async (tx_id) => {
    const view = await refresh(tx_id);
    if (view.status === 'mined') maybeDie('while_confirming');
    return view;
  };
}

/** Set while a staff review decision runs, so that the database wrapper knows whose transaction it is. */
const inDecision = new AsyncLocalStorage<true>();

/** Dies inside a decision's transaction once its work is done and before it commits. */
function instrumentDb(db: Db): void {
  const transaction = db.transaction.bind(db);
  (db as { transaction: Db['transaction'] }).transaction = (fn) =>
    transaction(async (trx) => {
      const result = await fn(trx);
      if (inDecision.getStore()) maybeDie('decision_in_tx');
      return result;
    });
}

/** The review routes call these methods on this very object, so wrapping them here reaches the routes. */
function instrumentDecisions(w: Withdrawals): void {
  const { approve, reject } = { approve: w.approve.bind(w), reject: w.reject.bind(w) };
  w.approve = (id, by) =>
    inDecision.run(true, async () => {
      const r = await approve(id, by);
      maybeDie('decision_after_commit');
      return r;
    });
  w.reject = (id, by) =>
    inDecision.run(true, async () => {
      const r = await reject(id, by);
      maybeDie('decision_after_commit');
      return r;
    });
}

const config = loadConfig(process.env, process.cwd());
const db = openConfiguredDb(config);
instrumentDb(db);
// Short leases: a restarted child takes over the singleton loops (hot-wallet refresh …) of the killed one within a second.
const platform = await createPlatform(config, db, { clock, job_poll_ms: 10, lease_ms: 1000 });
for (const sender of platform.hotWallets?.values() ?? []) instrument(sender);
if (platform.withdrawals) instrumentDecisions(platform.withdrawals);
if (process.env.CRASH_SERVE === '1') {
  const app = await buildPlatformApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
}
startBackground(platform);
process.stdout.write('started\n');
