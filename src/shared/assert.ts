// Assertions for programmer errors (TIGER_STYLE): a broken invariant throws and is caught only
// at the top, where it becomes a 500 and a log line. Expected failures are data, never asserts.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** assert(balance >= 0n, 'balance went negative') */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Used as the last line of an exhaustive switch: adding a case makes the compiler ask for it. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
