// The Fastify instance a routes plugin registers on, with TypeBox typing its schemas: what
// `fastify.withTypeProvider<TypeBoxTypeProvider>()` returns, named so that a plugin can hand it to
// the functions that each register one group of its routes (the plugin stays a short list).
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

/** function accountRoutes(app: TypedApp, deps: Deps): void { app.get('/x', { schema }, handler) } */
export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** A module's routes as the composition root mounts them on the app. */
export interface RouteModule {
  name: string;
  /** Mounted under /api/v1 unless prefix says otherwise ('' for pages such as /checkout). */
  prefix?: string;
  plugin: FastifyPluginAsync;
}
