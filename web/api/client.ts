// The typed API client: paths, parameters, bodies and answers come from schema.d.ts, which is
// generated from the server's OpenAPI document (npm run gen:web-api; a test fails when stale).
// Cookie session: the browser sends the HttpOnly cookie; unsafe methods add the CSRF header
// from the readable settle_csrf cookie. No token is ever kept by the app.
import type { paths } from './schema';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Ok<O> = O extends { responses: infer R } ? (200 extends keyof R ? Json<R[200]> : 201 extends keyof R ? Json<R[201]> : 202 extends keyof R ? Json<R[202]> : undefined) : never;
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Params<O> = O extends { parameters: infer P } ? P : never;
type PathOf<O> = Params<O> extends { path: infer X } ? ([X] extends [never] ? never : X) : never;
type QueryOf<O> = Params<O> extends { query?: infer X } ? X : never;
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P][M] extends undefined | never ? never : P }[keyof paths];

export interface CallOptions<O> {
  path?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
  /** Money-moving POSTs need one; keep the same key to retry safely (after a step-up, say). */
  idempotencyKey?: string;
}

/** The response of `GET path` etc.: ApiAnswer<'/api/v1/balances', 'get'>. */
export type ApiAnswer<P extends keyof paths, M extends Method> = Ok<Op<P, M>>;

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string {
    return this.problem.code;
  }
}

/** Called on a 401 `unauthenticated` (the session expired): the app goes to sign-in and back. */
let onSessionLost: () => void = () => undefined;
export function setSessionLostHandler(fn: () => void): void {
  onSessionLost = fn;
}

export function csrfToken(cookie = typeof document === 'undefined' ? '' : document.cookie): string | null {
  const m = /(?:^|;\s*)settle_csrf=([^;]+)/.exec(cookie);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** fillPath('/api/v1/payments/{id}', { id: 'pay_1' }) -> '/api/v1/payments/pay_1' */
export function fillPath(template: string, params: Record<string, unknown> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String(params[k] ?? '')));
}

function queryString(q: Record<string, unknown> | undefined): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q ?? {})) if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

async function call(method: Method, template: string, opts: CallOptions<unknown> = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'get') {
    const csrf = csrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  const url = fillPath(template, opts.path as Record<string, unknown>) + queryString(opts.query as Record<string, unknown>);
  const res = await fetch(url, { method: method.toUpperCase(), headers, credentials: 'same-origin', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  if (res.status === 204) return undefined;
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const problem = (data && typeof data === 'object' ? data : { status: res.status, code: 'http_error', title: res.statusText, detail: res.statusText }) as Problem;
    if (res.status === 401 && problem.code === 'unauthenticated') onSessionLost();
    throw new ApiError(problem);
  }
  return data;
}

/** api.get('/api/v1/payments/{id}', { path: { id } }) -> the typed payment */
export const api = {
  get: <P extends PathsWith<'get'>>(p: P, o?: CallOptions<Op<P, 'get'>>) => call('get', p, o as CallOptions<unknown>) as Promise<Ok<Op<P, 'get'>>>,
  post: <P extends PathsWith<'post'>>(p: P, o?: CallOptions<Op<P, 'post'>>) => call('post', p, o as CallOptions<unknown>) as Promise<Ok<Op<P, 'post'>>>,
  put: <P extends PathsWith<'put'>>(p: P, o?: CallOptions<Op<P, 'put'>>) => call('put', p, o as CallOptions<unknown>) as Promise<Ok<Op<P, 'put'>>>,
  patch: <P extends PathsWith<'patch'>>(p: P, o?: CallOptions<Op<P, 'patch'>>) => call('patch', p, o as CallOptions<unknown>) as Promise<Ok<Op<P, 'patch'>>>,
  delete: <P extends PathsWith<'delete'>>(p: P, o?: CallOptions<Op<P, 'delete'>>) => call('delete', p, o as CallOptions<unknown>) as Promise<Ok<Op<P, 'delete'>>>,
};

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
