// Goal: a client that sends a body the server refuses before reading it (too large, not signed
// in, no such route) receives the problem+json answer, not a broken pipe: the server reads and
// discards the body, then answers. And POST /me/freeze takes the user's own words as its reason
// (API.md: free text up to 500 characters).
// Method: the whole platform (real database, real accounts) listening on a real port, driven
// by Node's own fetch (undici), which reports EPIPE / "fetch failed" when the server answers and
// hangs up while the body is still being sent — inject() cannot show that.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';

const PW = 'correct horse battery staple';

/**
 * A client on a slow link: sends the headers, then the body 64 KiB every few ms, and reads the
 * answer once the body is sent (as curl and most HTTP/1.1 clients do). A server that answers
 * and hangs up before the body is in makes its next write fail with EPIPE / ECONNRESET.
 */
function slowPost(port: number, path: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', (e) => resolve(`${(e as NodeJS.ErrnoException).code ?? 'error'} (had read ${got.length} bytes)`));
    s.on('end', () => resolve(got));
    s.write(`POST ${path} HTTP/1.1\r\nHost: settle.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    let off = 0;
    const pump = () => {
      if (off >= body.length || s.destroyed) return;
      s.write(body.subarray(off, off + 65536));
      off += 65536;
      setTimeout(pump, 3);
    };
    pump();
  });
}

describe('early refusals over a real socket', () => {
  let t: TestPlatform;
  let base: string;
  beforeAll(async () => {
    t = await startTestPlatform('sqlite');
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t.close();
  });

  async function post(path: string, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  }

  it('8 MB of JSON on /auth/register: 413 body_too_large problem+json', async () => {
    const big = JSON.stringify({ email: 'big@example.com', password: PW, pad: 'x'.repeat(8 * 1024 * 1024) });
    const res = await post('/api/v1/auth/register', big);
    expect(res.status).toBe(413);
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('from a slow client, an oversized body is read to its end and then refused with 413 problem+json', async () => {
    const port = (t.app.server.address() as { port: number }).port;
    for (const mb of [2, 4, 8]) {
      const answer = await slowPost(port, '/api/v1/auth/register', Buffer.alloc(mb * 1024 * 1024, 0x20));
      expect(answer, `${mb} MB`).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/content-type: application\/problem\+json/i);
      expect(answer).toContain('"code":"body_too_large"');
    }
  });

  it('a body to a route that needs a session: 401 problem+json', async () => {
    const res = await post('/api/v1/api-keys', JSON.stringify({ name: 'k', pad: 'y'.repeat(900 * 1024) }));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthenticated' });
  });

  it('a body to no route: 404 route_not_found problem+json', async () => {
    const res = await post('/api/v1/no-such-route', JSON.stringify({ pad: 'z'.repeat(900 * 1024) }));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'route_not_found' });
  });

  it('the connection still serves the next request after a refusal', async () => {
    await post('/api/v1/auth/register', JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }));
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
  });

  it('POST /me/freeze takes a sentence as its reason and keeps it with the freeze', async () => {
    expect((await post('/api/v1/auth/register', JSON.stringify({ email: 'frz@example.com', password: PW }))).status).toBe(201);
    const login = await post('/api/v1/auth/login', JSON.stringify({ email: 'frz@example.com', password: PW }));
    const auth = { authorization: `Bearer ${String(login.body.token)}` };
    const words = 'I lost my phone on the train and someone may have my authenticator — 请冻结';
    const res = await post('/api/v1/me/freeze', JSON.stringify({ reason: words }), auth);
    expect(res.status).toBe(200);
    const user = res.body.user as { status: string; freezes: Array<{ reason: string; message: string }> };
    expect(user.status).toBe('frozen');
    const row = await t.platform.db.kysely.selectFrom('freezes').select(['reason', 'note']).where('lifted_at_ms', 'is', null).executeTakeFirstOrThrow();
    expect(row).toEqual({ reason: 'user_request', note: words });
    expect((await post('/api/v1/me/freeze', JSON.stringify({ reason: 'x'.repeat(501) }), auth)).status).toBe(400);
  });
});
