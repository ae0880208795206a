// HTTP routes of the accounts module (API.md "Authentication", "Staff" and "Details that clients
// rely on"): this plugin mounts one sub-plugin per area, each with its schemas and thin handlers
// (parse, call the face, shape the DTO) — auth-routes.ts (sign-up, sign-in, step-up, the not-me
// link), me-routes.ts (the user's own account and its security), api-key-routes.ts and
// staff-routes.ts. Every route declares who may call it in `config.auth`; a hook of this plugin
// enforces it (http/route-auth.ts) BEFORE body validation, so an anonymous caller learns nothing about a route's input
// (401 first, then 400). The authorization walk test (test/api/authz.test.ts) reads the same
// declarations.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { enforceRouteAuth } from '../http/route-auth.ts';
import type { Clock } from '../shared/clock.ts';
import type { Accounts } from './accounts.ts';
import { apiKeyRoutes } from './api-key-routes.ts';
import { authRoutes, notMeRoutes } from './auth-routes.ts';
import { meAccountRoutes, meKycRoutes, meRoutes } from './me-routes.ts';
import { staffQueueRoutes, staffUserRoutes, type AddressOwners } from './staff-routes.ts';

/** accountsRoutes(accounts) -> the Fastify plugin mounted under /api/v1. */
export function accountsRoutes(accounts: Accounts, opts: { upload_bytes_max: number; account_body_bytes_max: number; clock: Clock; addressOwners?: AddressOwners }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRequest', async (req) => enforceRouteAuth(req.routeOptions.config.auth, req.principal, { method: req.method, now_ms: opts.clock.now_ms() }));
    // Accounts routes take a few small fields: a tight limit unless the route says otherwise (the upload).
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= opts.account_body_bytes_max;
    });
    // In this order, so that the OpenAPI document and the authorization walk list routes as before.
    await app.register(authRoutes(accounts));
    await app.register(notMeRoutes(accounts));
    await app.register(meRoutes(accounts));
    await app.register(meAccountRoutes(accounts));
    await app.register(meKycRoutes(accounts, opts));
    await app.register(apiKeyRoutes(accounts));
    await app.register(staffUserRoutes(accounts, opts.addressOwners));
    await app.register(staffQueueRoutes(accounts));
  };
}
