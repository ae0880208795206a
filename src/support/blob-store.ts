// Where attachment bytes live: behind a small interface (a filesystem implementation by
// default; an object store can take its place), always sealed (AES-256-GCM, shared/encryption.ts)
// with the blob's key as additional data, so a file copied under another name does not open.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, seal } from '../shared/encryption.ts';

export interface BlobStore {
  /** Stores bytes under a fresh key (idempotent for the same key). */
  put(key: string, bytes: Buffer): Promise<void>;
  /** The bytes, or null when there is no such blob. */
  get(key: string): Promise<Buffer | null>;
}

const KEY_PATTERN = /^[a-z0-9_]{1,80}$/;

/** const blobs = fsBlobStore(join(data_dir, 'support-attachments'), encryptionKey) */
export function fsBlobStore(dir: string, key: Buffer): BlobStore {
  const pathOf = (k: string) => {
    if (!KEY_PATTERN.test(k)) throw new Error(`invalid blob key ${k}`);
    return join(dir, `${k}.sealed`);
  };
  return {
    async put(k, bytes) {
      mkdirSync(dir, { recursive: true });
      const path = pathOf(k);
      // Written whole then renamed: a crash never leaves half a file under the key.
      writeFileSync(`${path}.tmp`, seal(key, bytes, `support_attachment:${k}`), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    },
    async get(k) {
      try {
        return open(key, readFileSync(pathOf(k)), `support_attachment:${k}`);
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}
