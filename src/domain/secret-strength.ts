/**
 * Whether a machine secret (the access-token key, an operator token) is strong enough for production. These are
 * generated, never typed: a random 32-byte value in hex or base64 has 16 to 40 distinct characters, so fewer than
 * SECRET_MIN_DISTINCT_CHARACTERS means a repeated character, a short pattern or a date, and a placeholder word means
 * a value copied from an example.
 */
export const SECRET_MIN_LENGTH = 32;
export const SECRET_MIN_DISTINCT_CHARACTERS = 10;
const PLACEHOLDER_WORDS = ['changeme', 'change-me', 'change_me', 'secret', 'password', 'example', 'placeholder', 'replace'];

/** Every reason the secret is weak; empty when it is not. Never repeats the secret. */
export function secretWeaknesses(secret: string): string[] {
  const weaknesses: string[] = [];
  if (secret.length < SECRET_MIN_LENGTH) weaknesses.push(`is shorter than ${SECRET_MIN_LENGTH} characters`);
  const distinct = new Set(secret).size;
  if (distinct < SECRET_MIN_DISTINCT_CHARACTERS) weaknesses.push(`has ${distinct} distinct characters, fewer than ${SECRET_MIN_DISTINCT_CHARACTERS}: not a random value`);
  const placeholder = PLACEHOLDER_WORDS.find((word) => secret.toLowerCase().includes(word));
  if (placeholder) weaknesses.push(`contains the placeholder word "${placeholder}"`);
  return weaknesses;
}
