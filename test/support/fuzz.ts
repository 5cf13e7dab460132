import fc from 'fast-check';

/**
 * The hostile layer of the fuzz suite: values that break naive parsers, drivers and databases, how to put them on the
 * wire unchanged, and what every answer to them must look like. The OpenAPI-driven generators
 * (test/support/openapi-fuzz.ts) lay these over otherwise valid requests.
 */

/** JSON text spliced into a body as is: what JSON.stringify cannot say (-0, 1e309, 2^53 + 1, 10 000 levels of nesting). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Iterative, so no nesting depth of a generated value can overflow the test's own stack. */
export function toJsonText(value: unknown): string {
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item instanceof RawJson) out.push(item.text);
    else if (item instanceof Literal) out.push(item.text);
    else if (Array.isArray(item)) {
      stack.push(new Literal(']'));
      for (let index = item.length - 1; index >= 0; index -= 1) {
        stack.push(item[index] === undefined ? null : item[index]);
        if (index > 0) stack.push(new Literal(','));
      }
      out.push('[');
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item).filter(([, element]) => element !== undefined);
      stack.push(new Literal('}'));
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, element] = entries[index]!;
        stack.push(element);
        stack.push(new Literal(`${JSON.stringify(key)}:`));
        if (index > 0) stack.push(new Literal(','));
      }
      out.push('{');
    } else out.push(item === undefined ? 'null' : JSON.stringify(item));
  }
  return out.join('');
}

class Literal {
  constructor(readonly text: string) {}
}

/** `levels` arrays inside each other, as text: 10 000 levels stay under the 16 KB body limit. */
export const nestedArrays = (levels: number, closed = true) => new RawJson('['.repeat(levels) + (closed ? ']'.repeat(levels) : ''));
/** `levels` objects inside each other (`{"a":{"a":…}}`), as text. */
export const nestedObjects = (levels: number, key = 'a') => new RawJson(`{${JSON.stringify(key)}:`.repeat(levels) + '1' + '}'.repeat(levels));

/** Characters Postgres `text` and `jsonb` cannot store: a NUL, and UTF-16 surrogates without their other half. */
export const UNSTORABLE = { nul: '\u0000', loneHigh: '\uD800', loneLow: '\uDFFF' } as const;

const HOSTILE_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uDBFFy',
  '\uDC00\uD800',
  '\u202Eevil\u202C',
  'مرحبا بالعالم',
  '🦄'.repeat(40),
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  '\u200B\uFEFF\u2060',
  '\u2028\u2029',
  'İıßǅﬀ',
  '\n\r\t\u0007\u001b[31m',
  "'; drop table tenant; --",
  "' OR '1'='1",
  '$$; select pg_sleep(5); $$',
  '\\x00',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '__proto__',
  'constructor',
  'null',
  'true',
  '[]',
  '{}',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '-1',
  '0x10',
  ' 7 ',
  '99999999999999999999',
  '9223372036854775808',
  '-9223372036854775809',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '{00000000-0000-4000-8000-000000000000}',
  '00000000000040008000000000000000',
  'provision:../../x',
  'step:999',
  'governance\n',
  'a@b',
  'user@[127.0.0.1]',
  'cp_live_aaaaaaaa_' + 'A'.repeat(43),
  'eyJhbGciOiJub25lIn0.e30.',
  'ÿ'.repeat(300),
];

/** Cursors shaped like the API's own, pointing past what a bigint holds or nowhere sensible. */
export const HOSTILE_CURSORS = [
  { beforeId: '99999999999999999999' },
  { beforeId: '9999999999999999999' },
  { beforeId: '9223372036854775808' },
  { beforeId: '-1' },
  { beforeId: 1e308 },
  { beforeId: '1e3' },
  { beforeId: null },
  { beforeId: '1\u0000' },
  {},
  [],
].map((cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url'));

const HUGE_NUMBER_TEXTS = ['99999999999999999999', '9007199254740993', '-9007199254740993', '1e309', '-1e309', '-0', '1E400', '0.0000000000000000000000001', '123456789012345678901234567890.5'];

/** Strings of every shape, with sizes up to `maxLength` code units (so a URL or a header stays under a server limit). */
export function hostileString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 100_000;
  const sizes = [1_000, 10_000, 16_500, 100_000].filter((size) => size <= maxLength);
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_CURSORS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\uD800', '\uDFFF', 'a', '🦄', '\u202E', '%', '/', '.'), maxLength: 20 }) },
    ...(sizes.length > 0 ? [{ weight: 1, arbitrary: fc.tuple(fc.constantFrom(...sizes), fc.constantFrom('a', 'é', '🦄', '\u0000')).map(([size, unit]) => unit.repeat(Math.ceil(size / unit.length))) }] : []),
  );
}

