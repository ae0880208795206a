// Goal: one hung PostgreSQL transaction (holding, say, the ledger's head lock) cannot stall
// everything behind it: connections carry statement_timeout and
// idle_in_transaction_session_timeout, and a server that accepts but never answers cannot hold
// a connection attempt forever. The process survives the server cutting a connection it holds.
// Method: a real PostgreSQL schema, opened with short timeouts; a transaction that takes a row
// lock and then sleeps; a second connection waits for that lock; a TCP server that never speaks.
import { createServer, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db, type DbTarget } from './database.ts';
import { PG_URL, openTestDb, type TestDb } from '../../test/helpers/db.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!PG_URL)('PostgreSQL timeouts', () => {
  let t: TestDb;
  let db: Db;
  beforeAll(async () => {
    t = await openTestDb('postgres', { migrate: false });
    await sql`create table hang_probe (id integer primary key, n integer not null)`.execute(t.db.kysely);
    await sql`insert into hang_probe values (1, 0)`.execute(t.db.kysely);
    db = openDb({ ...(t.target as Extract<DbTarget, { kind: 'postgres' }>), statement_timeout_ms: 400, idle_in_transaction_timeout_ms: 400 });
  });
  afterAll(async () => {
    await db?.close();
    await t?.cleanup();
  });

  it('a transaction idle while holding a lock is cut, and the lock is free for the next writer', async () => {
    const hung = db.transaction(async (trx) => {
      await sql`update hang_probe set n = n + 1 where id = 1`.execute(trx);
      await sleep(1500); // the caller hangs (a lost await, a stuck RPC) with the row lock held
      await sql`update hang_probe set n = n + 1 where id = 1`.execute(trx);
    });
    const hungResult = hung.then(() => 'committed', (e: unknown) => `failed: ${String(e)}`);
    await sleep(100);
    const t0 = Date.now();
    await db.transaction(async (trx) => sql`update hang_probe set n = n + 10 where id = 1`.execute(trx));
    const waited_ms = Date.now() - t0;
    expect(waited_ms).toBeLessThan(1200); // freed by the server at ~400 ms, not when the caller wakes at 1500
    expect(await hungResult).toMatch(/^failed/);
    const row = await sql<{ n: number }>`select n from hang_probe where id = 1`.execute(db.kysely);
    expect(row.rows[0]?.n).toBe(10); // the hung transaction's first update was rolled back
  });

  it('a statement running past statement_timeout is cancelled', async () => {
    const t0 = Date.now();
    await expect(sql`select pg_sleep(5)`.execute(db.kysely)).rejects.toThrow(/statement timeout/);
    expect(Date.now() - t0).toBeLessThan(3000);
    // the connection stays usable
    expect((await sql<{ one: number }>`select 1 as one`.execute(db.kysely)).rows[0]?.one).toBe(1);
  });

  it('connections carry sane defaults when none are configured', async () => {
    const plain = openDb(t.target);
    try {
      const s = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(plain.kysely);
      const i = await sql<{ idle_in_transaction_session_timeout: string }>`show idle_in_transaction_session_timeout`.execute(plain.kysely);
      expect(s.rows[0]?.statement_timeout).not.toBe('0');
      expect(i.rows[0]?.idle_in_transaction_session_timeout).not.toBe('0');
    } finally {
      await plain.close();
    }
  });
});

describe('connection timeout', () => {
  let silent: Server;
  let port = 0;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts TCP connections and never answers: a PostgreSQL behind a dead proxy.
    silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a server that never answers fails the query after the connect timeout instead of hanging', async () => {
    const db = openDb({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/test`, connect_timeout_ms: 300 });
    try {
      const t0 = Date.now();
      const outcome = await Promise.race([sql`select 1`.execute(db.kysely).then(() => 'answered', (e: unknown) => `failed: ${String(e)}`), sleep(5000).then(() => 'hung')]);
      expect(outcome).toMatch(/^failed: .*timeout/i);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await Promise.race([db.close(), sleep(1000)]);
    }
  });
});
