// One fuzz case -> one request (test/fuzz/openapi-fuzz.test.ts): path params drawn from the
// victim's ids, the caller's own, anyone's or evil text; a query and headers from their schemas,
// perhaps broken; a body from fuzz-kit.ts, with known-good values (a real recipient, a small
// amount, the configured asset …) laid over the faked ones often enough that requests get past
// validation into the money-moving code.
import type { Schema } from 'json-schema-faker';
import { buildBody, fake, pick, seeded, type BuiltBody, type FuzzCase, type Operation } from './fuzz-kit.ts';
import type { Actor, FuzzWorld } from './fuzz-world.ts';

export interface BuiltRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  payload?: string | Buffer;
  /** What the caller sent that may lawfully come back (ids in the path, query, body). */
  sent: string;
}

const AMOUNTS = ['0.001', '0.01', '1', '0.5', '0', '0.0000000000000000001', '1.0000000000000000001', '100000', '0.000001'];
const ADDRESSES = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x0000000000000000000000000000000000000000', '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '0xdead', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'];

/** Known-good values by field name, laid over a faked body half the time. */
function hintFor(field: string, w: FuzzWorld, rnd: () => number): unknown {
  switch (field) {
    case 'to_email': return pick(rnd, w.emails);
    case 'email': case 'new_email': return rnd() < 0.5 ? `fz${Math.floor(rnd() * 1e9)}@example.test` : pick(rnd, w.emails);
    case 'asset': return pick(rnd, ['ETH', 'ETH', 'USDT']);
    case 'amount': return pick(rnd, AMOUNTS);
    case 'to_address': return pick(rnd, ADDRESSES);
    case 'password': return 'correct horse battery staple fuzz';
    case 'url': return 'http://127.0.0.1:9/hook';
    case 'events': return ['payment.credited'];
    case 'payment_id': return pick(rnd, w.pool);
    case 'starts_at': return new Date(w.t.clock.now_ms() + (rnd() < 0.5 ? -60_000 : 3_600_000)).toISOString();
    case 'ends_at': return new Date(w.t.clock.now_ms() + 7_200_000).toISOString();
    default: return undefined;
  }
}

function hinted(valid: unknown, w: FuzzWorld, rnd: () => number): unknown {
  if (!valid || typeof valid !== 'object' || Array.isArray(valid) || rnd() < 0.3) return valid;
  const out: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
  for (const k of Object.keys(out)) {
    const h = hintFor(k, w, rnd);
    if (h !== undefined) out[k] = h;
  }
  return out;
}

function pathValue(c: FuzzCase, w: FuzzWorld, actor: Actor, rnd: () => number): string {
  switch (c.param) {
    case 'victim': return encodeURIComponent(pick(rnd, w.victim.ids));
    case 'own': return encodeURIComponent(pick(rnd, (actor.user_id && w.idsByUser.get(actor.user_id)) || w.pool));
    case 'pool': return encodeURIComponent(pick(rnd, w.pool));
    case 'evil': return encodeURIComponent(c.evilText.replace(/[\ud800-\udfff]/g, '?')) || '%20';
    case 'bad_percent': return pick(rnd, ['%', '%zz', '%E0%A4%A', '%C0%AF', '..%2F..', '%00']);
    case 'huge': return 'a'.repeat(pick(rnd, [300, 5_000, 70_000]));
  }
}

