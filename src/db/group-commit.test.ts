// Goal: group commit changes when writes reach the disk, never what they do — concurrent state
// changes share one COMMIT on SQLite, each runs alone in arrival order, a failing one rolls back
// only its own writes and fails only its own caller, and each caller settles after the commit.
// Method: a real database of each dialect, a scratch table, commits counted on the SQLite handle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { groupCommit } from './group-commit.ts';

type Scratch = Kysely<{ gc_scratch: { id: string; n: number } }>;

describe.each(DIALECTS)('group commit on %s', (dialect) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb(dialect);
    await sql`create table gc_scratch (id text primary key, n bigint not null)`.execute(t.db.kysely);
  });
  afterAll(async () => t.cleanup());

  it('runs concurrent changes in order, isolates a failure to its own caller, and shares the commit', async () => {
    const gc = groupCommit(t.db);
    expect(groupCommit(t.db)).toBe(gc);
    const seen: string[] = [];
    let commits = 0;
    const raw = t.db.sqlite;
    const counted = raw ? Object.getPrototypeOf(raw.prepare('select 1')) as { run: (...a: unknown[]) => unknown } : null;
    const run = counted?.run;
    if (counted && run) {
      counted.run = function (this: { source: string }, ...a: unknown[]) {
        if (/^commit/i.test(this.source)) commits++;
        return run.apply(this, a);
      };
    }
    try {
      const insert = (id: string, fail = false) =>
        gc.transaction(async (trx) => {
          seen.push(id);
          await (trx as unknown as Scratch).insertInto('gc_scratch').values({ id, n: 1 }).execute();
          if (fail) throw new Error(`refused ${id}`);
          return id;
        });
      const results = await Promise.allSettled([insert('a'), insert('b', true), insert('c'), insert('a')]);
      // In arrival order on SQLite; PostgreSQL runs each in its own transaction, concurrently.
      if (dialect === 'sqlite') expect(seen).toEqual(['a', 'b', 'c', 'a']);
      else expect([...seen].sort()).toEqual(['a', 'a', 'b', 'c']);
      if (dialect === 'sqlite') expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
      else expect([results[0]!.status, results[3]!.status].sort()).toEqual(['fulfilled', 'rejected']); // one 'a' wins the race
      expect((results[1] as PromiseRejectedResult).reason).toHaveProperty('message', 'refused b');
      const rows = await (t.db.kysely as unknown as Scratch).selectFrom('gc_scratch').select('id').orderBy('id').execute();
      expect(rows.map((r) => r.id)).toEqual(['a', 'c']);
      if (dialect === 'sqlite') expect(commits).toBe(1);
      // A bookkeeping write goes the same way and sees the committed state.
      expect(await gc.write(async (ex) => Number((await (ex as unknown as Scratch).updateTable('gc_scratch').set({ n: 2 }).where('id', '=', 'c').executeTakeFirst()).numUpdatedRows))).toBe(1);
    } finally {
      if (counted && run) counted.run = run;
    }
  });

  it('refuses grouped work that queues more grouped work (it would wait for itself)', async () => {
    const gc = groupCommit(t.db);
    const nested = gc.transaction(async () => gc.write(async () => 1));
    if (dialect === 'sqlite') await expect(nested).rejects.toThrow(/would deadlock/);
    else await expect(nested).resolves.toBe(1);
  });
});
