// Reading a refused request's body to its end before answering. A server that answers early
// (413 on the Content-Length, 401 before parsing) and hangs up while the client is still sending
// makes the client's next write fail with EPIPE / ECONNRESET, often before it has read the
// answer: the client sees a broken connection instead of the problem+json it should act on.
// Bounded: a body larger than bytes_max, or one still arriving after ms_max, is not waited for.
import type { IncomingMessage } from 'node:http';

/** await drainRequest(req.raw, 64 * 1024 * 1024, 30_000) — then answer. */
export function drainRequest(raw: IncomingMessage, bytes_max: number, ms_max: number): Promise<void> {
  if (raw.complete || raw.destroyed || raw.readableEnded) return Promise.resolve();
  const declared = Number(raw.headers['content-length']);
  if (declared > bytes_max) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('error', finish);
      raw.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > bytes_max) finish();
    };
    const timer = setTimeout(finish, ms_max);
    raw.on('data', onData);
    raw.once('end', finish);
    raw.once('error', finish);
    raw.once('close', finish);
    raw.resume();
  });
}
