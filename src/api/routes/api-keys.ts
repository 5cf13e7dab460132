import { Router } from 'express';
import { tenantPathSchema } from '../schemas/billing-state';
import { actorOf } from '../../auth/principal';
import { mayGrant } from '../../domain/permissions';
import type { ApiKeyService } from '../../services/api-key-service';
import { tenantNotFound, tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { apiKeyListSchema, apiKeyPathSchema, apiKeySchema, createApiKeyRequestSchema, createdApiKeySchema, reownApiKeyRequestSchema } from '../schemas/api-keys';

const COLLECTION = '/api/v1/tenants/:tenantId/api-keys';

export function apiKeyRoutes(options: { apiKeys: ApiKeyService; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'post',
    path: COLLECTION,
    auth: 'tenant:api_keys:create',
    docs: {
      summary: 'Create an API key; the secret is shown once. It speaks for its creator and dies with their standing (or at `expiresAt`)',
      tags: ['api-keys'],
      params: tenantPathSchema,
      body: createApiKeyRequestSchema,
      responses: { 201: { description: 'The key, with its secret this once', schema: createdApiKeySchema }, 409: { description: 'The tenant has as many keys as it may: revoke unused ones first' } },
    },
    handler: async (request, response) => {
      const body = parseOr400(createApiKeyRequestSchema, request.body);
      const caller = tenantPrincipalOf(response);
      // No escalation through keys: a key never outranks the person who made it.
      if (!mayGrant(caller.role, body.role)) {
        throw new Problem(403, 'Role not grantable', `A ${caller.role} cannot create a key with the ${body.role} role.`, { errors: [{ path: 'role', message: `must be ${caller.role} or below` }] });
      }
      const outcome = await options.apiKeys.create({
        tenantId: caller.tenantId,
        name: body.name,
        role: body.role,
        actor: actorOf(caller),
        createdByUserId: caller.kind === 'user' ? caller.userId : null,
        expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt),
      });
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
    docs: {
      summary: "The tenant's API keys (prefixes only, never secrets), with each one's creator, role, last use and expiry",
      tags: ['api-keys'],
      params: tenantPathSchema,
      responses: { 200: { description: 'The keys, newest first', schema: apiKeyListSchema } },
    },
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

  options.route(router, {
    method: 'put',
    path: `${COLLECTION}/:keyId/owner`,
    auth: 'tenant:api_keys:reown',
    docs: {
      summary: "Move a key to another member (at least the key's role): the only way a key outlives its creator's standing",
      tags: ['api-keys'],
      params: apiKeyPathSchema,
      body: reownApiKeyRequestSchema,
      responses: {
        200: { description: 'The key, now speaking for that member', schema: apiKeySchema },
        404: { description: 'No such API key' },
        409: { description: 'The key is revoked, or the user is not a member of at least its role' },
      },
    },
    handler: async (request, response) => {
      const { keyId } = parseOr400(apiKeyPathSchema, request.params, 'path');
      const { userId } = parseOr400(reownApiKeyRequestSchema, request.body);
      const caller = tenantPrincipalOf(response);
      const outcome = await options.apiKeys.reown({ tenantId: caller.tenantId, keyId, userId, actor: actorOf(caller) });
      switch (outcome.kind) {
        case 'not_found':
          throw new Problem(404, 'Not found', 'No such API key.');
        case 'revoked':
          throw new Problem(409, 'API key revoked', 'A revoked key cannot be moved; create a new one.');
        case 'not_a_member':
          throw new Problem(409, 'Not a member', 'A key can only move to a member of this tenant.', { errors: [{ path: 'userId', message: 'is not a member of this tenant' }] });
        case 'role_too_low':
          throw new Problem(409, 'Role too low', `A ${outcome.memberRole} cannot hold a ${outcome.keyRole} key.`, { errors: [{ path: 'userId', message: `must be a member with the ${outcome.keyRole} role or above` }] });
        case 'reowned':
          response.json(outcome.apiKey);
      }
    },
  });

  return router;
}
