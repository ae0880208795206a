// Goal: the inbound SMTP server answers 250 only for mail it has stored (sealed, with its
// processing job, in one transaction), refuses other recipients at RCPT TO and oversized mail,
// and stores a repeated Message-ID once. Method: a real SMTP exchange — nodemailer sends to the
// server on 127.0.0.1 — then read the rows and jobs back, on each dialect.
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.ts';
import { open } from '../../shared/encryption.ts';
import { DIALECTS, openTestDb, type TestDb } from '../../../test/helpers/db.ts';
import { EMAIL_PROCESS_JOB, inboundDedupeKey, rawMailAad, startInboundSmtp, type InboundServer } from './email-inbound.ts';

describe.each(DIALECTS)('inbound SMTP (%s)', (dialect) => {
  let t: TestDb;
  let server: InboundServer;
  const key = randomBytes(32);
  const send = (msg: nodemailer.SendMailOptions) => nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true }).sendMail({ from: 'ann@example.com', ...msg });

  beforeAll(async () => {
    t = await openTestDb(dialect);
    server = await startInboundSmtp({ db: t.db, clock: systemClock, key, support_email: 'help@settle.test', mail_bytes_max: 64 * 1024 }, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
    await t.cleanup();
  });

  it('stores the sealed raw mail and its job before answering 250, once per Message-ID', async () => {
    const info = await send({ to: 'Help <HELP@settle.test>', subject: 'Deposit missing', text: 'Hello', messageId: '<m1@example.com>' });
    expect(info.accepted).toEqual(['HELP@settle.test']);
    const rows = await t.db.kysely.selectFrom('support_inbound_mails').selectAll().execute();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ dedupe_key: 'email:<m1@example.com>', envelope_from: 'ann@example.com', status: 'received' });
    const raw = open(key, Buffer.from(row.raw_enc!, 'base64'), rawMailAad(row.id)).toString('utf8');
    expect(raw).toContain('Subject: Deposit missing');
    expect(raw).not.toBe(row.raw_enc);
    const jobs = await t.db.kysely.selectFrom('jobs').selectAll().where('kind', '=', EMAIL_PROCESS_JOB).execute();
    expect(jobs.map((j) => JSON.parse(j.payload))).toEqual([{ id: row.id }]);

    // The sending server retries after a lost 250: the same Message-ID is accepted and stored once.
    await send({ to: 'help@settle.test', subject: 'Deposit missing', text: 'Hello', messageId: '<m1@example.com>' });
    expect(await t.db.kysely.selectFrom('support_inbound_mails').select('id').execute()).toHaveLength(1);
    expect(await t.db.kysely.selectFrom('jobs').select('id').where('kind', '=', EMAIL_PROCESS_JOB).execute()).toHaveLength(1);
  });

  it('refuses other recipients at RCPT TO and mail over the size limit', async () => {
    await expect(send({ to: 'someone@elsewhere.test', subject: 'relay?', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(send({ to: 'help@settle.test', subject: 'big', text: 'x'.repeat(100 * 1024) })).rejects.toMatchObject({ responseCode: 552 });
    expect(await t.db.kysely.selectFrom('support_inbound_mails').select('id').execute()).toHaveLength(1);
  });

  it('keys a mail without a Message-ID by its bytes', () => {
    const a = inboundDedupeKey(Buffer.from('Subject: x\r\n\r\nhello'));
    expect(a).toMatch(/^email:sha256:[0-9a-f]{64}$/);
    expect(inboundDedupeKey(Buffer.from('Subject: x\r\n\r\nhello'))).toBe(a);
    expect(inboundDedupeKey(Buffer.from('Subject: x\r\nMessage-ID:\r\n <abc@h>\r\n\r\nhello'))).toBe('email:<abc@h>');
    expect(inboundDedupeKey(Buffer.from('Subject: x\r\n\r\nMessage-ID: <in-body@h>'))).toMatch(/^email:sha256:/);
  });
});
