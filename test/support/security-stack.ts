/**
 * The running stack as an attacker meets it: the control plane started the way `npm start` starts it
 * (startControlPlane: API and worker in one process, hosted mode, mail to the suite's Mailpit) on a port of its own,
 * reached only over real HTTP. Tests in test/security/ use it, and read Postgres and Mailpit only to prove what a
 * refusal did not write or send.
 */
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane';
import type { Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { OPERATORS, TEST_AUTH_SECRET } from './auth';
import { freePort } from './ports';
import { testConfig, testDatabaseUrl, uniqueTaskQueue } from './stack';

export interface HttpAnswer<Body = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, the text otherwise. */
  body: Body;
  text: string;
}

export interface SecurityStack {
  url: string;
  orm: Orm;
  plane: RunningControlPlane;
  /** One request over a real socket; `token` becomes the bearer credential, `from` the client address (X-Forwarded-For). */
  call<Body = any>(method: string, path: string, options?: { token?: string; body?: unknown; from?: string; headers?: Record<string, string> }): Promise<HttpAnswer<Body>>;
  stop(): Promise<void>;
}

export const OPERATOR_TOKENS = Object.values(OPERATORS)
  .map((operator) => `${operator.name}:${operator.role}:${operator.token}`)
  .join(',');

/**
 * Starts the stack with `env` on top of the test config (and, given one, a database URL of the test's own: a proxy). The proxy hop is trusted so each test can speak from
 * client addresses of its own (`from`), as clients behind the production proxy do.
 */
export async function startSecurityStack(env: Record<string, string> = {}, options: { databaseUrl?: string } = {}): Promise<SecurityStack> {
  const config = testConfig({
    AUTH_TOKEN_SECRET: TEST_AUTH_SECRET,
    OPERATOR_TOKENS,
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('security'),
    API_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    TRUST_PROXY_HOPS: '1',
    ...env,
  });
  const plane = await startControlPlane(config, options.databaseUrl ?? testDatabaseUrl(), createLogger('silent'));
  const url = plane.url!;
  return {
    url,
    orm: plane.orm,
    plane,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.from) headers['x-forwarded-for'] = options.from;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), redirect: 'manual' });
      const text = await response.text();
      let body: unknown = text;
      if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') body = JSON.parse(text);
      return { status: response.status, headers: response.headers, body: body as never, text };
    },
    stop: () => plane.stop(),
  };
}
