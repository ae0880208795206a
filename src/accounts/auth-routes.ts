// Sign-up, sign-in, sign-out, step-up and the "this wasn't me" link (API.md "Authentication").
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ProblemError } from '../shared/errors.ts';
import { pickLocale, translate } from '../shared/i18n.ts';
import { SESSION_ABSOLUTE_MS } from './accounts-rules.ts';
import { CSRF_COOKIE, SESSION_COOKIE, metaOf, type Accounts } from './accounts.ts';
import { notMePageMessages } from './accounts-messages.ts';
import { Email, Iso, LocaleName, Password, RecoveryCode, TotpCode, User, UserEnvelope, me, tags } from './accounts-route-schemas.ts';
import { NOT_ME_PAGE_HEADERS, notMeConfirmPage, notMeDonePage, notMeExpiredPage } from './not-me-page.ts';

/** POST /auth/register, /auth/login, /auth/logout, /auth/step-up; the not-me link: notMeRoutes. */
export function authRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post('/auth/register', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'Create an account',
        body: Type.Object({ email: Email, password: Password, locale: Type.Optional(LocaleName) }, { additionalProperties: false }),
        response: { 201: UserEnvelope },
      },
    }, async (req, reply) => {
      const user = await accounts.register(req.body, metaOf(req));
      return reply.code(201).send({ user });
    });

    app.post('/auth/login', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'Sign in; answers the same for an unknown email and a wrong password',
        body: Type.Object({ email: Email, password: Password, totp_code: Type.Optional(TotpCode), recovery_code: Type.Optional(RecoveryCode) }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), csrf_token: Type.String(), expires_at: Iso, user: User }) },
      },
    }, async (req, reply) => {
      const r = await accounts.login(req.body, metaOf(req));
      const max_age = Math.floor(SESSION_ABSOLUTE_MS / 1000);
      reply.setCookie(SESSION_COOKIE, r.token, accounts.cookieOptions(max_age));
      reply.setCookie(CSRF_COOKIE, r.csrf_token, { ...accounts.cookieOptions(max_age), httpOnly: false });
      return { token: r.token, csrf_token: r.csrf_token, expires_at: new Date(r.expires_at_ms).toISOString(), user: r.user };
    });

    app.post('/auth/logout', { config: { auth: 'any' }, schema: { tags, summary: 'End this session', response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.logout(me(req), metaOf(req));
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      reply.clearCookie(CSRF_COOKIE, { path: '/' });
      return reply.code(204).send(null);
    });

    app.post('/auth/step-up', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Confirm it is you (second factor, or password where 2FA is off): opens a 15-minute privileged window',
        body: Type.Object({ password: Type.Optional(Password), totp_code: Type.Optional(TotpCode), recovery_code: Type.Optional(RecoveryCode) }, { additionalProperties: false }),
        response: { 204: Type.Null() },
      },
    }, async (req, reply) => {
      await accounts.stepUp(me(req), req.body, metaOf(req));
      return reply.code(204).send(null);
    });
  };
}

// The "this wasn't me" link (new-device mail). GET only shows a confirmation page in the
// user's language (mail scanners prefetch links; a GET must not freeze); its button POSTs
// the token (a form body, parsed only in this child scope) and that freezes, once.
const NotMeToken = Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });
const Html = { content: { 'text/html': { schema: Type.String() } } };

/** GET and POST /auth/not-me. */
export function notMeRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get('/auth/not-me', {
      config: { auth: 'public' },
      schema: {
        tags, summary: 'The "this wasn\'t me" link from a new-device alert: a confirmation page (HTML, en / zh-CN) whose button POSTs here; changes nothing',
        querystring: Type.Object({ token: NotMeToken }),
        response: { 200: Html, 404: Html },
      },
    }, async (req, reply) => {
      const locale = await accounts.notMeLocale(req.query.token);
      reply.headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8');
      if (!locale) return reply.code(404).send(notMeExpiredPage(pickLocale(null, req.headers['accept-language'])));
      return reply.send(notMeConfirmPage(locale, req.routeOptions.url ?? '/api/v1/auth/not-me', req.query.token));
    });
    await app.register(async (child) => {
      const scoped = child.withTypeProvider<TypeBoxTypeProvider>();
      scoped.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
      scoped.post('/auth/not-me', {
        config: { auth: 'public' },
        schema: {
          tags, summary: 'Freeze the account of a "this wasn\'t me" link (the page\'s button, or JSON {token}); the token works once',
          body: Type.Object({ token: NotMeToken }, { additionalProperties: false }),
          response: { 200: { content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Type.Object({ status: Type.String(), message: Type.String() }) } } }, 404: Html },
        },
      }, async (req, reply) => {
        const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        let user;
        try {
          user = await accounts.notMe(req.body.token, metaOf(req));
        } catch (error) {
          if (!form || !(error instanceof ProblemError) || error.code !== 'link_expired') throw error;
          return reply.code(404).headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8').send(notMeExpiredPage(pickLocale(null, req.headers['accept-language'])));
        }
        const locale = user.locale;
        if (form) return reply.headers(NOT_ME_PAGE_HEADERS).type('text/html; charset=utf-8').send(notMeDonePage(locale));
        return reply.type('application/json').send({ status: user.status, message: translate(notMePageMessages, 'done_body', locale) });
      });
    });
  };
}
