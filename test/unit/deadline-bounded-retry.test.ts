/**
 * The Temporal client's retries of a refused call (a server that is down or restarting) end before the call's
 * deadline, with the refusal: an HTTP request then names `temporal` in its 503 instead of being cut off by the
 * request's backstop.
 */
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { dependencyClassOf } from '../../src/api/dependency-problem';
import { defaultDeadlineInterceptor } from '../../src/temporal/call-deadline';
import { deadlineBoundedRetryInterceptor } from '../../src/temporal/deadline-retry';
import { freePort } from '../support/ports';

const DEADLINE_MS = 1500;

async function refusedCall(retry: ReturnType<typeof deadlineBoundedRetryInterceptor>) {
  // Nothing listens there: every attempt is refused at once, as while a Temporal server restarts.
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [defaultDeadlineInterceptor(60_000), retry] });
  const startedAt = Date.now();
  try {
    await connection.withDeadline(startedAt + DEADLINE_MS, () => connection.workflowService.getSystemInfo({}));
    throw new Error('expected the call to fail');
  } catch (error) {
    return { error, ms: Date.now() - startedAt };
  } finally {
    await connection.close();
  }
}

describe('retries of a refused Temporal call', () => {
  it('fails with UNAVAILABLE before the deadline instead of sleeping past it', async () => {
    const { error, ms } = await refusedCall(deadlineBoundedRetryInterceptor());
    expect((error as { code?: number }).code).toBe(14);
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(dependencyClassOf(error)).toBe('temporal');
  });

  it("reproduces the outage it guards against: the SDK's own backoff sleeps past the deadline", async () => {
    const { ms } = await refusedCall(makeGrpcRetryInterceptor(defaultGrpcRetryOptions()));
    expect(ms).toBeGreaterThan(DEADLINE_MS);
  });
});
