// Goal: over a real socket, malformed HTTP framing (a broken request line, bad or conflicting
// lengths, bad chunking, oversized or illegal headers, pipelining, an unsupported version) is
// answered with a 4xx and never a 5xx or a connection dropped without an answer; and the one
// long-lived route (GET /api/v1/stream, which inject() cannot end) answers its fuzzed callers
// with a status line too.
// Method: the whole platform listening on 127.0.0.1:0 the way main.ts listens; raw bytes written
// with node:net, the answer read until the server closes or a status line and headers arrived.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/accounts-testkit.ts';

/**
 * Sends raw bytes (then half-closes when `end`: the client has no more to say) and reads until the
 * server ends the connection, one whole answer arrived (head and Content-Length body), or `ms` pass.
 */
function raw(port: number, bytes: string | Buffer, ms = 3_000, end = false, untilClosed = false): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => (end ? socket.end(bytes) : socket.write(bytes)));
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (d) => {
      chunks.push(d);
      if (!untilClosed && oneWholeAnswer(Buffer.concat(chunks).toString('latin1'))) done();
    });
    socket.on('end', done);
    socket.on('error', done);
  });
}

/** Whether `text` is exactly one answer with a Content-Length body, all of it read. */
function oneWholeAnswer(text: string): boolean {
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, head));
  return length !== null && text.length - head - 4 === Number(length[1]);
}

function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

const H = 'Host: 127.0.0.1\r\n';
const LOGIN = '/api/v1/auth/login';
/** Each request is malformed at the framing level; each must get one 4xx status line back. */
const MALFORMED: Array<[string, string]> = [
  ['garbage request line', 'GARBAGE\r\n\r\n'],
  ['no Host on HTTP/1.1', 'GET /api/v1/me HTTP/1.1\r\n\r\n'],
  ['header without a colon', `GET /api/v1/me HTTP/1.1\r\n${H}Bad Header\r\n\r\n`],
  ['NUL in a header', `GET /api/v1/me HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`],
  ['space before the colon', `GET /api/v1/me HTTP/1.1\r\n${H}Authorization : Bearer x\r\n\r\n`],
  ['Content-Length and chunked together', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ['two different Content-Lengths', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
  ['negative Content-Length', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`],
  ['text Content-Length', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`],
  ['bad chunk size', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
  ['chunk longer than said', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{}}}\r\n0\r\n\r\n`],
  ['unknown transfer coding', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}`],
  ['oversized headers', `GET /api/v1/me HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(40_000)}\r\n\r\n`],
  ['unsupported version', `GET /api/v1/me HTTP/2.0\r\n${H}\r\n`],
  ['HTTP/0.9 line', 'GET /api/v1/me\r\n\r\n'],
  ['absolute-form URL with a bad scheme', `GET javascript:alert(1) HTTP/1.1\r\n${H}\r\n`],
  ['raw control bytes in the path', `GET /api/v1/\u0001me HTTP/1.1\r\n${H}\r\n`],
  ['bad percent-encoding', `GET /api/v1/payments/%E0%A4%A HTTP/1.1\r\n${H}\r\n`],
  ['lone LF line ends', `GET /api/v1/me HTTP/1.1\n${H.replace('\r', '')}\n`],
  ['JSON body cut short, client done', `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{"email":`],
];

describe('malformed HTTP over a real socket', () => {
  let t: TestPlatform;
  let port = 0;

  beforeAll(async () => {
    t = await startTestPlatform('sqlite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each(MALFORMED)('%s: one 4xx answer, never a 5xx, never silence', async (_name, bytes) => {
    // A body cut short is only over when the client says so (half-close); Node's parser then answers 400.
    const got = statuses(await raw(port, bytes, 3_000, bytes.includes('{"email":')));
    expect(got.length).toBe(1);
    expect(got[0]).toBeGreaterThanOrEqual(400);
    expect(got[0]).toBeLessThan(500);
  });

  it('pipelined requests, a bad body after two good ones: each gets its answer in order (the bad one closes the connection)', async () => {
    const good = `GET /api/v1/status HTTP/1.1\r\n${H}\r\n`;
    const bad = `POST ${LOGIN} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 3\r\n\r\n{"a`;
    const text = await raw(port, good + good + bad + `GET /api/v1/status HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 3_000, false, true);
    const got = statuses(text);
    expect(got, text).toEqual([200, 200, 400]);
  });

  it('a valid JSON request over the socket is answered as through inject (the harness itself works)', async () => {
    const body = '{"email":"nobody@example.com","password":"x"}';
    const got = statuses(await raw(port, `POST ${LOGIN} HTTP/1.1\r\n${H}Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    expect(got).toEqual([401]);
  });

  it('GET /api/v1/stream as anyone, with fuzzed Last-Event-ID: a status line (401 or 200), never a 5xx', async () => {
    const s = await t.platform.accounts.issueSessionForTests((await t.platform.accounts.createUserWithRoles('s@example.com', 'correct horse battery staple', [])).id);
    for (const auth of ['', `Authorization: Bearer ${s.token}\r\n`, 'Authorization: Bearer sk_nope\r\n']) {
      for (const id of ['', '0', '-1', '1e400', 'x'.repeat(3_000), '99999999999999999999', '\u00ff']) {
        const text = await raw(port, `GET /api/v1/stream HTTP/1.1\r\n${H}${auth}${id ? `Last-Event-ID: ${id}\r\n` : ''}\r\n`, 400);
        const got = statuses(text);
        expect(got.length, `${auth} ${id}: ${text.slice(0, 120)}`).toBe(1);
        expect(got[0]! < 500, text.slice(0, 200)).toBe(true);
      }
    }
  });
});
