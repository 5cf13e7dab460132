import { z } from 'zod';
import { parseRequirement, type AuthRequirement } from './auth/requirement';

/** What a route says about itself for the OpenAPI document; the schemas are the ones that validate its requests. */
export interface RouteDocs {
  summary: string;
  tags?: string[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  responses?: Record<number, { description: string; schema?: z.ZodType }>;
}

interface CatalogEntry {
  method: string;
  path: string;
  auth: AuthRequirement;
  docs?: RouteDocs;
}

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] } },
  },
};

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Express `:name` segments become OpenAPI `{name}` templates. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined, expressPath: string) {
  const names = where === 'path' ? [...expressPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]!) : [];
  const properties = schema ? ((jsonSchema(schema).properties ?? {}) as Record<string, unknown>) : {};
  const required = schema ? ((jsonSchema(schema).required ?? []) as string[]) : [];
  const all = new Set([...names, ...Object.keys(properties)]);
  return [...all].map((name) => ({ name, in: where, required: where === 'path' || required.includes(name), schema: properties[name] ?? { type: 'string' } }));
}

function security(auth: AuthRequirement) {
  const parsed = parseRequirement(auth);
  if (parsed.kind === 'public') return { security: [] };
  const scheme = parsed.kind === 'operator' ? 'operatorToken' : 'tenantCredential';
  const needs = parsed.kind === 'operator' ? `operator role ${parsed.role}` : `tenant permission ${parsed.permission}`;
  return { security: [{ [scheme]: [] }], 'x-auth-requirement': auth, description: `Requires ${needs}.` };
}

/** Every declared route, collected as the app is built; `document()` renders OpenAPI 3.1 from the same zod schemas. */
export class ApiCatalog {
  private readonly entries: CatalogEntry[] = [];

  add(entry: CatalogEntry): void {
    this.entries.push(entry);
  }

  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const entry of this.entries) {
      const docs = entry.docs;
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(docs?.responses ?? { 200: { description: 'OK' } })) {
        responses[status] = { description: response.description, ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema) } } } : {}) };
      }
      responses.default = { description: 'An error, as problem+json', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
      (paths[openApiPath(entry.path)] ??= {})[entry.method] = {
        summary: docs?.summary ?? `${entry.method.toUpperCase()} ${entry.path}`,
        ...(docs?.tags ? { tags: docs.tags } : {}),
        ...security(entry.auth),
        parameters: [...parameters('path', docs?.params, entry.path), ...parameters('query', docs?.query, entry.path)],
        ...(docs?.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(docs.body) } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Tenant control plane API', version: '1.0.0', description: 'Errors are RFC 9457 application/problem+json; validation errors list { path, message }.' },
      paths,
      components: {
        schemas: { Problem: problemSchema },
        securitySchemes: {
          tenantCredential: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) from /api/v1/auth/login, or a tenant API key' },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'A platform operator token from OPERATOR_TOKENS' },
        },
      },
    };
  }
}
