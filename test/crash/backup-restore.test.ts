// Goal: `settle backup` copies a running platform's SQLite database while transfers are being
// written, and `settle restore` puts that copy into a fresh data dir, where `settle ledger
// verify` is clean and the ledger is the live one as it was at one instant: its head (sequence
// number and hash) is the live ledger's transfer of that number, so every balance is the same
// as the live platform's at that point. Restore refuses a data dir that holds a database
// unless --force, and a file that is not a Settle backup.
// Method: the whole platform in a child process (platform-child.ts, serving HTTP) over a SQLite
// file; a client streams POST /transfers while `settle backup` runs as another process; then
// `settle restore` and `settle ledger verify` with SETTLE_DATA_DIR set to a new directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { platformAccount } from '../../src/payments/custody/chart.ts';
import { ledgerAccountId } from '../../src/ledger/ledger-types.ts';
import { main } from '../../src/cli.ts';
import type { Platform } from '../../src/platform.ts';
import { loadConfig } from '../../src/config.ts';
import { openConfiguredDb, type CliContext } from '../../src/db/configured-db.ts';
import { childEnv, crashWorlds, ROOT, settle, sleep } from './crash-kit.ts';

/** `settle <args>` as a child process without blocking this one (the client keeps writing meanwhile). */
function settleAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/settle.mjs', ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

/** `settle <args>` in this process, over the configuration `env` names. */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const config = loadConfig(env, ROOT);
  const ctx: CliContext = { config: () => config, openDb: () => openConfiguredDb(config) };
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l) }, ctx);
  return { code, out: lines.join('\n') };
}

function headOf(path: string): { seq: number; hash: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select seq, hash from ledger_head').get() as { seq: number; hash: string };
  } finally {
    db.close();
  }
}

type User = { id: string; email: string; token: string };

/** Three users with 1,000,000 USDT each (booked from the platform's external account) and a session. */
async function fundedUsers(p: Platform): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < 3; i++) {
    const u = await p.accounts.createUserWithRoles(`b${i}@backup.test`, 'correct horse battery staple 9', []);
    users.push({ id: u.id, email: u.email, token: (await p.accounts.issueSessionForTests(u.id)).token });
  }
  await p.ledger.ensureAccounts([platformAccount('USDT', 'external'), ...users.map((u) => ({ id: ledgerAccountId('user', u.id, 'USDT', 'user_available'), asset: 'USDT', owner_type: 'user' as const, owner_id: u.id, kind: 'user_available' as const, flags: { debits_must_not_exceed_credits: true, credits_must_not_exceed_debits: false } }))]);
  await p.ledger.createTransfers(users.map((u) => ({ id: `fund:${u.id}`, debit_account_id: platformAccount('USDT', 'external').id, credit_account_id: ledgerAccountId('user', u.id, 'USDT', 'user_available'), amount_minor: 10n ** 12n, asset: 'USDT', reason: 'test.fund', reference: null })));
  return users;
}

/** A client posting transfers round the users, one after another, until stop(). */
function transferWriter(port: number, users: User[]) {
  let writing = true;
  let accepted = 0;
  const failures: string[] = [];
  const loop = (async () => {
    for (let i = 0; writing; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/transfers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${users[i % 3]!.token}`, 'idempotency-key': `backup-${i}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to_email: users[(i + 1) % 3]!.email, asset: 'USDT', amount: '1.25' }),
      });
      if (res.status === 201) accepted++;
      else failures.push(`${res.status} ${await res.text()}`);
    }
  })();
  return {
    failures,
    accepted: () => accepted,
    async stop() {
      writing = false;
      await loop;
    },
  };
}

describe('settle backup / restore of a running platform (SQLite)', () => {
  const worlds = crashWorlds();

  it('backs up while transfers are written; the restore verifies clean and is the live ledger at one instant', async () => {
    const { t, files, platform: p } = await worlds.open('sqlite');
    const users = await fundedUsers(p);

    const child = worlds.child({ ...files.env, CRASH_SERVE: '1' });
    const port = await child.ready;
    const writer = transferWriter(port, users);
    const failures = writer.failures;

    const backups = mkdtempSync(join(tmpdir(), 'settle-backups-'));
    const fresh = mkdtempSync(join(tmpdir(), 'settle-restored-'));
    try {
      while (writer.accepted() < 30) await sleep(20);
      const before = writer.accepted();
      const file = join(backups, 'settle.backup.db');
      const backup = await settleAsync(['backup', file], files.env);
      const during = writer.accepted() - before;
      while (writer.accepted() < before + during + 30) await sleep(20);
      await writer.stop();
      expect(backup.code, backup.out).toBe(0);
      expect(backup.out).toMatch(/^ok {3}backup of SQLite .* integrity checked$/m);
      expect(failures).toEqual([]);
      expect((await cli(['backup', file], files.env)).code, 'an existing backup file is not overwritten').toBe(2);

      // Restore into a fresh data dir (the same configuration file, its own database).
      const env = { SETTLE_DATA_DIR: fresh, SETTLE_CONFIG: files.env.SETTLE_CONFIG! };
      const restore = settle(['restore', file], env);
      expect(restore.code, restore.out).toBe(0);
      const verify = settle(['ledger', 'verify'], env);
      expect(verify.code, verify.out).toBe(0);
      expect(verify.out).toContain('hash chain intact');

      // The copy is one instant of the live ledger: its head is the live transfer of that seq.
      const head = headOf(join(fresh, 'settle.db'));
      const live = await t.db.kysely.selectFrom('ledger_transfers').select(['seq', 'hash']).where('seq', '=', head.seq).executeTakeFirstOrThrow();
      expect(Buffer.from(live.hash).toString('hex')).toBe(head.hash);
      const liveHead = headOf(t.target.kind === 'sqlite' ? t.target.path : '');
      expect(head.seq).toBeGreaterThan(3 + 30); // the funding and the transfers written before the backup
      expect(liveHead.seq).toBeGreaterThan(head.seq); // and writes went on after it
      console.log(`backup test: ${writer.accepted()} transfers accepted, ${during} while the backup ran; the copy holds ledger seq ${head.seq} of ${liveHead.seq}`);

      // A second restore into the now-used data dir is refused, unless --force (in-process from here on).
      const again = await cli(['restore', file], env);
      expect(again.code).toBe(2);
      expect(again.out).toMatch(/already holds a database .* --force/);
      expect((await cli(['restore', file, '--force'], env)).code).toBe(0);
      expect((await cli(['ledger', 'verify'], env)).code).toBe(0);
      // A file that is not a Settle backup is refused before anything is touched.
      const junk = join(backups, 'junk.db');
      writeFileSync(junk, 'not a database');
      const bad = await cli(['restore', junk, '--force'], env);
      expect(bad.code).toBe(2);
      expect(bad.out).toMatch(/not a SQLite database/);
      expect((await cli(['ledger', 'verify'], env)).out).toContain('hash chain intact');
    } finally {
      await writer.stop().catch(() => undefined);
      rmSync(backups, { recursive: true, force: true });
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 300_000);
});
