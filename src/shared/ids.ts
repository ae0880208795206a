// Ids are opaque strings: a short type prefix and 128 bits of randomness, sortable by creation
// time (the first 10 characters encode milliseconds), so cursors can page by id.
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function timePart(now_ms: number): string {
  let t = now_ms;
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

// Random bytes for ids come from a pool refilled 4 KiB at a time from the same CSPRNG (as the uuid
// package does): one randomBytes call per id cost as much as the rest of the id, and bulk writers
// make thousands per transaction. Each byte is used once.
const POOL_BYTES = 4096;
let pool = randomBytes(POOL_BYTES);
let poolAt = 0;

function random16(): Uint8Array {
  if (poolAt + 16 > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  poolAt += 16;
  return pool.subarray(poolAt - 16, poolAt);
}

/** newId('pay') -> 'pay_01jd3…' : time-ordered, 128 random bits. */
export function newId(prefix: string, now_ms = Date.now()): string {
  return `${prefix}_${timePart(now_ms)}${base32(random16())}`;
}

/** deterministicId('dep', '31337', '0xabc…', '3') -> the same id for the same parts, always. */
export function deterministicId(prefix: string, ...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  return `${prefix}_${base32(hash.subarray(0, 20))}`;
}

/** A random secret token with the given bytes of entropy, URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
