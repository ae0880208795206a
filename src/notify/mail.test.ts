// Goal: mail leaves through a durable job enqueued in the caller's transaction and arrives,
// intact (non-ASCII subjects, long links), at a real SMTP server; a failed delivery is retried
// rather than lost; nothing is sent for a rolled-back transaction.
// Method: the in-process smtp-server mailbox, nodemailer over TCP, a real JobRunner on SQLite.
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../jobs/jobs.ts';
import { ManualClock } from '../shared/clock.ts';
import { openTestDb } from '../../test/helpers/db.ts';
import { MAIL_JOB, createMailer, enqueueMail, mailJobHandler, parseMessage, startDevMailbox } from './mail.ts';

describe('mail', () => {
  it('delivers a message committed with its transaction, and none from a rolled-back one', async () => {
    const t = await openTestDb('sqlite');
    const box = await startDevMailbox(null);
    const mailer = createMailer(box.url);
    const clock = new ManualClock();
    const runner = new JobRunner(t.db, { clock }).register(MAIL_JOB, mailJobHandler(mailer));
    try {
      const link = `https://pay.example.com/api/v1/auth/not-me?token=${'A'.repeat(43)}`;
      await t.db.transaction(async (trx) => {
        await enqueueMail(trx, { to: 'Ann@Example.com', subject: '您的账户有新的登录', text: `点击冻结:\n${link}\n` }, clock);
      });
      await t.db.transaction(async (trx) => {
        await enqueueMail(trx, { to: 'ghost@example.com', subject: 'never', text: 'never' }, clock);
        throw new Error('rolled back');
      }).catch(() => undefined);
      expect(await runner.tick()).toBe(1);
      expect(box.messages).toHaveLength(1);
      const [mail] = box.to('ann@example.com');
      expect(mail!.subject).toBe('您的账户有新的登录');
      expect(mail!.text).toContain(link);
      expect(mail!.from).toBe('no-reply@settle.local');
    } finally {
      mailer.close();
      await box.close();
      await t.cleanup();
    }
  });

  it('retries when the SMTP server is unreachable instead of dropping the message', async () => {
    const t = await openTestDb('sqlite');
    const box = await startDevMailbox(null);
    const deadUrl = box.url;
    await box.close(); // nothing listens there any more
    const mailer = createMailer(deadUrl);
    const clock = new ManualClock();
    const runner = new JobRunner(t.db, { clock }).register(MAIL_JOB, mailJobHandler(mailer));
    try {
      await enqueueMail(t.db.kysely, { to: 'bob@example.com', subject: 'hi', text: 'hello' }, clock);
      expect(await runner.tick()).toBe(1);
      const job = await t.db.kysely.selectFrom('jobs').selectAll().where('kind', '=', MAIL_JOB).executeTakeFirstOrThrow();
      expect(job.status).toBe('queued');
      expect(job.attempts).toBe(1);
      expect(job.last_error).toBeTruthy();
      expect(job.run_at_ms).toBeGreaterThan(clock.now_ms());
    } finally {
      mailer.close();
      await t.cleanup();
    }
  });

  it('parses quoted-printable and encoded-word messages', () => {
    const raw = 'Subject: =?UTF-8?B?5L2g5aW9?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nline one=\r\n continues =E2=9C=93\r\n';
    expect(parseMessage(raw)).toEqual({ subject: '你好', text: 'line one continues ✓\n' });
  });
});
