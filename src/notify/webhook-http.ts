// One webhook POST over node:http(s), connected to addresses decided before the call. The SSRF
// check resolves the endpoint's name and refuses internal addresses; if the request then
// resolved the name again (as fetch does), a name that answers public for the check and
// internal a moment later (DNS rebinding) would reach the internal network. So the request's
// lookup is pinned to the checked addresses; TLS still verifies the certificate for the name.
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/** A lookup that answers only `addresses`, whatever name it is asked. */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: typeof entries) => void)(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}

/**
 * postWebhook(url, headers, body, 10_000, ['93.184.216.34']) -> { status }. `addresses` null means
 * the system resolver (private targets allowed: development). Redirects are not followed; at most
 * response_bytes_max of the answer is read.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, timeout_ms: number, addresses: readonly string[] | null, response_bytes_max: number): Promise<{ status: number }> {
  const target = new URL(url);
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    ...(addresses && addresses.length ? { lookup: pinnedLookup(addresses) } : {}),
    signal: AbortSignal.timeout(timeout_ms),
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, options, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= response_bytes_max) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0 });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', reject);
    req.end(body);
  });
}
