import type { z } from 'zod';

/** mulberry32: a tiny seeded PRNG, so every run sends the same inputs and a failure reproduces. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Values of every JSON type and the strings that break naive code: huge, empty, control characters, unicode, injections. */
function oddValue(random: () => number, depth = 0): unknown {
  const strings = [
    '',
    ' ',
    '\u0000',
    '\n\r\t',
    'a'.repeat(10_000),
    '🦄'.repeat(50),
    "'; drop table tenant; --",
    '../../etc/passwd',
    '%00',
    '<script>alert(1)</script>',
    '00000000-0000-0000-0000-000000000000',
    'ÿ'.repeat(400),
    'owner',
    'cp_live_aaaaaaaa_' + 'A'.repeat(43),
    'eyJhbGciOiJub25lIn0.e30.',
  ];
  const scalars = [null, true, false, 0, -1, 1e308, -0, 3.14, Number.MAX_SAFE_INTEGER + 2];
  const choice = random();
  if (choice < 0.45) return pick(random, strings);
  if (choice < 0.75) return pick(random, scalars);
  if (depth > 2) return [];
  if (choice < 0.87) return Array.from({ length: Math.floor(random() * 3) }, () => oddValue(random, depth + 1));
  return { [pick(random, ['a', 'role', '__proto__', 'constructor', 'email'])]: oddValue(random, depth + 1) };
}

/** A deeply nested value: parsers with recursion limits must refuse it, not crash. */
const deep = (levels: number): unknown => (levels === 0 ? 'bottom' : { nested: deep(levels - 1) });

/**
 * Mutants of a valid body, each made invalid in one way (a field dropped, retyped or added, or the whole body
 * replaced), keeping only those the schema itself refuses: the route must answer each with a problem, not a crash.
 */
export function invalidBodies<Schema extends z.ZodType>(schema: Schema, valid: Record<string, unknown>, options: { seed: number; count: number }): unknown[] {
  const random = seededRandom(options.seed);
  const fields = Object.keys(valid);
  // JSON.parse makes `__proto__` an own key, as express.json does with a hostile body.
  const pollution = Object.assign(JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>, valid);
  const mutants: unknown[] = [null, [], 'text', 42, {}, [valid], deep(200), pollution];
  for (let attempt = 0; mutants.length < options.count && attempt < options.count * 20; attempt += 1) {
    const body: Record<string, unknown> = { ...valid };
    const mutation = random();
    if (mutation < 0.2) delete body[pick(random, fields)];
    else if (mutation < 0.75) body[pick(random, fields)] = oddValue(random);
    else if (mutation < 0.9) body[pick(random, ['extra', 'isAdmin', 'role', 'tenantId', 'constructor', 'id'])] = oddValue(random);
    else for (const field of fields) if (random() < 0.5) body[field] = oddValue(random);
    mutants.push(body);
  }
  return mutants.filter((body) => !schema.safeParse(body).success);
}

/** Garbage for one path segment: the router and the guards must answer it with a 4xx. */
export function oddPathSegments(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const fixed = ['%', '%00', '..', '%2e%2e%2f', 'a'.repeat(2000), '🦄', "'", '00000000-0000-0000-0000-000000000000', ' ', '%20', 'null', 'undefined', '-1'];
  const generated = Array.from({ length: count }, () => encodeURIComponent(String(oddValue(random))).slice(0, 3000) || '%20');
  return [...fixed, ...generated];
}
