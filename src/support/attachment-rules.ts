// What a support attachment is, judged by its bytes (never by the name or the client's
// Content-Type): PNG, JPEG, GIF, WebP, PDF or plain UTF-8 text. An executable renamed .png has
// none of these signatures and is refused. Pure.

export type SniffedType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'application/pdf' | 'text/plain';

const startsWith = (b: Buffer, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/** How much of a text file is looked at to decide that it is text. */
const TEXT_SNIFF_BYTES = 64 * 1024;

function isPlainText(b: Buffer): boolean {
  if (b.length === 0) return false;
  const head = b.subarray(0, TEXT_SNIFF_BYTES);
  for (const byte of head) {
    // Control characters other than tab, new line, carriage return and form feed: not text.
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) return false;
  }
  // Valid UTF-8 throughout the sniffed part (a cut multi-byte character at the end is allowed).
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const bad = text.indexOf('\uFFFD');
  return bad === -1 || bad >= text.length - 1;
}

/**
 * sniffType(pngBytes) -> 'image/png'; sniffType(Buffer.from('MZ…')) -> null
 */
export function sniffType(b: Buffer): SniffedType | null {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || startsWith(b, [0x47, 0x49, 0x46, 0x38, 0x39, 0x61])) return 'image/gif';
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(b, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  return isPlainText(b) ? 'text/plain' : null;
}

const EXTENSIONS: Record<SniffedType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'application/pdf': 'pdf', 'text/plain': 'txt' };

/**
 * A safe file name to show and to download under: no path, no control or quote characters, at
 * most 100 characters, and the extension of the sniffed type (a .exe name becomes .png when the
 * bytes are a PNG): safeFilename('../../a b.exe', 'image/png') -> 'a b.png'
 */
export function safeFilename(name: string | null | undefined, type: SniffedType): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = [...base].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f && !`"';<>\``.includes(ch)).join('').trim();
  const stem = cleaned.replace(/\.[^.]*$/, '').slice(0, 90) || 'attachment';
  return `${stem}.${EXTENSIONS[type]}`;
}
