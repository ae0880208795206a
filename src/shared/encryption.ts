// Data encrypted at rest, for every module that keeps a secret it must read back later (TOTP
// secrets and identity documents in accounts, webhook signing secrets in notify): AES-256-GCM
// envelopes under one key, from SETTLE_ENCRYPTION_KEY or generated once into the data dir in
// development. Secrets that only need checking (passwords, tokens) are hashed, not sealed.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert } from './assert.ts';

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

/**
 * AES-256-GCM: returns iv(12) | tag(16) | ciphertext. `aad` binds the envelope to its owner, so
 * that an envelope copied onto another row does not open there.
 * open(key, seal(key, bytes, 'totp:usr_1'), 'totp:usr_1') -> bytes
 */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens an envelope from seal(); throws when the key, the aad or a byte is not the sealed one. */
export function open(key: Buffer, envelope: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(envelope.subarray(12, 28));
  return Buffer.concat([decipher.update(envelope.subarray(28)), decipher.final()]);
}

/** sealText(key, 'JBSWY3DP', 'totp:usr_1') -> base64 envelope */
export function sealText(key: Buffer, text: string, aad: string): string {
  return seal(key, Buffer.from(text, 'utf8'), aad).toString('base64');
}

export function openText(key: Buffer, b64: string, aad: string): string {
  return open(key, Buffer.from(b64, 'base64'), aad).toString('utf8');
}
