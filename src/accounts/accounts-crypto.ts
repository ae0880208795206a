// Secrets at rest and in transit for accounts: argon2id password hashes, sha256 of high-entropy
// tokens (session tokens, API keys, recovery codes: their entropy makes a slow hash pointless),
// AES-256-GCM envelopes for TOTP secrets and identity documents, and the encryption key itself
// (from SETTLE_ENCRYPTION_KEY, or generated once into the data dir in development).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import { assert } from '../shared/assert.ts';

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); argon2id is the library's default algorithm. */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), ARGON2);
}

let verifications = 0;
/** How many argon2 verifications this process ran: lets tests prove both login paths pay one. */
export function passwordVerificationCount(): number {
  return verifications;
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  verifications++;
  try {
    return await verify(phc, password.normalize('NFC'));
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;
/** A hash to verify against when the email is unknown, so both paths cost one argon2 verify. */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

/**
 * loadEncryptionKey('base64…' | null, dataDir) -> 32-byte key. With none configured, a key is
 * generated once and kept in <data dir>/encryption.key (mode 0600) so restarts can decrypt.
 */
export function loadEncryptionKey(configured: string | null, data_dir: string): Buffer {
  if (configured) {
    const key = Buffer.from(configured, 'base64');
    assert(key.length === 32, 'encryption key must be 32 bytes');
    return key;
  }
  const path = join(data_dir, 'encryption.key');
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    assert(key.length === 32, `${path} must hold a base64 32-byte key`);
    return key;
  }
  mkdirSync(data_dir, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs, so that both decrypt the same data.
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    return loadEncryptionKey(null, data_dir);
  }
  return key;
}

/** AES-256-GCM: returns iv(12) | tag(16) | ciphertext. `aad` binds the envelope to its owner. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, envelope: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(envelope.subarray(12, 28));
  return Buffer.concat([decipher.update(envelope.subarray(28)), decipher.final()]);
}

export function sealText(key: Buffer, text: string, aad: string): string {
  return seal(key, Buffer.from(text, 'utf8'), aad).toString('base64');
}

export function openText(key: Buffer, b64: string, aad: string): string {
  return open(key, Buffer.from(b64, 'base64'), aad).toString('utf8');
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** A recovery code such as 'k7mq-2xzp-h4tw' (60 bits). */
export function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
}

export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}
