// Expected refusals travel as ProblemError and leave the API as RFC 9457 problem+json with a
// stable `code`. Anything else that escapes a handler is a bug: it becomes a 500 `internal`.
// The title, and for zh-CN callers the detail, come from the code's entry in problem-messages.ts.
import type { Locale } from './i18n.ts';
import { problemDetailZh, problemTitle } from './problem-messages.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extra: string]: unknown;
}

export function problemType(code: string): string {
  return `https://settle.dev/problems/${code.replace(/_/g, '-')}`;
}

/** throw new ProblemError(404, 'not_found', 'No payment with that id.') */
export class ProblemError extends Error {
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ProblemError';
    this.headers = headers;
  }

  /** The problem+json body in the caller's locale (a zh-CN body keeps the English detail as `detail_en`). */
  /** The language the detail is already written in (set where it is raised in the caller's language). */
  detailLocale: Locale | null = null;

  /** throw maintenanceProblem(…).inLocale('zh-CN'): the detail is already the caller's; keep it. */
  inLocale(locale: Locale): this {
    this.detailLocale = locale;
    return this;
  }

  toBody(instance?: string, locale: Locale = 'en'): ProblemBody {
    const zh = locale === 'zh-CN' && this.detailLocale !== 'zh-CN' ? problemDetailZh(this.code) : null;
    return {
      type: problemType(this.code),
      title: problemTitle(this.code, this.status, locale),
      status: this.status,
      detail: zh ?? this.detail,
      code: this.code,
      ...(zh ? { detail_en: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extra,
    };
  }
}

export function isProblemError(error: unknown): error is ProblemError {
  return error instanceof ProblemError;
}

export const problems = {
  notFound: (what = 'resource') => new ProblemError(404, 'not_found', `No ${what} with that id, or it is not yours.`),
  unauthenticated: () => new ProblemError(401, 'unauthenticated', 'Sign in first: send a session token or API key.'),
  forbidden: (detail = 'You are not allowed to do this.') => new ProblemError(403, 'forbidden', detail),
  validation: (detail: string, errors: unknown[] = []) => new ProblemError(400, 'validation_failed', detail, { errors }),
};
