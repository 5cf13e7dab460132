import { randomReadable, randomSecret, secretHash } from './secret-hash';

/** `cp_live_<8 readable chars>`: shown in lists, logs and secret scanners; never enough to authenticate. */
export const API_KEY_PREFIX_PATTERN = /^cp_live_[a-z0-9]{8}$/;
const API_KEY_PATTERN = /^(cp_live_[a-z0-9]{8})_[A-Za-z0-9_-]{43}$/;

export interface MintedApiKey {
  /** The whole key: returned once to its creator, then only its hash exists. */
  key: string;
  prefix: string;
  hash: string;
}

export function mintApiKey(): MintedApiKey {
  const prefix = `cp_live_${randomReadable(8)}`;
  const key = `${prefix}_${randomSecret()}`;
  return { key, prefix, hash: secretHash(key) };
}

export const isApiKeyShaped = (token: string) => API_KEY_PATTERN.test(token);
export const looksLikeApiKey = (token: string) => token.startsWith('cp_live_');