function queryString(c: FuzzCase, op: Operation, rnd: () => number): string {
  const parts: string[] = [];
  const enc = (v: unknown) => encodeURIComponent(typeof v === 'string' ? v.replace(/[\ud800-\udfff]/g, '?') : JSON.stringify(v) ?? '');
  const broken = op.query.length ? pick(rnd, op.query).name : null;
  for (const q of op.query) {
    if (!q.required && rnd() < 0.4) continue;
    if (c.query === 'missing' && q.name === broken) continue;
    const value = (c.query === 'evil' && q.name === broken) ? c.evilText : fake(q.schema, rnd);
    parts.push(`${q.name}=${enc(value)}`);
    if (c.query === 'duplicate' && q.name === broken) parts.push(`${q.name}=${enc(c.evilText)}`);
  }
  if (c.query === 'extra') parts.push(`${pick(rnd, ['x', 'user_id', 'a[b]', '__proto__', 'limit'])}=${enc(c.evil)}`);
  if (c.query === 'huge') parts.push(`q=${'z'.repeat(pick(rnd, [5_000, 100_000]))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const keys = new Map<string, string>();

function headersFor(c: FuzzCase, actor: Actor, token: string | null, rnd: () => number): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'user-agent': 'settle-fuzz' };
  if (token) h.authorization = `Bearer ${token}`;
  let key = `fz-${c.seed}-${Math.floor(rnd() * 1e9)}`;
  switch (c.header) {
    case 'valid': break;
    case 'reuse_key': key = keys.get(actor.name) ?? key; break;
    case 'no_key': key = ''; break;
    case 'evil_key': key = c.evilText.replace(/[^\x20-\x7e]/g, ''); break;
    case 'long_key': key = 'k'.repeat(pick(rnd, [256, 2_000])); break;
    case 'evil_auth': h.authorization = pick(rnd, ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${'x'.repeat(5_000)}`, 'Bearer sk_', `Bearer ${token ?? ''} extra`, 'bearer ' + (token ?? ''), `Bearer ${(token ?? 'x').slice(0, -1)}`]); break;
    case 'evil_lang': h['accept-language'] = pick(rnd, ['*', 'zh-CN;q=abc', 'x'.repeat(3_000), ',,,', 'zh-CN, en;q=0.5', 'tlh']); h['x-request-id'] = pick(rnd, ['', ' ', 'a'.repeat(500)]); break;
    case 'cookie': delete h.authorization; h.cookie = pick(rnd, [`settle_session=${token ?? 'x'}`, 'settle_session=', `settle_session=${'%'.repeat(50)}`, 'a=b; a=c; settle_session=x']); break;
  }
  if (key) h['idempotency-key'] = key;
  keys.set(actor.name, key);
  return h;
}

function kycBody(c: FuzzCase, rnd: () => number): BuiltBody {
  if (c.body !== 'valid') return buildBody(c, null, rnd);
  const bytes = Buffer.from(Array.from({ length: pick(rnd, [0, 10, 3_000]) }, () => Math.floor(rnd() * 256)));
  return { payload: Buffer.concat([Buffer.from(pick(rnd, ['%PDF-1.4 ', '\x89PNG\r\n\x1a\n', '\xff\xd8\xff', ''])), bytes]), contentType: pick(rnd, ['application/pdf', 'image/png', 'image/jpeg', 'application/octet-stream']) };
}

/** The request a case sends as `actor` (whose current token is `token`). */
export function buildRequest(c: FuzzCase, op: Operation, w: FuzzWorld, actor: Actor, token: string | null): BuiltRequest {
  const rnd = seeded(c.seed);
  const path = op.path.replace(/\{[^}]+\}/g, () => pathValue(c, w, actor, rnd));
  const url = path + queryString(c, op, rnd);
  const headers = headersFor(c, actor, token, rnd);
  const isKyc = op.method === 'POST' && op.path.endsWith('/kyc/documents');
  const valid = op.body ? hinted(fake(op.body as Schema, rnd), w, rnd) : null;
  const body = isKyc ? kycBody(c, rnd) : (op.body || c.body !== 'valid' ? buildBody(c, valid, rnd) : {});
  if (body.contentType) headers['content-type'] = body.contentType;
  const sent = `${decodeSafe(url)} ${typeof body.payload === 'string' ? body.payload : ''} ${headers['idempotency-key'] ?? ''}`;
  return { method: op.method, url, headers, ...(body.payload !== undefined ? { payload: body.payload } : {}), sent };
}

function decodeSafe(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}
