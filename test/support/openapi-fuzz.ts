import fc from 'fast-check';
import {
  encodeComponent,
  hostileNumber,
  hostileString,
  hostileValue,
  isSendableHeaderValue,
  nestedArrays,
  nestedObjects,
  ODD_CONTENT_TYPES,
  preview,
  RAW_BODIES,
  RawJson,
  toJsonText,
  UNSTORABLE,
  wrongType,
} from './fuzz';

/**
 * Requests generated from the OpenAPI document the app serves: for every operation, near-valid bodies, parameters and
 * headers built from its JSON schemas, with a hostile layer (test/support/fuzz.ts) laid over them. Nothing here knows
 * a route by name; what the document cannot say (the password policy, the duration grammar) comes in as hints.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
}

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface OpenApiOperation {
  security?: unknown[];
  'x-auth-requirement'?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: readonly string[] = ['get', 'post', 'put', 'patch', 'delete'];

export interface Parameter {
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface FuzzOperation {
  /** `POST /api/v1/runs`: how the operation is named in the test output. */
  name: string;
  method: HttpMethod;
  /** The OpenAPI path template, `/api/v1/tenants/{tenantId}/limits`. */
  template: string;
  /** `public`, `tenant:<permission>` or `operator:<role>`, from `x-auth-requirement` and `security`. */
  auth: string;
  pathParameters: Parameter[];
  queryParameters: Parameter[];
  body?: JsonSchema;
  /** The statuses the document says the operation answers (`default` aside): a client handles these and no other 4xx. */
  declaredStatuses: number[];
}

export const operationName = (method: string, template: string) => `${method.toUpperCase()} ${template}`;

/** A 4xx the document does not declare for the operation: a client generated from the document would not expect it. */
export function undeclaredStatus(operation: FuzzOperation, status: number): string[] {
  if (status < 400 || status >= 500 || operation.declaredStatuses.includes(status)) return [];
  return [`${status} is not among the statuses the OpenAPI document declares (${operation.declaredStatuses.join(', ')})`];
}

/** Every operation of the document. One it declares guarded without saying by what is an error, not a public route. */
export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const guarded = (operation.security ?? []).length > 0;
      const auth = operation['x-auth-requirement'] ?? (guarded ? undefined : 'public');
      if (auth === undefined) throw new Error(`${operationName(method, template)} has security but no x-auth-requirement`);
      const parameters = (where: string) =>
        (operation.parameters ?? []).filter((parameter) => parameter.in === where).map((parameter) => ({ name: parameter.name, required: parameter.required === true, schema: parameter.schema ?? { type: 'string' } }));
      operations.push({
        name: operationName(method, template),
        method: method as HttpMethod,
        template,
        auth,
        pathParameters: parameters('path'),
        queryParameters: parameters('query'),
        body: operation.requestBody?.content?.['application/json']?.schema,
        declaredStatuses: Object.keys(operation.responses ?? {}).filter((status) => status !== 'default').map(Number),
      });
    }
  }
  return operations;
}

/** Any JSON at all: a schema with nothing that constrains it (a run plan's `records.write` value). */
export const isFreeForm = (schema: JsonSchema) =>
  schema.type === undefined && schema.properties === undefined && schema.items === undefined && schema.oneOf === undefined && schema.anyOf === undefined && schema.enum === undefined && !('const' in schema);

const typeOf = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type.find((type) => type !== 'null') : schema.type);

/** Valid values of fields by property name, for rules the document cannot carry. */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/** A cursor as the API writes one: base64url JSON naming the id the next page starts before. */
export const cursorOf = (beforeId: string) => Buffer.from(JSON.stringify({ beforeId })).toString('base64url');

