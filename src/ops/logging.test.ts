// Goal: secrets never reach the log: the "this wasn't me" token in a logged URL, RPC URLs with
// their API keys (in error texts too), authorization headers, cookies, session tokens and API
// keys, passwords, TOTP and recovery codes.
// Method: the production logger (createLogger) writing into a captured stream; a real Fastify
// app logs its requests through it; module-style log calls log what modules log today.
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';
import { ManualClock } from '../shared/clock.ts';
import { openTestDb } from '../../test/helpers/db.ts';
import { createLogger } from './logging.ts';
import { createMetrics } from './metrics.ts';

const RPC = 'https://mainnet.infura.example/v3/RPCKEY0123456789abcdef';
const NOT_ME = 'NOTMETOKEN_abcdefghijklmnopqrstuvwxyz';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  return { stream, text: () => chunks.join('') };
}

function config(dir: string): Config {
  const base = loadConfig({ SETTLE_DATA_DIR: dir, SETTLE_SMTP_URL: 'smtp://mailer:SMTPPASS99@mail.example:587' }, dir);
  return { ...base, chains: [{ chain_id: 1, name: 'Ethereum', rpc_url: RPC }] };
}

describe('log redaction', () => {
  it('request logs show the not-me route without its token', async () => {
    const t = await openTestDb('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'settle-log-'));
    const out = capture();
    const cfg = config(dir);
    const app = await buildApp({ config: cfg, db: t.db, clock: new ManualClock(), metrics: createMetrics(false), loggerInstance: createLogger(cfg, out.stream) });
    try {
      await app.inject({ method: 'GET', url: `/api/v1/auth/not-me?token=${NOT_ME}`, headers: { authorization: 'Bearer sk_APIKEYSECRET0123456789', cookie: 'settle_session=SESSIONSECRET42' } });
      const text = out.text();
      expect(text).toContain('/api/v1/auth/not-me'); // the request is logged …
      expect(text).not.toContain(NOT_ME); // … without the token
      expect(text).not.toContain('APIKEYSECRET');
      expect(text).not.toContain('SESSIONSECRET');
    } finally {
      await app.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fields and texts carrying secrets are censored wherever they appear', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settle-log-'));
    try {
      const out = capture();
      const log = createLogger(config(dir), out.stream);
      // what modules log today: RPC failures as error texts, which viem fills with the URL
      log.warn({ err: String(new Error(`HTTP request failed. URL: ${RPC} Request body: {"method":"eth_blockNumber"}`)) }, 'hot wallet refresh failed');
      log.error({ err: new Error(`fetch ${RPC} failed`) }, 'scan failed');
      log.info(`connecting to ${RPC}`);
      log.info({ headers: { authorization: 'Bearer SESSIONTOKEN77', cookie: 'settle_session=COOKIE88', 'x-api-key': 'sk_HEADERKEY99' } }, 'headers');
      log.info({ body: { email: 'a@example.com', password: 'hunter2hunter2', new_password: 'NEWPASS!!', totp_code: '492039', recovery_code: 'ABCD-EFGH-IJKL' } }, 'body');
      log.info({ password: 'TOPPASSWORD', smtp: 'smtp://mailer:SMTPPASS99@mail.example:587', db: 'postgres://settle:DBPASS77@db:5432/settle' }, 'top level');
      log.info({ link: `https://pay.example/api/v1/auth/not-me?token=${NOT_ME}` }, 'mail sent');
      const text = out.text();
      for (const secret of ['RPCKEY0123456789abcdef', 'SESSIONTOKEN77', 'COOKIE88', 'HEADERKEY99', 'hunter2hunter2', 'NEWPASS!!', '492039', 'ABCD-EFGH-IJKL', 'TOPPASSWORD', 'SMTPPASS99', 'DBPASS77', NOT_ME]) {
        expect(text, secret).not.toContain(secret);
      }
      // what is useful stays: messages, the RPC host, the email
      for (const kept of ['hot wallet refresh failed', 'mainnet.infura.example', 'a@example.com', 'scan failed', 'eth_blockNumber']) expect(text).toContain(kept);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
