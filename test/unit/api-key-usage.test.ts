import { API_KEY_USAGE_COARSENESS_MS, createApiKeyUsage } from '../../src/auth/api-key-usage';
import type { Orm } from '../../src/db/orm';

/** An ORM whose every statement is counted and answered by `answer` (no database: the decisions are what is tested). */
function countingOrm(answer: () => Promise<unknown>) {
  const statements: unknown[][] = [];
  const orm = { em: { fork: () => ({ execute: (_sql: string, params: unknown[]) => (statements.push(params), answer()) }) } } as unknown as Orm;
  return { orm, statements };
}

describe('API key last use', () => {
  const start = new Date('2026-12-06T01:00:00Z');

  it('writes at most once per key per window, whatever the traffic', async () => {
    let now = start;
    const { orm, statements } = countingOrm(() => Promise.resolve({ affectedRows: 1 }));
    const usage = createApiKeyUsage({ orm, now: () => now });
    for (let request = 0; request < 100; request += 1) await usage.record('key-1', null);
    expect(statements).toHaveLength(1);
    now = new Date(start.getTime() + API_KEY_USAGE_COARSENESS_MS);
    await usage.record('key-1', start);
    expect(statements).toHaveLength(2);
  });

  it('writes nothing when the stored last use, read with the key, is within the window (another process wrote it)', () => {
    const { orm, statements } = countingOrm(() => Promise.resolve({ affectedRows: 1 }));
    const usage = createApiKeyUsage({ orm, now: () => start });
    expect(usage.record('key-2', new Date(start.getTime() - 60_000))).toBeUndefined();
    expect(statements).toHaveLength(0);
  });

  it('reports a failed write without throwing, and tries again on the next use', async () => {
    const { orm, statements } = countingOrm(() => Promise.reject(new Error('database unavailable')));
    const reported: unknown[] = [];
    const usage = createApiKeyUsage({ orm, now: () => start, onError: (error) => reported.push(error) });
    await expect(usage.record('key-3', null)).resolves.toBeUndefined();
    expect(reported).toEqual([new Error('database unavailable')]);
    await usage.record('key-3', null);
    expect(statements).toHaveLength(2);
  });
});
