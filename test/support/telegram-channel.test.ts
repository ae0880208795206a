// Goal: the Telegram channel takes real Bot API Updates on its webhook only with the secret
// token, keeps one open case per chat, and sends agent replies with sendMessage to the
// configured Bot API, honouring a 429's retry_after. Method: the real platform (both dialects)
// with SETTLE_TELEGRAM_API_URL pointing at a local HTTP server on 127.0.0.1 that plays the Bot
// API and records what it receives; Updates are posted with app.inject(); jobs and outbox
// consumers are driven by hand, the manual clock moved past retry_after.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/db.ts';
import { bearer, startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';
import { staff } from '../helpers/accounts-api-kit.ts';

const SECRET = 'tg-secret-0123456789abcdef';
const TOKEN = '123456:ABCdefGHIjklMNOpqrSTUvwx';

interface BotCall { path: string; body: { chat_id: string; text: string } }

describe.each(DIALECTS)('support Telegram channel on %s', (dialect) => {
  let t: TestPlatform;
  let bot: Server;
  const calls: BotCall[] = [];
  /** Answers the Bot API gives, in order; 200 ok once they run out. */
  const answers: Array<{ status: number; body: unknown }> = [];

  beforeEach(async () => {
    calls.length = 0;
    bot = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        calls.push({ path: req.url ?? '', body: JSON.parse(data) as BotCall['body'] });
        const a = answers.shift() ?? { status: 200, body: { ok: true, result: { message_id: calls.length } } };
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => bot.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(bot.address() as AddressInfo).port}`;
    t = await startTestPlatform(dialect, { SETTLE_TELEGRAM_WEBHOOK_SECRET: SECRET, SETTLE_TELEGRAM_BOT_TOKEN: TOKEN, SETTLE_TELEGRAM_API_URL: api });
  });
  afterEach(async () => {
    await t.close();
    await new Promise<void>((r) => bot.close(() => r()));
  });

  const update = (update_id: number, message_id: number, text: string, chat_id = 777001) => ({
    update_id,
    message: { message_id, date: 1_765_000_000, text, chat: { id: chat_id, type: 'private', first_name: 'Li' }, from: { id: chat_id, is_bot: false, first_name: 'Li', language_code: 'zh-hans' } },
  });
  const post = (body: unknown, secret: string | null = SECRET) =>
    t.app.inject({ method: 'POST', url: '/api/v1/channels/telegram/webhook', headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }, payload: body as Record<string, unknown> });
  async function settle() {
    for (let i = 0; i < 4; i++) {
      await t.drainJobs();
      await t.platform.supportChannels!.pump();
    }
  }
  const chatCases = async () => t.platform.db.kysely.selectFrom('support_cases').selectAll().where('channel', '=', 'social').execute();

  it('refuses a webhook call without the secret token, and stores nothing', async () => {
    expect((await post(update(1, 1, 'hi'), null)).statusCode).toBe(401);
    expect((await post(update(1, 1, 'hi'), `${SECRET}x`)).statusCode).toBe(401);
    expect(await chatCases()).toEqual([]);
  });

  it('keeps one case per chat, acknowledges it, and sends the agent\'s reply, honouring 429 retry_after', async () => {
    expect((await post(update(10, 1, '我的充值没有到账'))).json()).toEqual({ ok: true });
    expect((await post(update(11, 2, '交易哈希稍后发'))).statusCode).toBe(200);
    expect((await post(update(11, 2, '交易哈希稍后发'))).statusCode).toBe(200); // the Bot API redelivers
    const [c, ...more] = await chatCases();
    expect(more).toEqual([]);
    expect(c).toMatchObject({ contact: JSON.stringify({ telegram_chat_id: '777001', name: 'Li' }), user_id: null });
    const full = (await t.platform.support!.getCase(c!.id, 'staff'))!;
    expect(full.messages.map((m) => m.body)).toEqual(['我的充值没有到账', '交易哈希稍后发']);

    await settle();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(calls[0]!.body.chat_id).toBe('777001');
    expect(calls[0]!.body.text).toContain(`工单 #${c!.number}`);

    const agent = await staff(t, 'agent@example.com', 'agent');
    answers.push({ status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } } });
    const reply = await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c!.id}/messages`, headers: bearer(agent.token), payload: { body: 'We see your deposit; 3 of 12 confirmations.' } });
    expect(reply.statusCode).toBe(201);
    await t.app.inject({ method: 'POST', url: `/api/v1/agent/cases/${c!.id}/messages`, headers: bearer(agent.token), payload: { body: 'note to self', internal: true } });
    await settle();
    expect(calls).toHaveLength(2); // the rate-limited attempt; nothing for the internal note
    t.clock.advance(6_000);
    await settle();
    expect(calls).toHaveLength(2); // retry_after is not over yet
    t.clock.advance(1_500);
    await settle();
    expect(calls).toHaveLength(3);
    expect(calls[2]!.body).toEqual({ chat_id: '777001', text: `We see your deposit; 3 of 12 confirmations.\n\n—— Settle 客服，工单 #${c!.number}` });
    await settle();
    expect(calls).toHaveLength(3); // sent once
  });

  it('opens a new case for the chat once its case is closed', async () => {
    await post(update(20, 1, 'first question'));
    const [first] = await chatCases();
    await t.platform.db.kysely.updateTable('support_cases').set({ status: 'closed' }).where('id', '=', first!.id).execute();
    await post(update(21, 2, 'a new question'));
    const cases = await chatCases();
    expect(cases).toHaveLength(2);
    const row = await t.platform.db.kysely.selectFrom('support_telegram_chats').selectAll().executeTakeFirstOrThrow();
    expect(row.case_id).not.toBe(first!.id);
  });
});
