import { z } from 'zod';
import { parseRequirement, type AuthRequirement } from './auth/requirement';

/** What a route says about itself for the OpenAPI document; the schemas are the ones that validate its requests. */
export interface RouteDocs {
  summary: string;
  tags?: string[];
  params?: z.ZodType;
  query?: z.ZodType;
  /** Request headers the handler parses (an Idempotency-Key). */
  headers?: z.ZodType;
  body?: z.ZodType;
  /**
   * What the route answers. A 4xx listed here is a problem its handler raises itself (a 409, a public route's 401);
   * the 4xx that every route of its kind can answer (see `problemsOfKind`) are documented without being listed.
   */
  responses?: Record<number, { description: string; schema?: z.ZodType }>;
}

interface CatalogEntry {
  method: string;
  path: string;
  auth: AuthRequirement;
  docs?: RouteDocs;
}

export interface DocumentOptions {
  /** Where clients reach this API: PUBLIC_BASE_URL, or the URL the request for the document came to. */
  serverUrl: string;
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
    gate: { type: 'string', description: 'The gate that refused the request (lifecycle, protection, billing, kill_switch, governance, verification)' },
    reason: { type: 'string', description: 'Why the gate or the workflow refused it' },
    retryAfterSeconds: { type: 'integer', description: 'With 429 or 503: when trying again can succeed (also in Retry-After)' },
    dependency: { type: 'string', enum: ['temporal', 'database', 'timeout'], description: 'With 503: the class of dependency that was unavailable (timeout: the request deadline passed)' },
  },
};

/** A 400 always names the fields at fault: clients can point at them. */
const validationProblemSchema = {
  allOf: [{ $ref: '#/components/schemas/Problem' }, { type: 'object', required: ['errors'], properties: { errors: { minItems: 1 } } }],
};

type ProblemStatus = 400 | 401 | 403 | 404 | 408 | 413 | 415 | 429 | 431 | 503;

/** The problems every route of a kind can answer, as shared responses (components/responses), in the error handler's words. */
const SHARED_PROBLEMS: Record<ProblemStatus, { name: string; response: Record<string, unknown> }> = {
  400: { name: 'ValidationFailed', response: problemResponse('The request is not valid: `errors` lists each field at fault (path, query, header or body)', 'ValidationProblem') },
  401: {
    name: 'Unauthorized',
    response: {
      ...problemResponse('Valid credentials are required; a missing, unknown, expired or revoked one gets the same answer'),
      headers: { 'WWW-Authenticate': { description: 'The Bearer challenge', schema: { type: 'string' } } },
    },
  },
  403: { name: 'Forbidden', response: problemResponse('The credential may not do this (its kind, role or permission), or a gate refused it: `gate` and `reason` say which') },
  404: { name: 'NotFound', response: problemResponse('Nothing with that id, or nothing the caller may see: the two answer alike') },
  408: { name: 'RequestTimeout', response: problemResponse('The request was not received in time') },
  413: { name: 'PayloadTooLarge', response: problemResponse('The request body is larger than the API accepts') },
  415: { name: 'UnsupportedMediaType', response: problemResponse('A request body must be application/json') },
  429: {
    name: 'TooManyRequests',
    response: {
      ...problemResponse('A rate limit or throttle refused the request; try again after Retry-After seconds'),
      headers: {
        'Retry-After': { description: 'Seconds until trying again can succeed', schema: { type: 'integer' } },
        // draft-ietf-httpapi-ratelimit-headers: every /api answer carries them, a 429 names the policy that refused it.
        'RateLimit-Policy': {
          description:
            'The quota policies that apply, a structured-field list (draft-ietf-httpapi-ratelimit-headers): `"tenant";q=600;w=60` is 600 requests per 60 s window. Policies: `credential` and `tenant` (by plan), `operator`, `address` and `anonymous` (requests without valid credentials)',
          schema: { type: 'string', examples: ['"credential";q=150;w=60, "tenant";q=300;w=60'] },
        },
        RateLimit: {
          description: 'What remains of each policy: `r` requests left, `t` seconds until the window resets, e.g. `"tenant";r=0;t=12`',
          schema: { type: 'string', examples: ['"tenant";r=0;t=12'] },
        },
      },
    },
  },
  431: { name: 'RequestHeaderFieldsTooLarge', response: problemResponse('The request header fields together exceed what the server accepts') },
  503: {
    name: 'DependencyUnavailable',
    response: {
      ...problemResponse(
        'Temporal or Postgres is unreachable or too slow, or the request deadline (REQUEST_DEADLINE_SECONDS) passed: `type` ends in /temporal, /database or /timeout. Nothing about the request was wrong: send the same request again after Retry-After seconds (a signup, or a run with the same Idempotency-Key, lands on what an earlier attempt started)',
      ),
      headers: { 'Retry-After': { description: 'Seconds until trying again can succeed', schema: { type: 'integer' } } },
    },
  },
};