/** Hints that hold for this API: what the password policy, the duration grammar and the cursor encoding accept. */
export const API_HINTS: Hints = {
  password: fc.constantFrom('Strong-Password-42', 'Fuzz-Secret-Value-7', 'correct HORSE battery 9'),
  // Long enough that a run the fuzz starts stays quiet for the rest of the suite.
  duration: fc.constantFrom('2h', '7d', '45m'),
  timeout: fc.constantFrom('24h', '7d', '30d'),
  cursor: fc.integer({ min: 1, max: 1_000_000 }).map((id) => cursorOf(String(id))),
};

const regexOf = (pattern: string) => new RegExp(pattern, 'u');

function lengthBounds(schema: JsonSchema) {
  const minLength = schema.minLength ?? 0;
  return { minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 40, 40)) };
}

/** A printable string the schema accepts (a trimmed, non-blank one: zod trims most free text before its length check). */
function validString(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid({ version: [4, 7] });
  if (schema.format === 'email') {
    return fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{3,11}$/), fc.constantFrom('example.com', 'example.org', 'mail.test.dev')).map(([local, domain]) => `${local}@${domain}`);
  }
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString());
  const { minLength, maxLength } = lengthBounds(schema);
  const fits = (value: string) => value.length >= minLength && value.length <= (schema.maxLength ?? Infinity) && (!schema.pattern || regexOf(schema.pattern).test(value));
  if (schema.pattern) {
    try {
      return fc.stringMatching(regexOf(schema.pattern), { size: 'small' }).filter(fits);
    } catch {
      // fast-check cannot generate from every regex (Unicode property classes): printable text, filtered, instead.
    }
  }
  const text = fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.'.split('')) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) }), minLength: Math.max(minLength, 1), maxLength });
  return text.map((value) => value.trim()).filter((value) => value.length > 0 && fits(value));
}

function validNumber(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1_000_000);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1_000_000);
  if (integer) return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0));
}

