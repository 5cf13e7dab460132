import { touchApiKey } from '../db/credentials';
import type { Orm } from '../db/orm';

/** How fresh a key's `last_used_at` is kept: enough to tell a live key from a forgotten one, cheap at any traffic. */
export const API_KEY_USAGE_COARSENESS_MS = 5 * 60_000;
/** Keys this process remembers having touched; past it the memory starts again (the statement's own guard still holds). */
const REMEMBERED_KEYS = 10_000;

/**
 * Notes that a key was used, without making a read request write: a write happens only when the key's stored last use
 * (read with the key anyway) is older than the coarseness and this process has not just written it, it is not awaited,
 * and its failure is only reported, never the request's.
 */
export function createApiKeyUsage(deps: { orm: Orm; now?: () => Date; coarsenessMs?: number; onError?: (error: unknown) => void }) {
  const now = deps.now ?? (() => new Date());
  const coarsenessMs = deps.coarsenessMs ?? API_KEY_USAGE_COARSENESS_MS;
  const touchedAt = new Map<string, number>();

  return {
    /** Returns the write under way, if one was started (tests await it; the authenticator does not). */
    record(keyId: string, storedLastUse: Date | null): Promise<void> | undefined {
      const at = now();
      const recent = (time: number | undefined) => time !== undefined && at.getTime() - time < coarsenessMs;
      if (recent(storedLastUse === null ? undefined : new Date(storedLastUse).getTime()) || recent(touchedAt.get(keyId))) return undefined;
      if (touchedAt.size >= REMEMBERED_KEYS) touchedAt.clear();
      touchedAt.set(keyId, at.getTime());
      return touchApiKey(deps.orm.em.fork(), { keyId, at, coarsenessMs }).catch((error: unknown) => {
        touchedAt.delete(keyId);
        deps.onError?.(error);
      });
    },
  };
}

export type ApiKeyUsage = ReturnType<typeof createApiKeyUsage>;
