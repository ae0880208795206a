// Goal: a SIGKILL anywhere between receiving a support mail and filing it loses no mail and
// doubles nothing: killed before the store commits, the sender gets no 250 and its retry is
// filed once; killed after the commit but before the 250, the retry is recognised by its
// Message-ID; killed after the case message is written but before the job completes, the
// restarted platform finishes the job without a second message or a second acknowledgement.
// Method: the whole platform in a child process (inbound-child.ts) over a real database,
// SIGKILLed at each point; the test sends with nodemailer (retrying as a sending server would)
// and reads the cases and the acknowledgements that reach its own smtp-server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestDb, type TestDb } from '../helpers/db.ts';
import { childEnv, ROOT } from '../crash/crash-kit.ts';
import { startDevMailbox, type DevMailbox } from '../../src/notify/notify.ts';

const DESK = 'help@crash.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child { port: Promise<number>; exited: Promise<NodeJS.Signals | null>; kill(): Promise<void>; output(): string }

function startChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'inbound-child.ts')], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_c, s) => r(s)));
  const port = new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /smtp (\d+)\n[\s\S]*started/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((s) => reject(new Error(`child exited (${s}) before it started:\n${out.slice(-2000)}`)));
  });
  port.catch(() => undefined);
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { port, exited, output: () => out, async kill() { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); await exited; } };
}

async function send(port: number, messageId: string): Promise<'accepted' | 'failed'> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, socketTimeout: 20_000 });
  try {
    await transport.sendMail({ from: 'ann@example.com', to: DESK, subject: 'Withdrawal stuck', text: 'My withdrawal has been pending since yesterday.', messageId });
    return 'accepted';
  } catch {
    return 'failed';
  } finally {
    transport.close();
  }
}

describe.each(DIALECTS)('support mail survives SIGKILL (%s)', (dialect) => {
  const stops: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function world(): Promise<{ t: TestDb; inbox: DevMailbox; env: Record<string, string> }> {
    const t = await openTestDb(dialect);
    stops.push(() => t.cleanup());
    const inbox = await startDevMailbox(null);
    stops.push(() => inbox.close());
    const dir = mkdtempSync(join(tmpdir(), 'settle-mailcrash-'));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    return { t, inbox, env: { ...t.env, SETTLE_DATA_DIR: dir, SETTLE_INBOUND_SMTP_PORT: '0', SETTLE_SUPPORT_EMAIL: DESK, SETTLE_SMTP_URL: inbox.url } };
  }
  function child(env: Record<string, string>): Child {
    const c = startChild(env);
    stops.push(() => c.kill());
    return c;
  }
  async function untilFiled(t: TestDb, inbox: DevMailbox): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const left = await t.db.kysely.selectFrom('support_inbound_mails').select('id').where('status', '=', 'received').execute();
      if (left.length === 0 && inbox.to('ann@example.com').length > 0) return;
      await sleep(100);
    }
    throw new Error('the mail was not filed and acknowledged in time');
  }
  async function expectOnce(t: TestDb, inbox: DevMailbox): Promise<void> {
    const cases = await t.db.kysely.selectFrom('support_cases').select('id').execute();
    expect(cases).toHaveLength(1);
    expect(await t.db.kysely.selectFrom('support_messages').select('body').execute()).toEqual([{ body: 'My withdrawal has been pending since yesterday.' }]);
    expect(await t.db.kysely.selectFrom('support_inbound_mails').select(['status']).execute()).toEqual([{ status: 'processed' }]);
    await sleep(1500); // a second acknowledgement would have arrived by now
    expect(inbox.to('ann@example.com')).toHaveLength(1);
  }

  for (const point of ['mail_before_commit', 'mail_after_commit']) {
    it(`killed at ${point}: the sender's retry is filed once`, async () => {
      const { t, inbox, env } = await world();
      const first = child({ ...env, CRASH_POINT: point });
      expect(await send(await first.port, '<crash-1@example.com>')).toBe('failed');
      expect(await first.exited).toBe('SIGKILL');
      const stored = await t.db.kysely.selectFrom('support_inbound_mails').select('id').execute();
      expect(stored).toHaveLength(point === 'mail_before_commit' ? 0 : 1);
      const second = child(env);
      expect(await send(await second.port, '<crash-1@example.com>')).toBe('accepted');
      await untilFiled(t, inbox);
      await expectOnce(t, inbox);
    });
  }

  it('killed after the case message is written: the restarted platform finishes the job, once', async () => {
    const { t, inbox, env } = await world();
    const first = child({ ...env, CRASH_POINT: 'mail_filed' });
    expect(await send(await first.port, '<crash-2@example.com>')).toBe('accepted');
    expect(await first.exited).toBe('SIGKILL');
    expect(await t.db.kysely.selectFrom('support_messages').select('id').execute()).toHaveLength(1);
    expect(inbox.messages).toEqual([]);
    child({ ...env, CRASH_CLOCK_OFFSET_MS: '120000' }); // the killed one's job lease has expired
    await untilFiled(t, inbox);
    await expectOnce(t, inbox);
  });
});