/** Numbers at and past every bound a schema could set, and the ones JSON.stringify cannot write. */
export function hostileNumber(bounds: { minimum?: number; maximum?: number } = {}): fc.Arbitrary<unknown> {
  const edges: unknown[] = [0, -1, 0.5, 2 ** 53, -(2 ** 53), 2 ** 31, 2 ** 63, 1e308, -1e308, Number.MIN_VALUE];
  if (bounds.minimum !== undefined) edges.push(bounds.minimum - 1, bounds.minimum - 0.5, bounds.minimum);
  if (bounds.maximum !== undefined) edges.push(bounds.maximum + 1, bounds.maximum + 0.5, bounds.maximum);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...edges) },
    { weight: 2, arbitrary: fc.constantFrom(...HUGE_NUMBER_TEXTS).map((text) => new RawJson(text)) },
    { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '1', '99999999999999999999', '') },
    { weight: 1, arbitrary: fc.double() },
  );
}

/** What a field of another type receives: objects, arrays, null, booleans, prototype keys, deep nesting. */
export function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
    fc.constant(['a', 1, null]),
    fc.constant({ a: 'b' }),
    fc.constant({ length: 1e9 }),
    fc.constant(JSON.parse('{"__proto__":{"polluted":true}}') as unknown),
    fc.constant({ constructor: { prototype: { polluted: true } } }),
    fc.integer({ min: 2, max: 40 }).map((levels) => nestedObjects(levels)),
    fc.constantFrom(nestedArrays(33), nestedObjects(33), nestedObjects(1_000), nestedArrays(5_000)),
  );
}

/** Any hostile value for any slot of a request body. */
export function hostileValue(bounds: { minimum?: number; maximum?: number } = {}): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 5, arbitrary: hostileString({ maxLength: 16_500 }) }, { weight: 2, arbitrary: hostileNumber(bounds) }, { weight: 2, arbitrary: wrongType() });
}

/** Whole bodies that are not JSON objects, or not JSON at all: the parser and the error handler answer them. */
export const RAW_BODIES = [
  '[',
  '['.repeat(10_000),
  toJsonText(nestedArrays(7_000)),
  toJsonText(nestedObjects(2_500)),
  '{"a":',
  '{"a":1,"a":2}',
  '\uFEFF{}',
  '{}garbage',
  'null',
  '"text"',
  '42',
  '[{}]',
  '',
  ' ',
  '\u0000',
  '{"\\u0000":1}',
  '{"a":"\\ud800"}',
  '{"__proto__":{"polluted":true}}',
  `{"pad":"${'x'.repeat(20_000)}"}`,
];

export const ODD_CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json;;;charset',
  'application/merge-patch+json',
  'application/jsonx',
  '*/*',
  'application/json, text/plain',
];

/**
 * A path segment or query value percent-encoded byte for byte, every character but letters and digits, so the client
 * sends exactly these bytes. A lone surrogate becomes its three-byte (WTF-8) form: no UTF-8 decoder accepts it, which
 * is the point; a URL cannot carry one as a character.
 */
export function encodeComponent(value: string): string {
  let out = '';
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (/[A-Za-z0-9_~-]/.test(value[index]!)) {
      out += value[index];
      continue;
    }
    let codePoint = code;
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < value.length) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        codePoint = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        index += 1;
      }
    }
    out += utf8Bytes(codePoint)
      .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)
      .join('');
  }
  return out;
}

function utf8Bytes(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}

/** Node refuses to send a header value outside tab, printable ASCII and Latin-1; nothing else can be on the wire. */
export const isSendableHeaderValue = (value: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(value);

export interface FuzzedResponse {
  status: number;
  contentType: string;
  body: unknown;
}

/**
 * What is wrong with an answer, or nothing: never a 5xx; every 4xx an RFC 9457 problem whose status matches; every 400
 * a list of `{ path, message }` naming what to fix.
 */
export function responseViolations(response: FuzzedResponse): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`${response.status} is a server error`);
  if (response.status < 400) return problems;
  if (!/^application\/problem\+json/.test(response.contentType)) problems.push(`content-type is "${response.contentType}", not application/problem+json`);
  const body = response.body as { status?: unknown; title?: unknown; errors?: unknown } | null;
  if (body === null || typeof body !== 'object') return [...problems, 'the body is not a JSON object'];
  if (body.status !== response.status) problems.push(`body.status is ${JSON.stringify(body.status)}`);
  if (typeof body.title !== 'string') problems.push('body.title is not a string');
  if (response.status === 400) {
    const errors = body.errors;
    const wellFormed = Array.isArray(errors) && errors.length > 0 && errors.every((error) => typeof error?.path === 'string' && typeof error?.message === 'string');
    if (!wellFormed) problems.push(`400 without errors: [{ path, message }] (title ${JSON.stringify(body.title)})`);
  }
  return problems;
}

/** A request or an answer cut to something a failure message can show. */
export const preview = (text: string | undefined, length = 240) => {
  if (text === undefined) return '(none)';
  const escaped = JSON.stringify(text);
  return escaped.length > length ? `${escaped.slice(0, length)}… (${text.length} chars)` : escaped;
};
