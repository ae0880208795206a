// Expected refusals travel as ProblemError and leave the API as RFC 9457 problem+json with a
// stable `code`. Anything else that escapes a handler is a bug: it becomes a 500 `internal`.

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

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

  toBody(instance?: string): ProblemBody {
    return {
      type: problemType(this.code),
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      code: this.code,
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