function problemResponse(description: string, schema: 'Problem' | 'ValidationProblem' = 'Problem') {
  return { description, content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${schema}` } } } };
}

/**
 * The 4xx a route answers by what it is, whatever its handler does. Every request passes Node's HTTP parser, which
 * refuses one sent too slowly (408) or with too many header bytes (431), and the app's body checks, so any route
 * refuses a path that is not UTF-8 or malformed JSON (400), a body over the limit (413) or one that is not JSON (415);
 * a guarded route refuses missing credentials (401) and a caller without the right (403); a path that names something
 * can name nothing (404); everything under /api is counted in a request budget (app.ts), a throttle (429); and any
 * route answers 503 with Retry-After when a dependency is down or its deadline passes.
 */
function problemsOfKind(entry: CatalogEntry): ProblemStatus[] {
  const statuses: ProblemStatus[] = [400, 408, 413, 415, 431];
  if (parseRequirement(entry.auth).kind !== 'public') statuses.push(401, 403);
  if (entry.path.includes('/:')) statuses.push(404);
  if (entry.path.startsWith('/api/')) statuses.push(429);
  // Every route answers within the request deadline, a dependency outage included (src/api/request-deadline.ts).
  statuses.push(503);
  return statuses;
}

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** Express `:name` segments become OpenAPI `{name}` templates. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * `POST /api/v1/tenants/:tenantId/api-keys` is `postTenantsByTenantIdApiKeys`: derived from method and path, so every
 * route has one, it is unique as long as the routes are, and it changes only when the route does.
 */
export function operationIdOf(method: string, expressPath: string): string {
  const words = expressPath
    .replace(/^\/api\/v1(?=\/|$)/, '')
    .split('/')
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[^A-Za-z0-9]+/)))
    .filter((word) => word.length > 0);
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

function parameters(where: 'path' | 'query' | 'header', schema: z.ZodType | undefined, expressPath: string) {
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

function responsesOf(entry: CatalogEntry): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const status of problemsOfKind(entry)) responses[status] = { $ref: `#/components/responses/${SHARED_PROBLEMS[status].name}` };
  for (const [status, response] of Object.entries(entry.docs?.responses ?? { 200: { description: 'OK' } })) {
    if (Number(status) >= 400) {
      // The route's own words for a problem it raises, over the shared ones; the shared headers (Retry-After and the
      // RateLimit fields of a 429) still come with it.
      const shared = (SHARED_PROBLEMS as Partial<Record<string, { response: { headers?: unknown } }>>)[status]?.response.headers;
      responses[status] = { ...problemResponse(response.description, status === '400' ? 'ValidationProblem' : 'Problem'), ...(shared ? { headers: shared } : {}) };
    } else {
      responses[status] = { description: response.description, ...(response.schema ? { content: { 'application/json': { schema: jsonSchema(response.schema) } } } : {}) };
    }
  }
  responses.default = problemResponse('Any other error, as problem+json');
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every declared route, collected as the app is built; `document()` renders OpenAPI 3.1 from the same zod schemas. */
export class ApiCatalog {
  private readonly entries: CatalogEntry[] = [];

  add(entry: CatalogEntry): void {
    this.entries.push(entry);
  }

  document(options: DocumentOptions): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const entry of this.entries) {
      const docs = entry.docs;
      (paths[openApiPath(entry.path)] ??= {})[entry.method] = {
        operationId: operationIdOf(entry.method, entry.path),
        summary: docs?.summary ?? `${entry.method.toUpperCase()} ${entry.path}`,
        ...(docs?.tags ? { tags: docs.tags } : {}),
        ...security(entry.auth),
        parameters: [...parameters('path', docs?.params, entry.path), ...parameters('query', docs?.query, entry.path), ...parameters('header', docs?.headers, entry.path)],
        ...(docs?.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(docs.body) } } } } : {}),
        responses: responsesOf(entry),
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Tenant control plane API', version: '1.0.0', description: 'Errors are RFC 9457 application/problem+json; validation errors list { path, message }.' },
      servers: [{ url: options.serverUrl }],
      paths,
      components: {
        schemas: { Problem: problemSchema, ValidationProblem: validationProblemSchema },
        responses: Object.fromEntries(Object.values(SHARED_PROBLEMS).map(({ name, response }) => [name, response])),
        securitySchemes: {
          tenantCredential: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) from /api/v1/auth/login, or a tenant API key' },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'A platform operator token from OPERATOR_TOKENS' },
        },
      },
    };
  }
}
