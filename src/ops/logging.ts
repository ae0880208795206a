// The process logger: pino with secrets kept out. Two layers, because secrets reach a log two
// ways: as named fields (an authorization header, a password in a body) — censored by path with
// pino's `redact` — and inside texts (a URL with a token in its query, an RPC URL whose path is
// the provider's API key, quoted in an error message by the HTTP client) — scrubbed by pattern
// from every string a log call carries, the request URL and error messages and stacks included.
import type { Writable } from 'node:stream';
import pino from 'pino';
import type { Config } from '../config.ts';

const CENSOR = '[redacted]';
const SECRET_KEYS = ['password', 'new_password', 'current_password', 'totp_code', 'recovery_code', 'token', 'csrf_token', 'secret', 'private_key', 'mnemonic', 'authorization', 'cookie', 'set-cookie', 'x-api-key'];
const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [`["${k}"]`, `*["${k}"]`, `*.*["${k}"]`]),
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
];

// Query parameters and path forms that carry credentials.
const QUERY_SECRET = /([?&](?:token|key|api_key|apikey|access_token|secret|password|code|sig|signature)=)[^&#\s"']+/gi;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"']+@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;
const API_KEY = /\bsk_[A-Za-z0-9_-]{8,}/g;
const COOKIE_PAIR = /\b(settle_session|settle_csrf)=[^;\s"']+/g;

/** The configured URLs whose path or query is the secret (RPC providers put API keys there). */
function secretUrls(config: Pick<Config, 'chains'>): Array<{ url: string; shown: string }> {
  const out: Array<{ url: string; shown: string }> = [];
  for (const chain of config.chains) {
    try {
      const u = new URL(chain.rpc_url);
      if (u.pathname.length > 1 || u.search) out.push({ url: chain.rpc_url.replace(/\/$/, ''), shown: `${u.protocol}//${u.host}/${CENSOR}` });
    } catch {
      // config validation already refused a URL that does not parse
    }
  }
  return out.sort((a, b) => b.url.length - a.url.length);
}

/** scrubText('GET /x?token=abc') -> 'GET /x?token=[redacted]' */
export function textScrubber(config: Pick<Config, 'chains'>): (text: string) => string {
  const urls = secretUrls(config);
  return (text) => {
    let s = text;
    for (const { url, shown } of urls) if (s.includes(url)) s = s.split(url).join(shown);
    return s
      .replace(QUERY_SECRET, `$1${CENSOR}`)
      .replace(URL_USERINFO, `$1${CENSOR}@`)
      .replace(BEARER, `$1${CENSOR}`)
      .replace(API_KEY, `sk_${CENSOR}`)
      .replace(COOKIE_PAIR, `$1=${CENSOR}`);
  };
}

function scrubDeep(value: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub, depth + 1));
  // Only plain data is copied; requests, replies and errors go through their serializers below.
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, scrub, depth + 1);
  return out;
}

/** const log = createLogger(config) — process.stdout unless a destination is given (tests capture it). */
export function createLogger(config: Pick<Config, 'log_level' | 'chains'>, destination?: Writable): pino.Logger {
  const scrub = textScrubber(config);
  return pino(
    {
      level: config.log_level,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: {
        // Fastify's request fields, with the URL scrubbed (the not-me link carries its token in the query).
        req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
          method: req.method, url: scrub(req.url ?? ''), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
        }),
        // Modules log errors as Error objects and as texts (String(e)); both are scrubbed.
        err: (err: unknown) => (err instanceof Error ? scrubDeep({ ...pino.stdSerializers.err(err) }, scrub) : scrubDeep(err, scrub)),
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubDeep(a, scrub)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? process.stdout,
  );
}
