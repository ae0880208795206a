// The web app's face on the same port as the API (API.md part 2, "Web app"): hashed assets from
// web/dist/assets with a year-long immutable cache, and web/dist/index.html for every page path
// (deep links), with `<html lang>` chosen on the server and a strict Content-Security-Policy.
// Unknown paths outside the page list keep the API's problem+json 404.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { pickLocale, type Locale } from '../shared/i18n.ts';
import type { Principal } from '../shared/principal.ts';

/** Page paths of API.md part 2 (and their sub-pages); each answers the app's HTML. */
export const PAGE_PATHS = [
  '/', '/login', '/register', '/wallet', '/payments', '/payments/:id', '/help', '/help/cases/:id', '/security',
  '/merchant', '/p2p', '/p2p/orders/:id', '/notifications', '/status', '/agent', '/admin', '/admin/:section',
] as const;

/** The saved language choice of a visitor who is not signed in (`?lang=` sets it). */
export const LANG_COOKIE = 'settle_lang';

// No inline script or style anywhere: Vite emits external, hashed files only. QR codes are
// inline SVG (no data: images needed), but img-src allows data: for the 2FA QR the API may give.
export const WEB_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

export interface WebDeps {
  /** web/dist; when it has no index.html the pages answer 503 with how to build it. */
  dist_dir: string;
  authenticate?: (req: FastifyRequest) => Promise<Principal | null>;
  /** Whether the cookie must be Secure (public URL is https). */
  secure_cookies: boolean;
}

function queryLang(req: FastifyRequest): Locale | null {
  const lang = (req.query as Record<string, unknown> | undefined)?.lang;
  return lang === 'en' || lang === 'zh-CN' ? lang : null;
}

/** The signed-in user's locale; before sign-in ?lang=, then the saved choice, then Accept-Language. */
export async function pageLocale(req: FastifyRequest, deps: Pick<WebDeps, 'authenticate'>): Promise<Locale> {
  const principal = deps.authenticate ? await deps.authenticate(req).catch(() => null) : null;
  if (principal?.kind === 'session') return principal.locale;
  const saved = req.cookies[LANG_COOKIE];
  return pickLocale(queryLang(req) ?? (saved === 'en' || saved === 'zh-CN' ? saved : null), req.headers['accept-language']);
}

export function webRoutes(deps: WebDeps): FastifyPluginAsync {
  return async (app) => {
    const indexPath = join(deps.dist_dir, 'index.html');
    const built = existsSync(indexPath);
    const template = built ? readFileSync(indexPath, 'utf8') : '';
    if (existsSync(join(deps.dist_dir, 'assets'))) {
      await app.register(fastifyStatic, {
        root: join(deps.dist_dir, 'assets'),
        prefix: '/assets/',
        // File names carry their content hash: a changed file is a new URL.
        immutable: true,
        maxAge: '365d',
        index: false,
        wildcard: true,
      });
    }
    const page = async (req: FastifyRequest, reply: FastifyReply) => {
      if (!built) {
        return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store')
          .send('The web app is not built yet: run `npm run build:web` (npm start builds it when it is missing or stale).');
      }
      const locale = await pageLocale(req, deps);
      const lang = queryLang(req);
      if (lang) reply.setCookie(LANG_COOKIE, lang, { path: '/', sameSite: 'lax', httpOnly: false, secure: deps.secure_cookies, maxAge: 365 * 86_400 });
      return reply
        .header('content-security-policy', WEB_CSP)
        .header('cache-control', 'no-cache')
        .header('content-language', locale)
        .header('vary', 'cookie, accept-language')
        .type('text/html; charset=utf-8')
        .send(template.replace(/<html lang="[^"]*"/, `<html lang="${locale}"`));
    };
    for (const path of PAGE_PATHS) app.get(path, { schema: { hide: true } }, page);
  };
}
