/**
 * What Postgres `text` and `jsonb` can hold. A NUL character or an unpaired UTF-16 surrogate makes the write fail the
 * same way on every retry, so input carrying one is refused at the API, and text we store on our own account (error
 * messages, failure details) is made storable first.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
const REPLACEMENT = '\uFFFD';

export const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** The text with every unstorable character replaced, cut to at most `maxLength` code units without splitting a pair. */
export function storableText(value: string, maxLength: number): string {
  let text = value.replace(UNSTORABLE_ALL, REPLACEMENT);
  if (text.length > maxLength) {
    text = text.slice(0, maxLength);
    // A cut between the halves of a pair leaves a lone high surrogate at the end.
    if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  }
  return text;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JsonBounds {
  maxDepth: number;
  maxBytes: number;
}

export interface JsonFault {
  path: Array<string | number>;
  message: string;
}

/**
 * The first reason a parsed JSON value cannot be stored or is too big, or undefined. Walks with an explicit stack, so
 * no nesting depth can overflow the call stack; stops at the first fault.
 */
export function jsonFault(value: unknown, bounds: JsonBounds): JsonFault | undefined {
  const stack: Array<{ value: unknown; path: Array<string | number>; depth: number }> = [{ value, path: [], depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { path, depth } = item;
    const current = item.value;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { path, message: UNSTORABLE_TEXT_MESSAGE };
      continue;
    }
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return { path, message: 'must be a finite number' };
      continue;
    }
    if (current === null || typeof current === 'boolean') continue;
    if (typeof current !== 'object') return { path, message: 'must be a JSON value' };
    if (depth >= bounds.maxDepth) return { path, message: `must be nested at most ${bounds.maxDepth} levels deep` };
    if (Array.isArray(current)) {
      current.forEach((element, index) => stack.push({ value: element, path: [...path, index], depth: depth + 1 }));
      continue;
    }
    for (const [key, element] of Object.entries(current)) {
      if (!isStorableText(key)) return { path: [...path, key], message: `key ${UNSTORABLE_TEXT_MESSAGE}` };
      stack.push({ value: element, path: [...path, key], depth: depth + 1 });
    }
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > bounds.maxBytes) return { path: [], message: `must serialise to at most ${bounds.maxBytes} bytes` };
  return undefined;
}

export interface StoredJsonLimits {
  /** Longer strings are cut to this many code units. */
  maxStringLength?: number;
  /** Deeper nesting is replaced by a marker. */
  maxDepth?: number;
}

/**
 * A copy of a value we store on our own account (failure causes, audit details, a run's plan and steps) that Postgres
 * can always hold: strings and keys made storable and cut, non-finite numbers as null, nesting cut at a fixed depth.
 * Recursive, but only as deep as `maxDepth`.
 */
export function storableJson(value: unknown, limits: StoredJsonLimits = {}, depth = 0): JsonValue {
  const { maxStringLength = 2000, maxDepth = 16 } = limits;
  if (typeof value === 'string') return storableText(value, maxStringLength);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || value === null || value === undefined) return value ?? null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return null;
  if (value instanceof Date) return value.toISOString();
  if (depth >= maxDepth) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((element) => storableJson(element, limits, depth + 1));
  const copy: Record<string, JsonValue> = {};
  for (const [key, element] of Object.entries(value)) {
    if (element !== undefined) copy[storableText(key, 200)] = storableJson(element, limits, depth + 1);
  }
  return copy;
}
