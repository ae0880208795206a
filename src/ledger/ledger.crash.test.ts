// Goal: a process killed with SIGKILL in the middle of a stream of batches loses nothing it
// acknowledged and leaves a ledger that verifies. Method: a child process
// (test/fixtures/ledger-crash-writer.ts) streams group-committed batches and prints the ids of
// each acknowledged batch; we SIGKILL it after enough acknowledgements, then check that
// verifyLedger passes, every acknowledged id is stored, and a new writer continues the chain.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { systemClock } from '../shared/clock.ts';
import { createLedger } from './ledger.ts';
import type { AccountSpec } from './ledger-types.ts';
import { verifyLedger } from './ledger-verify.ts';

const ACKS_BEFORE_KILL = 40;

describe.each(DIALECTS)('ledger crash on %s', (dialect) => {
  let t: TestDb | undefined;
  afterEach(async () => {
    await t?.cleanup();
  });

  it('keeps every acknowledged transfer and verifies after SIGKILL', async () => {
    t = await openTestDb(dialect);
    const ids = ['w', 'x', 'y', 'z'].map((s) => `crash:${s}`);
    const specs: AccountSpec[] = ids.map((id) => ({ id, asset: 'USDT', owner_type: 'platform', owner_id: 'crash', kind: 'suspense', flags: { debits_must_not_exceed_credits: false, credits_must_not_exceed_debits: false } }));
    const ledger = createLedger(t.db, systemClock);
    await ledger.ensureAccounts(specs);

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/ledger-crash-writer.ts'], {
      env: { ...process.env, ...t.env, LEDGER_ACCOUNTS: ids.join(',') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: string[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let lines = 0;
      const timer = setTimeout(() => reject(new Error(`writer too slow: ${lines} acks; stderr: ${stderr}`)), 45_000);
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        for (const line of parts) {
          if (!line.startsWith('ack')) continue;
          acked.push(...line.split(' ').slice(1).filter(Boolean));
          if (++lines === ACKS_BEFORE_KILL) {
            child.kill('SIGKILL');
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        if (lines < ACKS_BEFORE_KILL) reject(new Error(`writer exited early: ${stderr}`));
      });
    });
    expect(await exited).toBe('SIGKILL');

    const report = await verifyLedger(t.db.kysely);
    expect(report.problem).toBeNull();
    expect(acked.length).toBeGreaterThan(ACKS_BEFORE_KILL * 10);
    const stored = new Set<string>();
    for (let i = 0; i < acked.length; i += 500) for (const tr of await ledger.getTransfers(acked.slice(i, i + 500))) stored.add(tr.id);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    expect(report.transfers).toBeGreaterThanOrEqual(acked.length);

    // A new writer continues the same chain.
    expect(await ledger.createTransfers([{ id: 'after-crash', debit_account_id: ids[0]!, credit_account_id: ids[1]!, amount_minor: 1n, asset: 'USDT', reason: 'crash', reference: null }])).toEqual([
      { id: 'after-crash', result: 'ok' },
    ]);
    expect((await verifyLedger(t.db.kysely)).ok).toBe(true);
    await ledger.drain();
  }, 90_000);
});
