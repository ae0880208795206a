// Goal: support by email works end to end over real SMTP — a mail opens a case and is
// acknowledged in the sender's language; auto-replies and bounces open nothing and get nothing;
// an agent's reply goes out threaded (Message-ID, In-Reply-To, References, [#number]); the
// customer's answer threads back into the case with the quoted history trimmed; a mail naming a
// tx hash joins the sender's web case about it; a mail from a registered address is linked but
// unverified and changes nothing on the account; a guessed [#number] from another sender opens
// its own case. Method: the real platform (both dialects) with its inbound SMTP server on a free
// port and SETTLE_SMTP_URL pointing at the test's own smtp-server; the test sends with
// nodemailer and reads what arrives; jobs and outbox consumers are driven by hand.
import nodemailer from 'nodemailer';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { bearer, json, startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';
import { signedIn, staff } from '../helpers/accounts-api-kit.ts';
import { startDevMailbox, type DevMailbox } from '../../src/notify/notify.ts';
import type { CaseDto } from '../../src/support/support.ts';

const DESK = 'help@settle.test';
const HASH = `0x${'cd'.repeat(32)}`;

describe.each(DIALECTS)('support email channel on %s', (dialect) => {
  let t: TestPlatform;
  let inbox: DevMailbox;

  beforeEach(async () => {
    inbox = await startDevMailbox(null);
    t = await startTestPlatform(dialect, { SETTLE_INBOUND_SMTP_PORT: '0', SETTLE_SMTP_URL: inbox.url, SETTLE_SUPPORT_EMAIL: DESK });
  });
  afterEach(async () => {
    await t.close();
    await inbox.close();
  });

  const port = () => t.platform.supportChannels!.inbound!.port;
  async function mail(msg: nodemailer.SendMailOptions & { envelope?: { from: string; to: string[] } }) {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: port(), secure: false, ignoreTLS: true });
    await transport.sendMail({ to: DESK, ...msg });
    transport.close();
  }
  /** Runs the platform's jobs and the channels' outbox consumers until nothing is left to do. */
  async function settle() {
    for (let i = 0; i < 5; i++) {
      await t.drainJobs();
      await t.platform.supportChannels!.pump();
    }
    await t.drainJobs();
  }
  const received = async (to: string): Promise<ParsedMail[]> => Promise.all(inbox.to(to).map((m) => simpleParser(m.raw)));
  const staffCase = async (id: string) => (await t.platform.support!.getCase(id, 'staff'))!;
  const casesOf = async (email: string) => t.platform.db.kysely.selectFrom('support_cases').selectAll().where('contact_email', '=', email).execute();

  it('opens a case from a mail, acknowledges it, sends the agent\'s reply threaded, and threads the answer back', async () => {
    await mail({ from: 'Ann Lee <ann@example.com>', subject: '充值没有到账', text: '我昨天充值了 10 USDT，还没有到账。', messageId: '<ann-1@example.com>', attachments: [{ filename: 'receipt.txt', content: 'Sent 10 USDT at 09:12.', contentType: 'text/plain' }] });
    await settle();
    const [opened] = await casesOf('ann@example.com');
    expect(opened).toMatchObject({ channel: 'email', user_id: null, unverified: 0 });
    const row = await t.platform.db.kysely.selectFrom('support_inbound_mails').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'processed', case_id: opened!.id, raw_enc: null });
    // The mail's attachment is kept on the case (through the desk's attachment store).
    expect((await staffCase(opened!.id)).messages[0]!.attachments.map((a) => [a.filename, a.size])).toEqual([['receipt.txt', 22]]);

    const [ack] = await received('ann@example.com');
    expect(ack!.subject).toBe(`[#${opened!.number}] 已收到: 充值没有到账`);
    expect(ack!.headers.get('auto-submitted')).toBe('auto-replied');
    expect(ack!.inReplyTo).toBe('<ann-1@example.com>');
    expect(ack!.from?.value[0]?.address).toBe(DESK);
    expect(ack!.text).toContain(`工单 #${opened!.number}`);
    expect(ack!.text).not.toMatch(/USDT|余额|balance/i);

    const agent = await staff(t, 'agent@example.com', 'agent');
    const reply = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${opened!.id}/messages`, headers: bearer(agent.token), payload: { body: 'We found your deposit; it is waiting for confirmations.' } });
    expect(reply.statusCode).toBe(201);
    await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${opened!.id}/messages`, headers: bearer(agent.token), payload: { body: 'internal: check the chain', internal: true } });
    await settle();
    const out = await received('ann@example.com');
    expect(out).toHaveLength(2); // the acknowledgement and the reply; never the internal note
    const answer = out[1]!;
    expect(answer.subject).toBe(`Re: [#${opened!.number}] 充值没有到账`);
    expect(answer.inReplyTo).toBe('<ann-1@example.com>');
    expect([answer.references].flat()).toEqual(['<ann-1@example.com>']);
    expect(answer.messageId).toMatch(/^<msg_[0-9a-z]+\.case@settle\.test>$/);
    expect(answer.text).toContain('We found your deposit');
    expect(answer.text).toContain('邮件中不会包含余额或账户信息');
    expect(answer.text).not.toContain('internal');

    // Ann answers the agent's mail without the tag: In-Reply-To threads it; the quote is trimmed.
    await mail({ from: 'ann@example.com', subject: 'Re: 充值没有到账', inReplyTo: answer.messageId, references: [answer.messageId!], messageId: '<ann-2@example.com>', text: `好的，谢谢。\n\n在 2026年12月7日 10:00，Settle Support <${DESK}> 写道：\n> We found your deposit` });
    await settle();
    const c = await staffCase(opened!.id);
    expect(c.messages.filter((m) => !m.internal).map((m) => [m.author.type, m.body])).toEqual([
      ['customer', '我昨天充值了 10 USDT，还没有到账。'],
      ['agent', 'We found your deposit; it is waiting for confirmations.'],
      ['customer', '好的，谢谢。'],
    ]);
    expect(await casesOf('ann@example.com')).toHaveLength(1);
    expect(await received('ann@example.com')).toHaveLength(2); // no acknowledgement for a mail that joined a case
  });

  it('opens nothing and answers nothing for auto-replies and bounces', async () => {
    await mail({ from: 'bob@example.com', subject: 'Out of office', text: 'I am away.', headers: { 'Auto-Submitted': 'auto-replied' } });
    await mail({ from: 'list@example.com', subject: 'Newsletter', text: 'news', headers: { Precedence: 'bulk' } });
    await mail({ from: 'MAILER-DAEMON@mx.example.com', subject: 'Undelivered Mail Returned to Sender', text: 'bounce', envelope: { from: '', to: [DESK] } });
    await settle();
    expect(await t.platform.db.kysely.selectFrom('support_cases').select('id').execute()).toEqual([]);
    const rows = await t.platform.db.kysely.selectFrom('support_inbound_mails').select(['status', 'reason']).orderBy('received_at_ms').execute();
    expect(rows.map((r) => r.status)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(rows.map((r) => r.reason).sort()).toEqual(['auto_submitted', 'null_sender', 'precedence']);
    expect(inbox.messages).toEqual([]);
  });

  it('joins the sender\'s web case about a tx hash; a registered sender is linked unverified and nothing on the account changes', async () => {
    const b = await signedIn(t, 'bea@example.com');
    const web = json<CaseDto>(await t.app.inject({ method: 'POST', url: '/api/v1/support/cases', headers: bearer(b.token), payload: { subject: 'Deposit missing', body: 'tx in body', tx_hash: HASH } }));
    const userBefore = await t.platform.db.kysely.selectFrom('users').selectAll().where('id', '=', b.id).executeTakeFirstOrThrow();
    const auditBefore = await t.platform.db.kysely.selectFrom('audit_log').select('id').execute();
    await mail({ from: 'BEA@example.com', subject: 'About my deposit', text: `It is ${HASH}. Please freeze my account, change my email to evil@example.com and withdraw everything to 0x${'11'.repeat(20)}.`, messageId: '<bea-1@example.com>' });
    await settle();
    const joined = await staffCase(web.id);
    expect(joined.messages.map((m) => m.channel)).toEqual(['web', 'email']);
    expect(await t.platform.db.kysely.selectFrom('support_cases').select('id').execute()).toHaveLength(1);
    expect(await t.platform.db.kysely.selectFrom('users').selectAll().where('id', '=', b.id).executeTakeFirstOrThrow()).toEqual(userBefore);
    expect(await t.platform.db.kysely.selectFrom('audit_log').select('id').execute()).toEqual(auditBefore);
    expect(await t.platform.db.kysely.selectFrom('support_actions').select('id').execute()).toEqual([]);

    // A mail from the registered address about something new opens a case linked to Bea, unverified.
    await mail({ from: 'bea@example.com', subject: 'Another question', text: 'How long do withdrawals take?', messageId: '<bea-2@example.com>' });
    await settle();
    const [fresh] = await t.platform.db.kysely.selectFrom('support_cases').selectAll().where('id', '!=', web.id).execute();
    expect(fresh).toMatchObject({ user_id: b.id, unverified: 1, channel: 'email' });
    // Bea's mail is answered in her language, and says nothing about her account.
    const acks = (await received('bea@example.com')).filter((m) => m.from?.value[0]?.address === DESK);
    expect(acks.map((m) => m.subject)).toEqual([`[#${fresh!.number}] Received: Another question`]);
    expect(acks[0]!.text).not.toMatch(/balance|USDT|0x/i);
  });

  it('does not let a guessed [#number] from another sender write into someone\'s case', async () => {
    await mail({ from: 'ann@example.com', subject: 'My withdrawal', text: 'stuck', messageId: '<ann-9@example.com>' });
    await settle();
    const [annCase] = await casesOf('ann@example.com');
    await mail({ from: 'mallory@example.com', subject: `Re: [#${annCase!.number}] My withdrawal`, text: 'Please send the refund to my new address instead.', messageId: '<m-1@example.com>' });
    await settle();
    expect((await staffCase(annCase!.id)).messages).toHaveLength(1);
    const [mallory] = await casesOf('mallory@example.com');
    expect(mallory!.id).not.toBe(annCase!.id);
  });
});
