// Merchant API keys (API.md "Authentication"): create (step-up; the key is shown once), list, revoke.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { API_KEY_SCOPES } from './accounts-rules.ts';
import { metaOf, type Accounts } from './accounts.ts';
import { IdParams, Iso, NullableIso, me, tags } from './accounts-route-schemas.ts';

const Scope = Type.Union(API_KEY_SCOPES.map((s) => Type.Literal(s)));
const ApiKey = Type.Object({ id: Type.String(), name: Type.String(), prefix: Type.String(), scopes: Type.Array(Type.String()), created_at: Iso, last_used_at: NullableIso, revoked_at: NullableIso });

/** POST/GET /api-keys, DELETE /api-keys/{id}. */
export function apiKeyRoutes(accounts: Accounts) {
  return async (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post('/api-keys', {
      config: { auth: 'session' },
      schema: {
        tags, summary: 'Create a merchant API key (step-up); the key is shown once',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), scopes: Type.Optional(Type.Array(Scope, { minItems: 1, maxItems: 4 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.String(), name: Type.String(), key: Type.String(), prefix: Type.String(), scopes: Type.Array(Type.String()), created_at: Iso }) },
      },
    }, async (req, reply) => reply.code(201).send(await accounts.createApiKey(me(req), req.body.name, req.body.scopes, metaOf(req))));

    app.get('/api-keys', { config: { auth: 'session' }, schema: { tags, summary: 'My API keys (never the key itself)', response: { 200: Type.Object({ data: Type.Array(ApiKey) }) } } }, async (req) => ({
      data: await accounts.listApiKeys(me(req)),
    }));

    app.delete('/api-keys/:id', { config: { auth: 'session' }, schema: { tags, summary: 'Revoke an API key', params: IdParams, response: { 204: Type.Null() } } }, async (req, reply) => {
      await accounts.revokeApiKey(me(req), req.params.id, metaOf(req));
      return reply.code(204).send(null);
    });
  };
}