/** Mostly-valid values for a schema: right types, enums and formats, within every bound. */
export function validArbitrary(schema: JsonSchema, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  if (name !== undefined && hints[name]) return hints[name];
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return fc.oneof(...variants.map((variant) => validArbitrary(variant, hints, name)));
  if (isFreeForm(schema)) return fc.jsonValue({ maxDepth: 3 });
  switch (typeOf(schema)) {
    case 'object': {
      const properties = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, validArbitrary(property, hints, key)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((key) => key in properties) });
    }
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(validArbitrary(schema.items ?? {}, hints), { minLength, maxLength: Math.min(schema.maxItems ?? minLength + 3, minLength + 3) });
    }
    case 'integer':
      return validNumber(schema, true);
    case 'number':
      return validNumber(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'string':
      return validString(schema);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** The values just inside and just past every bound the schema states, and the near misses of its formats. */
export function boundaryValues(schema: JsonSchema | undefined, current: unknown): unknown[] {
  if (schema === undefined) return [null, '', 0];
  if (isFreeForm(schema)) {
    return [
      nestedObjects(32),
      nestedObjects(33),
      nestedObjects(1_000),
      nestedArrays(33),
      nestedArrays(5_000),
      JSON.parse('{"a\\u0000b":1}') as unknown,
      { nested: { a: UNSTORABLE.loneHigh } },
      { nested: [UNSTORABLE.nul] },
      'x'.repeat(8 * 1024 + 1),
      new RawJson('1e309'),
      new RawJson('99999999999999999999'),
      new RawJson('-0'),
    ];
  }
  const values: unknown[] = [null, [], {}];
  if ('const' in schema && typeof schema.const === 'string') values.push(schema.const.toUpperCase(), `${schema.const} `, `${schema.const}\u0000`);
  for (const option of schema.enum ?? []) {
    if (typeof option === 'string') values.push(option.toUpperCase(), ` ${option}`, `${option}\u0000`, `${option}\uD800`);
  }
  switch (typeOf(schema)) {
    case 'string': {
      const text = typeof current === 'string' && current.length > 0 ? current : 'x';
      values.push('', ' ', `${text.slice(0, 1)}\u0000${text.slice(1)}`, `${text}\uDFFF`, 42, true);
      if (schema.maxLength !== undefined) values.push('x'.repeat(schema.maxLength), 'x'.repeat(schema.maxLength + 1), '🦄'.repeat(Math.floor(schema.maxLength / 2) + 1));
      if (schema.minLength !== undefined && schema.minLength > 0) values.push('x'.repeat(schema.minLength - 1), ' '.repeat(schema.minLength));
      if (schema.format === 'uuid') values.push(text.toUpperCase(), text.replace(/-/g, ''), `{${text}}`, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-0000-0000-00000000000g', '99999999999999999999');
      if (schema.format === 'email') values.push('A@EXAMPLE.COM', 'a@b', 'a@@example.com', 'ä@example.com', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(320)}.com`, 'a@example.com\n');
      if (schema.format === 'date-time') values.push('2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01', '+275760-09-13T00:00:00.000Z', '2024-01-01T00:00:00+25:00', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '1e308');
      break;
    }
    case 'integer':
    case 'number':
      values.push(
        ...(schema.minimum !== undefined ? [schema.minimum - 1, schema.minimum, schema.minimum + 0.5] : []),
        ...(schema.maximum !== undefined ? [schema.maximum + 1, schema.maximum, schema.maximum - 0.5] : []),
        2 ** 53,
        -(2 ** 53),
        1e308,
        new RawJson('1e309'),
        new RawJson('-0'),
        new RawJson('99999999999999999999'),
        '5',
        'NaN',
      );
      break;
    case 'array': {
      const first = Array.isArray(current) ? current[0] : undefined;
      if (schema.maxItems !== undefined) values.push(Array.from({ length: schema.maxItems + 1 }, () => first ?? null));
      values.push([null], [[]], 'steps');
      break;
    }
    case 'boolean':
      values.push('true', 0);
      break;
  }
  return values;
}

type Path = Array<string | number>;

interface Slot {
  path: Path;
  schema: JsonSchema | undefined;
  value: unknown;
}

/** The schema a value of a oneOf matches: the variant whose `const` properties it carries, else the first. */
function variantOf(variants: JsonSchema[], value: unknown): JsonSchema | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return variants[0];
  const record = value as Record<string, unknown>;
  return (
    variants.find((variant) => Object.entries(variant.properties ?? {}).every(([key, property]) => !('const' in property) || record[key] === property.const)) ?? variants[0]
  );
}

/** Every node of a value with the schema that governs it, the root first; free-form and raw values are leaves. */
export function slotsOf(value: unknown, schema: JsonSchema | undefined): Slot[] {
  const slots: Slot[] = [];
  const stack: Slot[] = [{ path: [], schema, value }];
  while (stack.length > 0) {
    const slot = stack.shift()!;
    const governing = slot.schema && (slot.schema.oneOf ?? slot.schema.anyOf) ? variantOf(slot.schema.oneOf ?? slot.schema.anyOf ?? [], slot.value) : slot.schema;
    slots.push({ ...slot, schema: governing });
    if (governing && isFreeForm(governing)) continue;
    if (slot.value instanceof RawJson || slot.value === null || typeof slot.value !== 'object') continue;
    if (Array.isArray(slot.value)) {
      slot.value.forEach((element, index) => stack.push({ path: [...slot.path, index], schema: governing?.items, value: element }));
    } else {
      for (const [key, element] of Object.entries(slot.value)) stack.push({ path: [...slot.path, key], schema: governing?.properties?.[key], value: element });
    }
  }
  return slots;
}

/** A copy of `root` with the node at `path` replaced (or removed when `value` is `REMOVE`); `root` is left as it was. */
function withNode(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (rest.length === 0 && value === REMOVE) copy.splice(head as number, 1);
    else copy[head as number] = withNode(copy[head as number], rest, value);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  // defineProperty, not assignment: a generated `__proto__` key must stay an own key, as JSON.parse makes it.
  for (const [key, element] of Object.entries(root as Record<string, unknown>)) Object.defineProperty(copy, key, { value: element, enumerable: true, writable: true, configurable: true });
  if (rest.length === 0 && value === REMOVE) delete copy[head as string];
  else Object.defineProperty(copy, head as string, { value: withNode(copy[head as string], rest, value), enumerable: true, writable: true, configurable: true });
  return copy;
}

const REMOVE = Symbol('remove');

interface Mutation {
  kind: 'hostile' | 'boundary' | 'remove' | 'unknown field';
  at: number;
  pick: number;
  hostile: unknown;
  key: string;
}

const mutationArbitrary = (bounds: { minimum?: number; maximum?: number } = {}): fc.Arbitrary<Mutation> =>
  fc.record({
    kind: fc.constantFrom('hostile', 'hostile', 'boundary', 'boundary', 'remove', 'unknown field'),
    at: fc.nat(),
    pick: fc.nat(),
    hostile: hostileValue(bounds),
    key: fc.constantFrom('extra', 'isAdmin', 'tenantId', 'role', 'id', '__proto__', 'constructor', 'a\u0000b', '\uD800', ''),
  }) as fc.Arbitrary<Mutation>;

function mutate(value: unknown, schema: JsonSchema, mutation: Mutation): unknown {
  const slots = slotsOf(value, schema);
  const slot = slots[mutation.at % slots.length]!;
  switch (mutation.kind) {
    case 'hostile':
      return withNode(value, slot.path, mutation.hostile);
    case 'boundary': {
      const candidates = boundaryValues(slot.schema, slot.value);
      return withNode(value, slot.path, candidates[mutation.pick % candidates.length]);
    }
    case 'remove':
      return slot.path.length === 0 ? undefined : withNode(value, slot.path, REMOVE);
    case 'unknown field': {
      const objects = slots.filter((candidate) => candidate.value !== null && typeof candidate.value === 'object' && !Array.isArray(candidate.value) && !(candidate.value instanceof RawJson));
      if (objects.length === 0) return value;
      const target = objects[mutation.pick % objects.length]!;
      return withNode(value, [...target.path, mutation.key], mutation.hostile);
    }
  }
}

/** Valid values with one to three hostile mutations laid over them. */
export function nearValidArbitrary(schema: JsonSchema, hints: Hints): fc.Arbitrary<unknown> {
  return fc
    .tuple(validArbitrary(schema, hints), fc.array(mutationArbitrary({ minimum: schema.minimum, maximum: schema.maximum }), { minLength: 1, maxLength: 3 }))
    .map(([valid, mutations]) => mutations.reduce<unknown>((body, mutation) => (body === undefined ? body : mutate(body, schema, mutation)), valid));
}

export interface FuzzedRequest {
  operation: string;
  method: HttpMethod;
  /** Path and query, percent-encoded exactly as sent. */
  url: string;
  headers: Record<string, string>;
  /** Raw body text, or none. */
  body?: string;
  /** The parsed value the body was written from, when it was a generated value: a 2xx tells what was accepted. */
  value?: unknown;
  /** Whether the request carries the operation's own valid credential (so its validators are reached). */
  credentialed: boolean;
}

export interface FuzzContext {
  /** Values of a path parameter that reach the route's logic: the caller's own tenant, a real run. */
  pathValues(operation: FuzzOperation, parameter: string): string[];
  /** An Authorization header that satisfies the operation's requirement; undefined for a public one. */
  credential(operation: FuzzOperation): string | undefined;
  /** Authorization headers that must not get through: none, garbage, the other realm's. */
  wrongCredentials: Array<string | undefined>;
  hints: Hints;
  /** The longest URL to send. In-process, Node answers a longer request line with its own 431, without a problem body. */
  maxUrlLength: number;
  /** The longest single header value to send, for the same reason. */
  maxHeaderLength: number;
}

const HOSTILE_PATH_VALUES = ['not-a-uuid', '\u0000', 'a\u0000b', '99999999999999999999', '-1', '0', '..', '.', '\uD800', '🦄', "'", '00000000-0000-0000-0000-000000000000', 'x'.repeat(2_000), ' ', 'null', 'provision:'];

function pathValueArbitrary(operation: FuzzOperation, parameter: Parameter, context: FuzzContext): fc.Arbitrary<string> {
  const known = context.pathValues(operation, parameter.name);
  return fc.oneof(
    ...(known.length > 0 ? [{ weight: 6, arbitrary: fc.constantFrom(...known) }] : []),
    { weight: 1, arbitrary: validArbitrary(parameter.schema, context.hints, parameter.name).map(String) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_PATH_VALUES) },
    { weight: 1, arbitrary: hostileString({ maxLength: Math.min(2_000, context.maxUrlLength / 12) }) },
  );
}

const numberText = (value: unknown) => (value instanceof RawJson ? value.text : String(value));

function queryValueArbitrary(parameter: Parameter, context: FuzzContext): fc.Arbitrary<string | string[]> {
  const single = fc.oneof(
    { weight: 4, arbitrary: validArbitrary(parameter.schema, context.hints, parameter.name).map(String) },
    { weight: 3, arbitrary: hostileString({ maxLength: 16_500 }) },
    { weight: 2, arbitrary: hostileNumber({ minimum: parameter.schema.minimum, maximum: parameter.schema.maximum }).map(numberText) },
    { weight: 1, arbitrary: fc.constantFrom(...boundaryValues(parameter.schema, undefined).filter((value) => typeof value === 'string' || typeof value === 'number' || value instanceof RawJson)).map(numberText) },
  );
  return fc.oneof({ weight: 6, arbitrary: single }, { weight: 1, arbitrary: fc.array(single, { minLength: 2, maxLength: 3 }) });
}

const EXTRA_QUERIES = ['extra=1', '__proto__%5Bpolluted%5D=1', 'limit%5B%5D=1', 'a%00b=1', '%ED%A0%80=1', '&&&', '=x', 'tenantId', 'cursor=%', 'limit=1&limit=2'];

/** The query string, each value cut (at a character, not inside an escape) until the URL fits the server's limit. */
function queryString(entries: Array<[string, string]>, room: number): string {
  const encoded = entries.map(([key, value]) => [encodeComponent(key), encodeComponent(value)] as [string, string]);
  const length = () => encoded.reduce((total, [key, value]) => total + key.length + value.length + 2, 0);
  while (length() > room) {
    const longest = encoded.reduce((best, entry) => (entry[1].length > best[1].length ? entry : best));
    const cut = longest[1].slice(0, Math.floor(longest[1].length / 2));
    longest[1] = cut.replace(/%[0-9A-F]?$/, '');
  }
  return encoded.map(([key, value]) => `${key}=${value}`).join('&');
}

const IDEMPOTENCY_KEYS = (maxHeaderLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...'abcXYZ0189-_:.!~'.split('')), minLength: 1, maxLength: 200 }) },
    { weight: 2, arbitrary: fc.constantFrom('x'.repeat(201), 'x'.repeat(Math.min(8_000, maxHeaderLength)), 'a b', ' ', '', 'ÿ', 'key\t', '%00', '99999999999999999999') },
  );

const FAULT_HEADERS = ['createOwner:permanent', 'activateTenant:transient:2', 'reserveTenant:permanent', 'nope:permanent', 'createOwner:transient:99', 'x'.repeat(300), ':::'];

function headersArbitrary(operation: FuzzOperation, context: FuzzContext) {
  const valid = context.credential(operation);
  const wrong = context.wrongCredentials.filter((candidate) => candidate !== valid);
  return fc.record({
    authorization: fc.oneof({ weight: 8, arbitrary: fc.constant({ value: valid, credentialed: true }) }, { weight: 2, arbitrary: fc.constantFrom(...wrong).map((value) => ({ value, credentialed: valid === undefined })) }),
    contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constant('application/json; charset=utf-8') }, { weight: 2, arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES) }),
    idempotencyKey: fc.option(IDEMPOTENCY_KEYS(context.maxHeaderLength), { freq: 3, nil: undefined }),
    faultInjection: fc.option(fc.constantFrom(...FAULT_HEADERS), { freq: 8, nil: undefined }),
    accept: fc.option(fc.constantFrom('text/html', 'application/xml', '*/*', 'application/problem+json'), { freq: 6, nil: undefined }),
  });
}

interface BodyChoice {
  text?: string;
  value?: unknown;
}

function bodyArbitrary(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<BodyChoice> {
  const raw = fc.constantFrom(...RAW_BODIES).map((text): BodyChoice => ({ text }));
  if (!operation.body) {
    return fc.oneof({ weight: 8, arbitrary: fc.constant<BodyChoice>({}) }, { weight: 1, arbitrary: raw }, { weight: 1, arbitrary: wrongType().map((value): BodyChoice => ({ text: toJsonText(value), value })) });
  }
  const asBody = (value: unknown): BodyChoice => (value === undefined ? {} : { text: toJsonText(value), value });
  return fc.oneof(
    { weight: 2, arbitrary: validArbitrary(operation.body, context.hints).map(asBody) },
    { weight: 6, arbitrary: nearValidArbitrary(operation.body, context.hints).map(asBody) },
    { weight: 1, arbitrary: fc.oneof(wrongType(), validArbitrary(operation.body, context.hints).map((value) => [value])).map(asBody) },
    { weight: 1, arbitrary: raw },
  );
}

/** Every part of one request to the operation, generated; shown in a failure as method, URL, headers and body. */
export function requestArbitrary(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<FuzzedRequest> {
  const pathModel = Object.fromEntries(operation.pathParameters.map((parameter) => [parameter.name, pathValueArbitrary(operation, parameter, context)]));
  const queryModel = Object.fromEntries(operation.queryParameters.map((parameter) => [parameter.name, queryValueArbitrary(parameter, context)]));
  return fc
    .record({
      path: fc.record(pathModel),
      query: fc.record(queryModel, { requiredKeys: [] }),
      extraQuery: fc.option(fc.constantFrom(...EXTRA_QUERIES), { freq: 5, nil: undefined }),
      body: bodyArbitrary(operation, context),
      headers: headersArbitrary(operation, context),
    })
    .map(({ path, query, extraQuery, body, headers }) => {
      const route = operation.template.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeComponent(path[name] ?? ''));
      const entries = Object.entries(query).flatMap(([name, value]) => (Array.isArray(value) ? value.map((item): [string, string] => [name, item]) : [[name, value] as [string, string]]));
      let search = queryString(entries, context.maxUrlLength - route.length - 200);
      if (extraQuery) search = search ? `${search}&${extraQuery}` : extraQuery;
      const sent: Record<string, string> = {};
      if (headers.authorization.value !== undefined) sent.Authorization = headers.authorization.value;
      if (body.text !== undefined && headers.contentType) sent['Content-Type'] = headers.contentType;
      if (headers.idempotencyKey !== undefined) sent['Idempotency-Key'] = headers.idempotencyKey;
      if (headers.faultInjection !== undefined) sent['X-Fault-Injection'] = headers.faultInjection;
      if (headers.accept !== undefined) sent.Accept = headers.accept;
      for (const [name, value] of Object.entries(sent)) if (!isSendableHeaderValue(value) || value.length > context.maxHeaderLength) delete sent[name];
      return described({
        operation: operation.name,
        method: operation.method,
        url: search ? `${route}?${search}` : route,
        headers: sent,
        body: body.text,
        value: body.value,
        credentialed: headers.authorization.credentialed,
      });
    });
}

/** fast-check prints a counterexample with this: a 100 KB string shows as its start and its length. */
function described(request: FuzzedRequest): FuzzedRequest {
  return Object.assign(request, {
    [fc.toStringMethod]: () => `${request.method.toUpperCase()} ${preview(request.url, 400)} headers ${preview(JSON.stringify(request.headers), 300)} body ${preview(request.body, 400)}`,
  });
}

/** The request as a line of a failure report. */
export const describeRequest = (request: FuzzedRequest) =>
  `${request.method.toUpperCase()} ${preview(request.url, 300)} auth=${request.credentialed ? 'valid' : preview(request.headers.Authorization, 40)} body=${preview(request.body, 300)}`;

/** One request that puts an unstorable character into one string field of an otherwise valid request. */
export interface StringProbe {
  operation: FuzzOperation;
  where: 'body' | 'query' | 'path';
  /** The field, dot-joined as the API's `errors[].path` names it: `steps.0.key`. */
  field: string;
  /** Error paths that name the field: itself, or for a free-form field, the field or anything inside it. */
  names: (errorPath: string) => boolean;
  character: string;
  request: FuzzedRequest;
  /** The same request with the field's valid value in place of the probe: it must not be refused for that field. */
  control: FuzzedRequest;
}

export interface ProbeContext {
  pathValues(operation: FuzzOperation, parameter: string): string[];
  credential(operation: FuzzOperation): string | undefined;
  /** A valid value of a field the document cannot fully describe (a password, a duration), by field name. */
  example(name: string): unknown;
}

const UUID_EXAMPLE = '3f1c2a4e-8b7d-4c6e-9a5f-1b2c3d4e5f60';
let probeCounter = 0;

/** One valid value of a string schema, from a few plain candidates or, failing those, a sample of its pattern. */
function stringExample(schema: JsonSchema): string {
  probeCounter += 1;
  if (schema.format === 'uuid') return UUID_EXAMPLE;
  if (schema.format === 'email') return `probe${probeCounter}@example.com`;
  if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
  const candidates = [`Probe value ${probeCounter}`, `probe-${probeCounter}`, 'governance', `provision:probe-${probeCounter}`, 'probe.event', 'probe'];
  const fits = (value: string) => value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity) && (!schema.pattern || regexOf(schema.pattern).test(value));
  const plain = candidates.find(fits);
  if (plain) return plain;
  return fc.sample(validString(schema), { numRuns: 1, seed: 7 })[0]!;
}

/**
 * Valid examples of a schema that between them take every variant of every oneOf: a plan with a step of each kind.
 */
export function examplesOf(schema: JsonSchema, context: ProbeContext, name?: string): unknown[] {
  const hinted = name === undefined ? undefined : context.example(name);
  if (hinted !== undefined) return [hinted];
  if ('const' in schema) return [schema.const];
  if (schema.enum) return [schema.enum[0]];
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants) return variants.flatMap((variant) => examplesOf(variant, context, name));
  if (isFreeForm(schema)) return [{ probe: 'ok' }];
  switch (typeOf(schema)) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const choices = properties.map(([key, property]) => [key, examplesOf(property, context, key)] as const);
      const base = Object.fromEntries(choices.map(([key, examples]) => [key, examples[0]]));
      return [base, ...choices.flatMap(([key, examples]) => examples.slice(1).map((example) => ({ ...base, [key]: example })))];
    }
    case 'array':
      return examplesOf(schema.items ?? {}, context).map((example) => Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => example));
    case 'integer':
    case 'number':
      return [Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? Infinity)];
    case 'boolean':
      return [false];
    case 'string':
      return [stringExample(schema)];
    default:
      return [{ probe: 'ok' }];
  }
}

const joinPath = (path: Path) => path.join('.');
const spliced = (valid: string, character: string) => `${valid.slice(0, 1)}${character}${valid.slice(1)}`;

/**
 * For every string field of the operation (body at any depth, query and path parameters) and every free-form JSON
 * field, requests that carry `a<char>b`, and the field's own valid value with `<char>` inside, the rest valid.
 * Lone surrogates go only into bodies: a URL carries bytes, and no UTF-8 decoder turns bytes into a lone surrogate.
 */
export function stringFieldProbes(operation: FuzzOperation, context: ProbeContext): StringProbe[] {
  const probes: StringProbe[] = [];
  const pathValues = Object.fromEntries(operation.pathParameters.map((parameter) => [parameter.name, context.pathValues(operation, parameter.name)[0] ?? String(examplesOf(parameter.schema, context, parameter.name)[0])]));
  const queryValues = Object.fromEntries(operation.queryParameters.filter((parameter) => parameter.required).map((parameter) => [parameter.name, String(examplesOf(parameter.schema, context, parameter.name)[0])]));
  const credential = context.credential(operation);
  const build = (overrides: { path?: Record<string, string>; query?: Record<string, string>; body?: unknown }): FuzzedRequest => {
    const path = { ...pathValues, ...overrides.path };
    const route = operation.template.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeComponent(path[name] ?? ''));
    const query = Object.entries({ ...queryValues, ...overrides.query });
    const search = query.map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(value)}`).join('&');
    const headers: Record<string, string> = credential ? { Authorization: credential } : {};
    if (overrides.body !== undefined) headers['Content-Type'] = 'application/json';
    return described({
      operation: operation.name,
      method: operation.method,
      url: search ? `${route}?${search}` : route,
      headers,
      ...(overrides.body !== undefined ? { body: toJsonText(overrides.body), value: overrides.body } : {}),
      credentialed: true,
    });
  };
  const exact = (field: string) => (errorPath: string) => errorPath === field;

  for (const [where, parameters] of [['path', operation.pathParameters], ['query', operation.queryParameters]] as const) {
    for (const parameter of parameters) {
      const valid = where === 'path' ? pathValues[parameter.name]! : String(examplesOf(parameter.schema, context, parameter.name)[0]);
      const control = build({ [where]: { [parameter.name]: valid } });
      for (const value of [`a${UNSTORABLE.nul}b`, spliced(valid, UNSTORABLE.nul)]) {
        probes.push({ operation, where, field: parameter.name, names: exact(parameter.name), character: UNSTORABLE.nul, request: build({ [where]: { [parameter.name]: value } }), control });
      }
    }
  }

  const baseBody = operation.body ? examplesOf(operation.body, context) : [];
  const seen = new Set<string>();
  for (const body of baseBody) {
    for (const slot of slotsOf(body, operation.body)) {
      if (!slot.schema || slot.path.length === 0) continue;
      const field = joinPath(slot.path);
      const freeForm = isFreeForm(slot.schema);
      const textual = typeOf(slot.schema) === 'string' || typeof slot.schema.const === 'string' || (slot.schema.enum ?? []).some((option) => typeof option === 'string');
      if (!freeForm && !textual) continue;
      // One probe per field and schema: a field shared by several variants of a oneOf, with the same schema, once.
      const key = `${field} ${JSON.stringify(slot.schema)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const control = build({ body });
      for (const character of [UNSTORABLE.nul, UNSTORABLE.loneHigh]) {
        const values: Array<{ value: unknown; field: string; control: unknown }> = freeForm
          ? [
              { value: `a${character}b`, field, control: 'ab' },
              { value: { nested: { [`a${character}b`]: 1 } }, field: `${field}.nested`, control: { nested: { ab: 1 } } },
              { value: { nested: ['ok', `a${character}b`] }, field: `${field}.nested.1`, control: { nested: ['ok', 'ab'] } },
            ]
          : [
              { value: `a${character}b`, field, control: slot.value },
              { value: spliced(String(slot.value), character), field, control: slot.value },
            ];
        for (const probe of values) {
          // A free-form field is named by its own path or any path inside it (`steps.0.value.nested`).
          const names = freeForm ? (errorPath: string) => errorPath === field || errorPath.startsWith(`${field}.`) : exact(field);
          probes.push({
            operation,
            where: 'body',
            field: probe.field,
            names,
            character,
            request: build({ body: withNode(body, slot.path, probe.value) }),
            control: freeForm ? build({ body: withNode(body, slot.path, probe.control) }) : control,
          });
        }
      }
    }
  }
  return probes;
}
