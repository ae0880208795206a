// The shipped list of common passwords (data/common-passwords.txt: lower-cased, 8+ characters),
// read from disk here, at the edge, so that the password rules stay pure: the face reads it once
// and hands it to checkPassword.
import { readFileSync } from 'node:fs';
import { parsePasswordList } from './accounts-rules.ts';

let blocklist: Set<string> | null = null;

/** commonPasswords().has('password') -> true; read on first use, then kept. */
export function commonPasswords(): ReadonlySet<string> {
  if (!blocklist) blocklist = parsePasswordList(readFileSync(new URL('./data/common-passwords.txt', import.meta.url), 'utf8'));
  return blocklist;
}
