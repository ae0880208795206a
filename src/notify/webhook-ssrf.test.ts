// Goal: a webhook is delivered to the address that passed the SSRF check, never to whatever the
// name resolves to a moment later (DNS rebinding: public for the check, internal for the
// connection); NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of internal IPv4 addresses are
// private too.
// Method: a real database; a TCP listener on 127.0.0.1 stands for an internal service, reached by
// the name `vm`, which this machine's /etc/hosts resolves to 127.0.0.1. The webhook service's
// checking resolver answers a public address for that name (the attacker's first DNS answer);
// the delivery must go there, so the internal listener sees no connection.
import { createServer, type Server } from 'node:net';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDb, type TestDb } from '../../test/helpers/db.ts';
import { testConfig } from '../../test/helpers/payment-testkit.ts';
import { ManualClock } from '../shared/clock.ts';
import { isPrivateAddress } from './webhook-rules.ts';
import * as store from './webhook-store.ts';
import { createWebhooks } from './webhooks.ts';

describe('webhook address rules', () => {
  it('NAT64 and 6to4 addresses that embed internal IPv4 addresses are private', () => {
    for (const ip of ['64:ff9b::7f00:1', '64:ff9b::a00:7', '64:ff9b::808:808', '2002:7f00:1::1', '2002:a9fe:a9fe::1']) expect(isPrivateAddress(ip), ip).toBe(true);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
  });
});

describe('DNS rebinding', () => {
  let t: TestDb;
  let internal: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    t = await openTestDb('sqlite');
    internal = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
    port = (internal.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => internal.close(r));
    await t.cleanup();
  });

  it('the delivery connects to the address that was checked, not to a fresh resolution of the name', async () => {
    expect((await lookup('vm')).address).toBe('127.0.0.1'); // the premise: the system resolver sends `vm` inside
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const checked: string[] = [];
    const webhooks = createWebhooks({
      db: t.db, clock, config: { ...testConfig(), allow_private_webhook_urls: false },
      // The attacker's DNS: a public answer for every check.
      resolve: async (host) => {
        checked.push(host);
        return ['192.0.2.10'];
      },
    });
    const created = await webhooks.createEndpoint('usr_rebind', `https://vm:${port}/hook`, ['*']);
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const now = clock.now_ms();
    await store.insertMessage(t.db.kysely, {
      id: 'msg_rebind000000000001', endpoint_id: created.endpoint.id, user_id: 'usr_rebind', event_id: 'evt_rebind0000000001', event_seq: 1, type: 'payment.updated',
      ordering_key: 'payment:pay_1', body: '{"type":"payment.updated"}', status: 'pending', attempts: 0, next_attempt_at_ms: now, last_status_code: null, last_error: null, created_at_ms: now, delivered_at_ms: null,
    });
    await webhooks.deliverTick();
    expect(checked).toContain('vm');
    expect(connections).toBe(0); // the internal service was never reached
    const attempt = await t.db.kysely.selectFrom('webhook_attempts').selectAll().executeTakeFirstOrThrow();
    expect(attempt.status_code).toBeNull(); // 192.0.2.10 (TEST-NET) answers nothing
  }, 30_000);
});
