// Secrets of accounts: argon2id password hashes, sha256 of high-entropy tokens (session tokens,
// API keys, recovery codes: their entropy makes a slow hash pointless) and recovery codes. The
// AES-256-GCM envelopes for TOTP secrets and identity documents, and the encryption key, live in
// src/shared/encryption.ts because notify seals webhook secrets with the same code and key.
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); argon2id is the library's default algorithm. */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let hashes = 0;
/** How many argon2 hashes this process computed: lets tests prove both registration paths pay one. */
export function passwordHashCount(): number {
  return hashes;
}

export async function hashPassword(password: string): Promise<string> {
  hashes++;
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
