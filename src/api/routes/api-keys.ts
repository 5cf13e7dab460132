import { Router } from 'express';
import { tenantPathSchema } from '../schemas/billing-state';
import { actorOf } from '../../auth/principal';
import { mayGrant } from '../../domain/permissions';
import type { ApiKeyService } from '../../services/api-key-service';
import { tenantNotFound, tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { apiKeyPathSchema, createApiKeyRequestSchema } from '../schemas/api-keys';

const COLLECTION = '/api/v1/tenants/:tenantId/api-keys';

export function apiKeyRoutes(options: { apiKeys: ApiKeyService; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'post',
    path: COLLECTION,
    auth: 'tenant:api_keys:create',
    docs: { summary: 'Create an API key; the secret is shown once', tags: ['api-keys'], params: tenantPathSchema, body: createApiKeyRequestSchema, responses: { 201: { description: 'The key, with its secret this once' }, 409: { description: 'The tenant has as many keys as it may: revoke unused ones first' } } },
    handler: async (request, response) => {
      const body = parseOr400(createApiKeyRequestSchema, request.body);
      const caller = tenantPrincipalOf(response);
      // No escalation through keys: a key never outranks the person who made it.
      if (!mayGrant(caller.role, body.role)) {
        throw new Problem(403, 'Role not grantable', `A ${caller.role} cannot create a key with the ${body.role} role.`, { errors: [{ path: 'role', message: `must be ${caller.role} or below` }] });
      }
      const outcome = await options.apiKeys.create({ tenantId: caller.tenantId, name: body.name, role: body.role, actor: actorOf(caller) });
      switch (outcome.kind) {
        case 'refused':
          throw gateProblem(outcome.decision);
        case 'limit_reached':
          throw new Problem(409, 'Too many API keys', 'Revoke keys that are no longer used before creating more.');
        case 'tenant_missing':
          throw tenantNotFound();
        case 'created':
          // The only time the key is ever shown: it must not sit in a cache.
          response.status(201).location(`/api/v1/tenants/${caller.tenantId}/api-keys/${outcome.apiKey.id}`).set('Cache-Control', 'no-store').json(outcome.apiKey);
      }
    },
  });

  options.route(router, {
    method: 'get',
    path: COLLECTION,
    auth: 'tenant:api_keys:read',
    docs: { summary: "The tenant's API keys (prefixes only, never secrets)", tags: ['api-keys'], params: tenantPathSchema },
    handler: async (_request, response) => {
      const caller = tenantPrincipalOf(response);
      response.json({ items: await options.apiKeys.list(caller.tenantId) });
    },
  });

  options.route(router, {
    method: 'delete',
    path: `${COLLECTION}/:keyId`,
    auth: 'tenant:api_keys:revoke',
    docs: { summary: 'Revoke an API key', tags: ['api-keys'], params: apiKeyPathSchema, responses: { 204: { description: 'Revoked' } } },
    handler: async (request, response) => {
      const { keyId } = parseOr400(apiKeyPathSchema, request.params, 'path');
      const caller = tenantPrincipalOf(response);
      const outcome = await options.apiKeys.revoke({ tenantId: caller.tenantId, keyId, actor: actorOf(caller) });
      if (outcome === 'not_found') throw new Problem(404, 'Not found', 'No such API key.');
      response.status(204).end();
    },
  });

  return router;
}
