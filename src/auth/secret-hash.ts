import { createHash, randomBytes } from 'node:crypto';

/**
 * SHA-256 of a high-entropy secret (API key, refresh token). A fast hash is right here, unlike for passwords: the
 * secret has 256 random bits, so there is nothing to guess, and lookups by hash stay one indexed read.
 */
export const secretHash = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/** 32 random bytes (256 bits), base64url: well above the 128-bit floor. */
export const randomSecret = () => randomBytes(32).toString('base64url');

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Lower-case letters and digits, for visible prefixes people read aloud and grep for. */
export function randomReadable(length: number): string {
  const bytes = randomBytes(length);
  let text = '';
  // 256 is not a multiple of 36: the small bias is harmless in a non-secret display prefix.
  for (const byte of bytes) text += ALPHABET[byte % ALPHABET.length];
  return text;
}
