// How a payment status looks: a tone for its badge.
export type Tone = 'ok' | 'warn' | 'bad' | 'info';

const OK = new Set(['credited', 'completed', 'settled']);
const BAD = new Set(['failed', 'dropped', 'reversed', 'cancelled', 'refunded', 'expired', 'invalid']);
const WARN = new Set(['held', 'review', 'unknown']);

export function statusTone(status: string): Tone {
  if (OK.has(status)) return 'ok';
  if (BAD.has(status)) return 'bad';
  if (WARN.has(status)) return 'warn';
  return 'info';
}
